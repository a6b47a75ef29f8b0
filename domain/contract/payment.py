"""The payment gate (R13, R14, R18, R20): what the financial and project-control systems refuse, in a
fixed order (tender-rules.md, "Status statements and payment").

`check_payment` is the whole gate; its parts are public because the project-control system needs
only the contract part (`check_contract_usable`) and the engine, before it asks the financial
system, checks only the duplicate (`check_not_paid`): an idempotency key reused for a paid
statement would otherwise read as a retry.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.persian import normalize_digits
from domain.reasons import DomainError, Reason

FINAL_STAGE = "final"
APPROVED = "approved"


@dataclass(frozen=True)
class ContractView:
    """What the gate needs of a contract: its code (None before `final`) and its workflow stage."""

    code: str | None
    stage: str


@dataclass(frozen=True)
class StatementView:
    """What the gate needs of a status statement.

    result: approved | halted | refused. The statement counts as signed only when both the
    contractor's and the treasurer's signatures are on it (R17, R18)."""

    id: str
    result: str
    treasurer_signed: bool
    contractor_signed: bool


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()


def check_contract_usable(code: str | None, stage: str, subject: str = "") -> None:
    """Nothing is recorded or paid for a contract without a code or whose workflow has not ended.

    code: the contract code the caller holds (None or blank: none); stage: its workflow stage;
    subject: what is being refused, for the detail text only (e.g. "صورت‌وضعیت s1").
    Raises: NO_CONTRACT_CODE, then CONTRACT_NOT_FINAL.
    Rule: R13, R14; tender-rules.md "Status statements and payment" (last item)."""
    about = f" ({subject})" if subject else ""
    if _blank(code):
        raise DomainError(Reason.NO_CONTRACT_CODE, f"کد قرارداد ندارد{about}")
    if stage != FINAL_STAGE:
        raise DomainError(Reason.CONTRACT_NOT_FINAL, f"{code}: مرحلهٔ فعلی {stage}{about}")


def check_statement_payable(statement: StatementView) -> None:
    """Only an approved statement signed by the contractor and the treasurer is paid.

    Raises: STATEMENT_NOT_APPROVED, then STATEMENT_NOT_SIGNED (naming the missing signatures).
    Rule: R17, R18; tender-rules.md "Status statements and payment" (chain)."""
    if statement.result != APPROVED:
        raise DomainError(Reason.STATEMENT_NOT_APPROVED, f"صورت‌وضعیت {statement.id}: {statement.result}")
    missing = [who for who, signed in (("پیمانکار", statement.contractor_signed),
                                       ("ذی‌حساب", statement.treasurer_signed)) if not signed]
    if missing:
        raise DomainError(Reason.STATEMENT_NOT_SIGNED, f"صورت‌وضعیت {statement.id}: امضای " + "، ".join(missing))


def check_payment_lines(budget_line: str | None, expense_factor: str | None, statement_id: str) -> None:
    """A payment names the budget line and the expense factor it is charged to.

    Raises: BUDGET_LINE_MISSING, then EXPENSE_FACTOR_MISSING (None or blank counts as missing).
    Rule: R20; tender-rules.md "Status statements and payment" (last item)."""
    if _blank(budget_line):
        raise DomainError(Reason.BUDGET_LINE_MISSING, f"صورت‌وضعیت {statement_id}")
    if _blank(expense_factor):
        raise DomainError(Reason.EXPENSE_FACTOR_MISSING, f"صورت‌وضعیت {statement_id}")


def check_not_paid(statement_id: str, already_paid: bool) -> None:
    """A statement is paid once.

    Raises: DUPLICATE_PAYMENT when already_paid.
    Rule: R18; tender-rules.md "Status statements and payment" (last item)."""
    if already_paid:
        raise DomainError(Reason.DUPLICATE_PAYMENT, f"صورت‌وضعیت {statement_id}")


def check_payment(contract: ContractView, statement: StatementView, budget_line: str | None,
                  expense_factor: str | None, already_paid: bool) -> None:
    """The whole payment gate: returns None when the payment may be recorded.

    Raises, first applicable in this order: NO_CONTRACT_CODE, CONTRACT_NOT_FINAL (check_contract_usable),
    STATEMENT_NOT_APPROVED, STATEMENT_NOT_SIGNED (check_statement_payable), BUDGET_LINE_MISSING,
    EXPENSE_FACTOR_MISSING (check_payment_lines), DUPLICATE_PAYMENT (check_not_paid).
    Rule: R13, R14, R17, R18, R20; tender-rules.md "Status statements and payment"."""
    check_contract_usable(contract.code, contract.stage, f"صورت‌وضعیت {statement.id}")
    check_statement_payable(statement)
    check_payment_lines(budget_line, expense_factor, statement.id)
    check_not_paid(statement.id, already_paid)


def payment_key(contract_code: str, statement_id: str) -> str:
    """Idempotency key (64 hex characters): every request to pay the same statement of the same
    contract gets the same key; codes and ids are compared with Latin digits, codes case-blind.

    Raises: nothing. Rule: R18 (a statement is paid once, a retry is not a second payment)."""
    code = normalize_digits(str(contract_code)).strip().upper()
    sid = normalize_digits(str(statement_id)).strip()
    # Length-prefixed so ("A-1", "2") and ("A", "1-2") can never collide.
    material = f"payment:v1:{len(code)}:{code}:{len(sid)}:{sid}".encode()
    return hashlib.sha256(material).hexdigest()
