"""The payment gate (R13, R14, R20): what the financial system refuses, in a fixed order."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.persian import normalize_digits
from domain.reasons import DomainError, Reason

FINAL_STAGE = "final"
APPROVED = "approved"


@dataclass(frozen=True)
class ContractView:
    code: str | None
    stage: str


@dataclass(frozen=True)
class StatementView:
    id: str
    result: str  # approved | halted | refused
    treasurer_signed: bool


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()


def check_payment(contract: ContractView, statement: StatementView, budget_line: str | None,
                  expense_factor: str | None, already_paid: bool) -> None:
    """None when the payment may be recorded; otherwise the first refusal in the order below."""
    if _blank(contract.code):
        raise DomainError(Reason.NO_CONTRACT_CODE, f"صورت‌وضعیت {statement.id}")
    if contract.stage != FINAL_STAGE:
        raise DomainError(Reason.CONTRACT_NOT_FINAL, f"مرحلهٔ فعلی: {contract.stage}")
    if statement.result != APPROVED:
        raise DomainError(Reason.STATEMENT_NOT_APPROVED, f"صورت‌وضعیت {statement.id}: {statement.result}")
    if not statement.treasurer_signed:
        raise DomainError(Reason.STATEMENT_NOT_SIGNED, f"امضای ذی‌حساب بر صورت‌وضعیت {statement.id}")
    if _blank(budget_line):
        raise DomainError(Reason.BUDGET_LINE_MISSING, f"صورت‌وضعیت {statement.id}")
    if _blank(expense_factor):
        raise DomainError(Reason.EXPENSE_FACTOR_MISSING, f"صورت‌وضعیت {statement.id}")
    if already_paid:
        raise DomainError(Reason.DUPLICATE_PAYMENT, f"صورت‌وضعیت {statement.id}")


def payment_key(contract_code: str, statement_id: str) -> str:
    """Idempotency key: every request to pay the same statement of the same contract gets the same key."""
    code = normalize_digits(str(contract_code)).strip().upper()
    sid = normalize_digits(str(statement_id)).strip()
    # Length-prefixed so ("A-1", "2") and ("A", "1-2") can never collide.
    material = f"payment:v1:{len(code)}:{code}:{len(sid)}:{sid}".encode("utf-8")
    return hashlib.sha256(material).hexdigest()
