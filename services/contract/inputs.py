"""What a contract's registration and its status statements take as input beyond the award: the
terms the contracts officer enters, the statements the contractor submits and the payment orders
(R12, R13, R17, R29). Rehearsals read them from the scenario file (pilot.contract_world)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.contract.statement import WasteTerms
from domain.reasons import DomainError, Reason
from services.deps import Deps


@dataclass(frozen=True)
class LeaseTerms:
    """A lease's terms (R30): the lessee (bidder id), months, the Gregorian day the first rent is due
    (a Tehran day) and the monthly rent in rials; the rent schedule follows from them
    (domain.contract.income.rent_schedule)."""

    lessee: str
    months: int
    starts: date
    monthly_rent_rial: int


@dataclass(frozen=True)
class IncomeTerms:
    """What an income contract (R30) adds to the terms: the nature as stated (None: from the kind), the
    contract type (general | real_estate | barter), the real-estate transaction (sale, lease, ...)
    and, for a lease, its terms."""

    nature: str | None = None
    type: str = "general"
    transaction: str | None = None
    lease: LeaseTerms | None = None


@dataclass(frozen=True)
class ReceiptOrder:
    """Money received on an income contract at a time (UTC), in rials; `contract_code` as for a
    payment order: `from-award`, empty (to rehearse NO_CONTRACT_CODE) or a literal code (R30)."""

    ref: str
    at: datetime
    amount_rial: int
    contract_code: str = "from-award"


@dataclass(frozen=True)
class ContractTerms:
    """What the contracts officer enters: budget line and expense factor codes, the supervisor's
    national ID, a rehearsal's stop before a stage, deduction rates overriding the policy, waste terms."""

    budget_line: str
    expense_factor: str
    supervisor: str                              # registry national ID of the supervisor
    stop_at_stage: str | None = None             # rehearsals: stop before this stage
    deductions: dict[str, Decimal] = field(default_factory=dict)  # overrides of the policy defaults
    waste: WasteTerms | None = None
    income: IncomeTerms | None = None            # income contracts (R30): type, transaction, lease


@dataclass(frozen=True)
class StatementRequest:
    """A contractor's cumulative status statement: reference, time (UTC), quantity to date per
    price-list item, and for waste services the active vehicles and workers (R17, R20)."""

    ref: str
    at: datetime
    items: tuple[tuple[str, Decimal], ...]       # cumulative quantities to date
    vehicles: int | None = None
    workers: int | None = None
    signed_by_contractor: bool = True


@dataclass(frozen=True)
class PaymentOrder:
    """A request to pay a statement at a time (UTC); `contract_code` is the award's code
    (`from-award`), empty, or a literal code (to rehearse refusals)."""

    ref: str
    statement_ref: str
    at: datetime
    contract_code: str = "from-award"            # "from-award" | "" | a literal code


@dataclass(frozen=True)
class ContractInputs:
    """Everything supplied for one tender's contract: its terms, statements and payment orders, and
    for an income contract the receipts."""

    terms: ContractTerms
    statements: tuple[StatementRequest, ...] = ()
    payments: tuple[PaymentOrder, ...] = ()
    receipts: tuple[ReceiptOrder, ...] = ()      # income contracts (R30)



def inputs_for(deps: Deps, tender_id: str) -> ContractInputs:
    """The contract inputs of a tender from whatever the process was wired with.

    Raises: INVALID_INPUT when the process has no source of contract inputs."""
    if deps.contract_inputs is None:
        raise DomainError(Reason.INVALID_INPUT, "ورودی‌های قرارداد برای این فرایند تنظیم نشده است")
    return deps.contract_inputs(tender_id)
