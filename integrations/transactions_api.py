"""What outside systems may ask the transactions system (this engine).

Outside systems never take contract or statement data from a caller: they fetch it here by
code, so what they record and pay is what the engine holds (R14, R18). The lead implements
`TransactionsSystem` over the store; `InMemoryTransactionsSystem` serves tests and pilots.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from domain.contract.payment import check_contract_usable

StatementResult = Literal["approved", "halted", "refused"]


@dataclass(frozen=True)
class ContractInfo:
    code: str
    tracking_number: str
    unit: str
    stage: str  # draft | legal_review | budget | treasurer | signing | final
    amount_rial: int
    budget_line: str
    expense_factor: str
    contractor_company_id: str
    title: str = ""
    nature: str = "expense"  # expense | income (R30): income contracts take receipts, never payments


@dataclass(frozen=True)
class StatementInfo:
    id: str
    contract_code: str
    result: StatementResult
    payable_rial: int
    signed_by_contractor: bool
    signed_by_treasurer: bool
    signed_xml: bytes


class TransactionsSystem(Protocol):
    def contract_by_code(self, code: str) -> ContractInfo | None:
        ...

    def statement(self, statement_id: str) -> StatementInfo | None:
        ...


class InMemoryTransactionsSystem:
    """A thread-safe dictionary-backed transactions system for tests and rehearsals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contracts: dict[str, ContractInfo] = {}
        self._statements: dict[str, StatementInfo] = {}

    def put_contract(self, contract: ContractInfo) -> ContractInfo:
        with self._lock:
            self._contracts[contract.code] = contract
        return contract

    def set_stage(self, code: str, stage: str) -> ContractInfo:
        with self._lock:
            updated = replace(self._contracts[code], stage=stage)
            self._contracts[code] = updated
        return updated

    def put_statement(self, statement: StatementInfo) -> StatementInfo:
        with self._lock:
            self._statements[statement.id] = statement
        return statement

    def contract_by_code(self, code: str) -> ContractInfo | None:
        with self._lock:
            return self._contracts.get(code)

    def statement(self, statement_id: str) -> StatementInfo | None:
        with self._lock:
            return self._statements.get(statement_id)


def usable_contract(transactions: TransactionsSystem, contract_code: str) -> ContractInfo:
    """The contract the transactions system holds under exactly this code, if nothing may be refused
    for it: a blank code or one the transactions system does not know counts as no code.

    Raises: NO_CONTRACT_CODE, CONTRACT_NOT_FINAL (domain.contract.payment.check_contract_usable).
    Rule: R13, R14."""
    blank = not str(contract_code or "").strip()
    contract = None if blank else transactions.contract_by_code(contract_code)
    known = contract is not None and contract.code == contract_code
    check_contract_usable(contract_code if known else None, contract.stage if contract is not None and known else "",
                          "" if known or blank else f"کد «{contract_code}» در سامانهٔ معاملات نیست")
    assert contract is not None  # check_contract_usable refused every other case
    return contract
