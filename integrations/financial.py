"""The municipality's financial system: expense documents and payments (R13, R18, R20, R28, R29).

The financial system trusts no caller: it re-reads the contract, its registration and the status
statement from the transactions system and pays only what the system's signed data says. It checks
a contract's complete registration when the contract is notified to the contractor
(`contract_notified`) and at every payment (R28).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from domain.contract.payment_data import STATEMENT_PAYMENT_CLASS


@dataclass(frozen=True, kw_only=True)
class StatementCharge:
    """What an expense document or a payment charges: one status statement of one contract, on the
    contract's budget line and expense factor, for an amount in rials. Keyword-only, as are its kinds."""

    contract_code: str
    statement_id: str
    budget_line: str
    expense_factor: str
    amount_rial: int


@dataclass(frozen=True, kw_only=True)
class ExpenseDocumentRequest(StatementCharge):
    document_key: str  # idempotency key chosen by the caller


@dataclass(frozen=True, kw_only=True)
class PaymentRequest(StatementCharge):
    """A request to pay one statement (R29): besides the charge, its payment class (one of
    domain.contract.payment_data.PAYMENT_CLASSES; a statement pays work done after its expense
    document, STATEMENT_PAYMENT_CLASS) and the budget-allocation code it is charged to (the
    contract's own, as its registered terms hold it; None: the financial system takes the contract's)."""

    payment_key: str  # idempotency key chosen by the caller
    payment_class: str = STATEMENT_PAYMENT_CLASS
    budget_allocation_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpenseDocument(StatementCharge):
    """A recorded expense document: the digest of the signed statement it rests on, when (UTC)."""

    document_key: str
    statement_xml_sha256: str
    recorded_at: datetime


@dataclass(frozen=True, kw_only=True)
class PaymentRecord(StatementCharge):
    """A payment made: the digest of the signed statement it paid from, when (UTC)."""

    payment_key: str
    statement_xml_sha256: str
    paid_at: datetime


@dataclass(frozen=True)
class RefusedAttempt:
    kind: str  # payment | expense_document
    request_key: str
    contract_code: str
    statement_id: str
    amount_rial: int | None
    reason: str  # a Reason value
    detail: str
    attempted_at: datetime


class FinancialSystem(Protocol):
    def contract_notified(self, contract_code: str) -> dict[str, Any]:
        """The contract was notified to the contractor: its complete registration is checked (R28).
        Returns {contract_code, result: "complete", registration, checked_at}; raises the refusal."""
        ...

    def record_expense_document(self, req: ExpenseDocumentRequest) -> ExpenseDocument:
        ...

    def pay(self, req: PaymentRequest) -> PaymentRecord:
        ...

    def payment_for_statement(self, statement_id: str) -> PaymentRecord | None:
        ...

    def refused_attempts(self, contract_code: str | None = None) -> list[RefusedAttempt]:
        ...


@runtime_checkable
class ExemptPayments(Protocol):
    """Payments exempt from the budget-line rule (R29: initial petty cash, deposit refund, fee refund),
    made without a statement, once per key. Returns the payment as the financial system recorded it
    ({payment_key, exemption, contract_code, payee, reference, amount_rial, paid_at})."""

    def pay_exempt(self, payment_key: str, exemption: str, amount_rial: int, payee: str, reference: str = "",
                   contract_code: str = "") -> dict[str, Any]:
        ...


# --- receipts on income contracts (R30) ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ReceiptRequest:
    """Money the municipality received on an income contract: the contract code (blank: none), the
    amount in rials, when it was received (aware UTC), the caller's idempotency key."""

    receipt_key: str
    contract_code: str
    amount_rial: int
    received_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReceiptRecord(ReceiptRequest):
    """A receipt the financial system recorded, and when (UTC)."""

    recorded_at: datetime


@runtime_checkable
class IncomeReceipts(Protocol):
    """The financial system's receipts side (R30): it records money received against a contract code
    and refuses, as for payments, a contract without a code or not `final`."""

    def record_receipt(self, req: ReceiptRequest) -> ReceiptRecord:
        ...

    def receipts(self, contract_code: str | None = None) -> list[ReceiptRecord]:
        ...
