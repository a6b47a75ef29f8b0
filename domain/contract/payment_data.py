"""What the financial system checks of a contract's registration and of a payment's data (R28, R29).

R28: the financial system checks that a contract is completely registered when the contract is
notified to the contractor and again at every payment (deputy treasurers refuse cheques otherwise).
R29: a payment names the budget line (from the unit's registry, mapped to the municipality's general
code), the expense factor (from its registry, approved by the financial-system committee), the
budget-allocation code (کد تأمین اعتبار) and a payment class; initial petty cash, deposit refunds and
refunds of current fees are exempt from the budget-line rule.

The checks are pure: the caller (the financial-system stub's HTTP service,
integrations.services.financial) fetches the registration from the transactions system by code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.contract.payment import check_contract_usable
from domain.reasons import DomainError, Reason

# Payment classes (R29): before, during or after the expense; prior-year debt; advance (علی‌الحساب).
PAYMENT_CLASSES = ("before_expense", "during_expense", "after_expense", "prior_year_debt", "advance")
# A status statement pays work done, after its expense document (tender-rules.md chain: the financial
# system records the expense document, then the payment).
STATEMENT_PAYMENT_CLASS = "after_expense"
# Payments exempt from the budget-line rule (R29).
EXEMPTIONS = ("initial_petty_cash", "deposit_refund", "fee_refund")


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()


@dataclass(frozen=True)
class RegistrationView:
    """A contract's registration as the transactions system holds it under its code.

    code: the contract code (None or "" before `final`); stage: the workflow stage; budget_line: the
    unit's budget line; budget_general_code: its general code in the unit's budget-line registry (""
    when the line is not in the registry); expense_factor: its code; expense_factor_approved: the
    factor is in the registry and the committee approved it; budget_allocation_code: کد تأمین اعتبار."""

    code: str | None
    stage: str
    budget_line: str
    budget_general_code: str
    expense_factor: str
    expense_factor_approved: bool
    budget_allocation_code: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "stage": self.stage, "budget_line": self.budget_line,
                "budget_general_code": self.budget_general_code, "expense_factor": self.expense_factor,
                "expense_factor_approved": self.expense_factor_approved,
                "budget_allocation_code": self.budget_allocation_code}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegistrationView:
        return cls(code=d.get("code"), stage=str(d.get("stage") or ""), budget_line=str(d.get("budget_line") or ""),
                   budget_general_code=str(d.get("budget_general_code") or ""),
                   expense_factor=str(d.get("expense_factor") or ""),
                   expense_factor_approved=bool(d.get("expense_factor_approved")),
                   budget_allocation_code=str(d.get("budget_allocation_code") or ""))


def check_registration_complete(reg: RegistrationView, subject: str = "") -> None:
    """A contract is completely registered: it has its code and reached `final`, its budget line is
    in the unit's registry with a general code, its expense factor is registered and approved by the
    committee, and it has a budget-allocation code.

    subject: what is being checked, for the detail text only (e.g. "پرداخت p1").
    Raises, first applicable: NO_CONTRACT_CODE, CONTRACT_NOT_FINAL, BUDGET_LINE_MISSING (none, or not
    in the registry), EXPENSE_FACTOR_MISSING (none, unregistered or not approved), FIELD_MISSING
    (budget_allocation_code).
    Rule: R28 (checked at notification to the contractor and at every payment), R29."""
    about = f" ({subject})" if subject else ""
    check_contract_usable(reg.code, reg.stage, subject)
    if _blank(reg.budget_line):
        raise DomainError(Reason.BUDGET_LINE_MISSING, f"قرارداد {reg.code}{about}")
    if _blank(reg.budget_general_code):
        raise DomainError(Reason.BUDGET_LINE_MISSING,
                          f"ردیف بودجهٔ «{reg.budget_line}» قرارداد {reg.code} در فهرست ردیف‌های واحد نیست{about}")
    if _blank(reg.expense_factor):
        raise DomainError(Reason.EXPENSE_FACTOR_MISSING, f"قرارداد {reg.code}{about}")
    if not reg.expense_factor_approved:
        raise DomainError(Reason.EXPENSE_FACTOR_MISSING,
                          f"عامل هزینهٔ «{reg.expense_factor}» ثبت یا به تصویب کمیتهٔ سامانهٔ مالی نرسیده است{about}")
    if _blank(reg.budget_allocation_code):
        raise DomainError(Reason.FIELD_MISSING, f"کد تأمین اعتبار (budget_allocation_code) قرارداد {reg.code}{about}",
                          fields="budget_allocation_code")


def check_payment_class(payment_class: str) -> str:
    """The payment class, one of PAYMENT_CLASSES. Raises: FIELD_MISSING (blank), INVALID_INPUT. Rule: R29."""
    if _blank(payment_class):
        raise DomainError(Reason.FIELD_MISSING, "نوع پرداخت (payment_class)", fields="payment_class")
    if payment_class not in PAYMENT_CLASSES:
        raise DomainError(Reason.INVALID_INPUT, f"نوع پرداخت «{payment_class}» یکی از {', '.join(PAYMENT_CLASSES)} نیست")
    return payment_class


def check_exemption(exemption: str) -> str:
    """The exemption from the budget-line rule, one of EXEMPTIONS.

    Raises: INVALID_INPUT for any other value. Rule: R29."""
    if exemption not in EXEMPTIONS:
        raise DomainError(Reason.INVALID_INPUT, f"معافیت «{exemption}» یکی از {', '.join(EXEMPTIONS)} نیست")
    return exemption


def check_payment_data(reg: RegistrationView, payment_class: str, budget_allocation_code: str | None,
                       subject: str = "") -> None:
    """A payment charged to a contract (not exempt): its class is known, the contract is completely
    registered, and the budget-allocation code the payment names (None: taken from the contract) is
    the contract's own.

    Raises, first applicable: FIELD_MISSING / INVALID_INPUT (payment class), then
    check_registration_complete's reasons, then FIELD_MISSING (a blank allocation code named), then
    INVALID_INPUT (another allocation code).
    Rule: R28, R29."""
    check_payment_class(payment_class)
    check_registration_complete(reg, subject)
    if budget_allocation_code is not None and not budget_allocation_code.strip():
        raise DomainError(Reason.FIELD_MISSING, f"کد تأمین اعتبار پرداخت {subject}".strip(),
                          fields="budget_allocation_code")
    if budget_allocation_code is not None and budget_allocation_code != reg.budget_allocation_code:
        raise DomainError(Reason.INVALID_INPUT,
                          f"کد تأمین اعتبار «{budget_allocation_code}» با کد قرارداد «{reg.budget_allocation_code}» "
                          "یکسان نیست")
