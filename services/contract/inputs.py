"""What a contract's registration and its status statements take as input beyond the award: the
terms the contracts officer enters, the statements the contractor submits and the payment orders
(R12, R13, R17, R29). Rehearsals read them from the scenario file (pilot.contract_world)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.contract.statement import WasteTerms
from domain.reasons import DomainError, Reason
from services.deps import Deps


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
    """Everything supplied for one tender's contract: its terms, statements and payment orders."""

    terms: ContractTerms
    statements: tuple[StatementRequest, ...] = ()
    payments: tuple[PaymentOrder, ...] = ()



def inputs_for(deps: Deps, tender_id: str) -> ContractInputs:
    """The contract inputs of a tender from whatever the process was wired with.

    Raises: INVALID_INPUT when the process has no source of contract inputs."""
    if deps.contract_inputs is None:
        raise DomainError(Reason.INVALID_INPUT, "ورودی‌های قرارداد برای این فرایند تنظیم نشده است")
    return deps.contract_inputs(tender_id)
