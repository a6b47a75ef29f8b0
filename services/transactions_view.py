"""The transactions system as outside systems see it (integrations.transactions_api), read from the store.

The financial and project-control systems fetch contracts by code and statements by id here, so
what they record and pay is exactly what this system holds and has signed (R14, R18).

Each answer is one prebuilt Core SELECT (built once at import, run with parameters: building a
statement costs more than running it). `StoreTransactionsSystem.on_connection` runs the reads on a
caller's connection, inside its transaction (the financial stub's payment gate decides on one
connection and in one transaction: issue 13 benchmark, issue 15); told which statement the caller
will ask for, it reads the contract, its registration and that statement in one SELECT."""
from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, and_, bindparam, exists, literal_column, select
from sqlalchemy.orm import sessionmaker

from domain.contract.payment_data import RegistrationView
from domain.contract.statement import SETTLED
from integrations.transactions_api import ContractInfo, StatementInfo
from services.signers import COMPANY_SIGNATORY
from store import models as m

SEPARATOR = "/"

_C = m.Contract.__table__
_BL = m.BudgetLine.__table__
_EF = m.ExpenseFactor.__table__
_ST = m.StatusStatement.__table__
_SIG = m.SignatureRow.__table__

# The contract under a code with what its registration needs from the unit's budget-line registry and
# the expense-factor registry (contract code, (unit, line code) and factor code are unique: at most one row).
_CONTRACT_BY_CODE = (
    select(_C.c.code, _C.c.tracking_number, _C.c.unit_id, _C.c.stage, _C.c.amount_rial, _C.c.budget_line,
           _C.c.expense_factor, _C.c.contractor_id, _C.c.data_json, _BL.c.general_code,
           _EF.c.id.label("factor_id"), _EF.c.approved_at.label("factor_approved_at"))
    .select_from(_C)
    .outerjoin(_BL, and_(_BL.c.unit_id == _C.c.unit_id, _BL.c.code == _C.c.budget_line))
    .outerjoin(_EF, _EF.c.code == _C.c.expense_factor)
    .where(_C.c.code == bindparam("code")))


def _signed_by(role: str) -> Any:
    return exists().where(_SIG.c.document_kind == "status_statement", _SIG.c.document_id == bindparam("sid"),
                          _SIG.c.role == role, _SIG.c.reason.is_(None))


# A statement by its contract's tracking number and its ref (both unique: at most one row), with whether
# each party's signature verified.
_STATEMENT = (
    select(_C.c.code.label("statement_contract_code"), _ST.c.result, _ST.c.payable_rial, _ST.c.xml,
           _signed_by(COMPANY_SIGNATORY).label("by_contractor"), _signed_by("treasurer").label("by_treasurer"))
    .select_from(_C).join(_ST, _ST.c.contract_id == _C.c.id)
    .where(_C.c.tracking_number == bindparam("tracking"), _ST.c.ref == bindparam("ref")))

# Both in one SELECT of exactly one row: the contract (with its registration) and the statement each
# LEFT JOINed to a one-row base, NULL where absent (contract_id NULL: no contract; result NULL: no statement).
_ONE = select(literal_column("1").label("one")).subquery("one")
_SC = _C.alias("statement_contract")
_CONTRACT_AND_STATEMENT = (
    select(*_CONTRACT_BY_CODE.selected_columns, _C.c.id.label("contract_id"),
           _SC.c.code.label("statement_contract_code"), _ST.c.result, _ST.c.payable_rial, _ST.c.xml,
           _signed_by(COMPANY_SIGNATORY).label("by_contractor"), _signed_by("treasurer").label("by_treasurer"))
    .select_from(
        _ONE.outerjoin(_C, _C.c.code == bindparam("code"))
        .outerjoin(_BL, and_(_BL.c.unit_id == _C.c.unit_id, _BL.c.code == _C.c.budget_line))
        .outerjoin(_EF, _EF.c.code == _C.c.expense_factor)
        .outerjoin(_SC.join(_ST, _ST.c.contract_id == _SC.c.id),
                   and_(_SC.c.tracking_number == bindparam("tracking"), _ST.c.ref == bindparam("ref")))))






def statement_key(tracking_number: str, ref: str) -> str:
    """A statement's id across the municipality: the contract's tracking number and the statement's ref."""
    return f"{tracking_number}{SEPARATOR}{ref}"


class StoreTransactionsSystem:
    """integrations.transactions_api.TransactionsSystem over the engine's store (and the financial
    stub's RegistrationReader). Each read runs on its own connection, or on the caller's connection
    for a reader from `on_connection`."""

    def __init__(self, sessions: sessionmaker, *, _conn: Connection | None = None,
                 _statement_id: str | None = None) -> None:
        self._sessions = sessions
        self._engine: Engine = sessions.kw["bind"]
        self._conn = _conn
        # A reader on a caller's connection serves one decision: a contract read once is the same
        # contract for the rest of it (its registration and the contract itself are one row), and the
        # statement the caller said it would ask for is read with the first contract.
        self._contracts: dict[str, Row[Any] | None] = {}
        self._statements: dict[str, StatementInfo | None] = {}
        # (the statement still to read with the first contract, when it names one)
        self._expected = _statement_id if _conn is not None and _split(_statement_id) is not None else None

    def on_connection(self, engine: Engine, conn: Connection, *,
                      statement_id: str | None = None) -> StoreTransactionsSystem | None:
        """A reader running its reads on `conn` (a connection of `engine`, inside the caller's
        transaction), remembering the contracts it read; None when `engine` is not this store's engine
        (the caller then reads through this reader as it is). `statement_id`: the statement the caller
        will ask for (statement_key), read in the same SELECT as the first contract (same answers)."""
        if engine is not self._engine:
            return None
        return StoreTransactionsSystem(self._sessions, _conn=conn, _statement_id=statement_id)

    def _run(self, statement: Any, params: dict[str, Any]) -> Row[Any] | None:
        if self._conn is not None:
            return self._conn.execute(statement, params).first()
        with self._engine.connect() as conn:
            return conn.execute(statement, params).first()

    def _contract_row(self, code: str) -> Row[Any] | None:
        if self._conn is None:
            return self._run(_CONTRACT_BY_CODE, {"code": code})
        if code not in self._contracts:
            if self._expected is not None:
                sid, self._expected = self._expected, None
                tracking, ref = cast(tuple[str, str], _split(sid))
                row = cast("Row[Any]", self._conn.execute(
                    _CONTRACT_AND_STATEMENT, {"code": code, "tracking": tracking, "ref": ref, "sid": sid}).one())
                self._contracts[code] = row if row.contract_id is not None else None
                self._statements[sid] = _statement(sid, row)
            else:
                self._contracts[code] = self._run(_CONTRACT_BY_CODE, {"code": code})
        return self._contracts[code]

    def contract_by_code(self, code: str) -> ContractInfo | None:
        """The contract under `code` (surrounding blanks ignored), or None (a blank code included)."""
        if not code or not str(code).strip():
            return None
        row = self._contract_row(str(code).strip())
        return _contract(row) if row is not None else None

    def registration(self, code: str) -> RegistrationView | None:
        """The registration of the contract under exactly this code, as the financial system checks it
        (R28, R29): stage, budget line with its general code from the unit's budget-line registry ("" when
        the line is not in it), expense factor and whether the registry holds it approved by the
        committee, budget-allocation code. None when no contract has this code (a blank code included)."""
        if not code or not str(code).strip():
            return None
        row = self._contract_row(str(code).strip())
        if row is None:
            return None
        fields = json.loads(row.data_json or "{}").get("fields", {})
        return RegistrationView(code=row.code, stage=row.stage, budget_line=row.budget_line or "",
                                budget_general_code=(row.general_code or "") if row.budget_line else "",
                                expense_factor=row.expense_factor or "",
                                expense_factor_approved=bool(row.expense_factor) and row.factor_id is not None
                                and row.factor_approved_at is not None,
                                budget_allocation_code=str(fields.get("budget_allocation_code") or ""))

    def statement(self, statement_id: str) -> StatementInfo | None:
        """The settled statement under `statement_id` (statement_key), or None (unknown, or in review)."""
        if statement_id in self._statements:
            return self._statements[statement_id]
        parts = _split(statement_id)
        if parts is None:
            return None
        row = self._run(_STATEMENT, {"tracking": parts[0], "ref": parts[1], "sid": statement_id})
        return _statement(statement_id, row) if row is not None else None


def _split(statement_id: str | None) -> tuple[str, str] | None:
    """(tracking number, ref) of a statement_key, or None when it names no statement."""
    tracking, sep, ref = str(statement_id or "").rpartition(SEPARATOR)
    return (tracking, ref) if sep and tracking and ref else None


def _statement(statement_id: str, row: Row[Any]) -> StatementInfo | None:
    """The statement in `row` (of _STATEMENT or _CONTRACT_AND_STATEMENT), None unless settled."""
    if row.result not in SETTLED:  # (None: no such statement)
        return None
    return StatementInfo(id=statement_id, contract_code=row.statement_contract_code or "", result=row.result,
                         payable_rial=row.payable_rial if row.result == "approved" else 0,
                         signed_by_contractor=bool(row.by_contractor), signed_by_treasurer=bool(row.by_treasurer),
                         signed_xml=row.xml or b"")


def _contract(row: Row[Any]) -> ContractInfo:
    data = json.loads(row.data_json or "{}")
    title = data.get("fields", {}).get("subject", "")
    # Contracts registered before R30 were all expense contracts.
    return ContractInfo(code=row.code or "", tracking_number=row.tracking_number, unit=row.unit_id, stage=row.stage,
                        amount_rial=row.amount_rial, budget_line=row.budget_line or "",
                        expense_factor=row.expense_factor or "", contractor_company_id=row.contractor_id, title=title,
                        nature=data.get("nature") or "expense")
