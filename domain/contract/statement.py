"""Status statements (R17-R19), computed as scenario-format.md's report rules say.

Cumulative: each statement restates all work to date.
  cumulative = Σ(quantity × price-list unit price) × contract coefficient, rounded half up once
               (lump-sum contracts: Σ × contract amount / estimate, the lump sum's share)
  gross      = cumulative − the previous APPROVED cumulative
  deduction  = gross × rate, rounded half up, for each configured deduction
  penalty    = waste contracts below their minimums: missing vehicles × rate + missing workers × rate
  payable    = gross − deductions − penalty
A halted or refused statement moves nothing: the next one is measured from the last approved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping

from domain.money import apply_rate, check_rial, round_rial, to_decimal
from domain.reasons import DomainError, Reason

APPROVED, HALTED, REFUSED = "approved", "halted", "refused"

CONTRACTOR = "contractor"
SUPERVISOR = "supervisor"
EMPLOYER_REVIEWER = "employer_reviewer"
TREASURER = "treasurer"
DEPUTY = "deputy"
STANDARD_PATH: tuple[str, ...] = (CONTRACTOR, SUPERVISOR, EMPLOYER_REVIEWER, TREASURER)

# Defaults mirror config/policy/default.toml; the flows pass the policy's values.
DEFAULT_DEDUCTIONS: Mapping[str, Decimal] = {
    "retention": Decimal("0.10"), "insurance": Decimal("0.05"), "tax": Decimal("0")}
DEFAULT_ALLOWED_CHANGE = Decimal("0.25")


@dataclass(frozen=True)
class WasteTerms:
    min_vehicles: int
    min_workers: int
    penalty_per_missing_vehicle_rial: int
    penalty_per_missing_worker_rial: int

    def __post_init__(self) -> None:
        for name in ("min_vehicles", "min_workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise DomainError(Reason.INVALID_INPUT, f"{name}: {value!r}")
        check_rial(self.penalty_per_missing_vehicle_rial, field="penalty_per_missing_vehicle_rial")
        check_rial(self.penalty_per_missing_worker_rial, field="penalty_per_missing_worker_rial")


@dataclass(frozen=True)
class StatementTerms:
    """What the contract fixes. Give coefficient (price-list contracts) or estimate_rial (lump sum)."""

    contract_amount_rial: int
    coefficient: Decimal | str | float | None = None
    estimate_rial: int | None = None
    allowed_change: Decimal | str = DEFAULT_ALLOWED_CHANGE
    deduction_rates: Mapping[str, Decimal | str | float] = field(default_factory=lambda: dict(DEFAULT_DEDUCTIONS))
    waste: WasteTerms | None = None
    stricter_role: str = DEPUTY

    def __post_init__(self) -> None:
        check_rial(self.contract_amount_rial, field="contract_amount_rial")
        if (self.coefficient is None) == (self.estimate_rial is None):
            raise DomainError(Reason.INVALID_INPUT, "ضریب پیمان یا برآورد (برای قرارداد مقطوع) — دقیقاً یکی لازم است")
        if self.coefficient is not None and to_decimal(self.coefficient) <= 0:
            raise DomainError(Reason.INVALID_INPUT, f"ضریب پیمان نامعتبر: {self.coefficient}")
        if self.estimate_rial is not None:
            check_rial(self.estimate_rial, minimum=1, field="estimate_rial")
        if to_decimal(self.allowed_change) < 0:
            raise DomainError(Reason.INVALID_INPUT, f"تغییر مجاز نامعتبر: {self.allowed_change}")
        for name, rate in self.deduction_rates.items():
            if not Decimal(0) <= to_decimal(rate) < Decimal(1):
                raise DomainError(Reason.INVALID_INPUT, f"نرخ کسور {name}={rate} باید در بازهٔ [0, 1) باشد")
        if sum((to_decimal(r) for r in self.deduction_rates.values()), Decimal(0)) > 1:
            raise DomainError(Reason.INVALID_INPUT, "جمع نرخ‌های کسور از یک بیشتر است")


@dataclass(frozen=True)
class StatementInput:
    id: str
    items: Mapping[str, object] | Iterable[Mapping[str, object]]  # cumulative quantities to date
    signed_by_contractor: bool
    vehicles: int | None = None
    workers: int | None = None


@dataclass(frozen=True)
class StatementResult:
    id: str
    result: str
    cumulative_rial: int
    gross_rial: int | None
    deductions: dict[str, int]
    penalty_rial: int | None
    payable_rial: int | None
    reason: Reason | None
    approval_path: tuple[str, ...]
    missing_vehicles: int = 0
    missing_workers: int = 0

    @property
    def stricter(self) -> bool:
        return len(self.approval_path) > len(STANDARD_PATH)


def quantities(items: Mapping[str, object] | Iterable[Mapping[str, object]]) -> dict[str, Decimal]:
    """Code -> exact quantity, from a mapping or from the scenario's [{code, quantity}] list."""
    pairs = items.items() if isinstance(items, Mapping) else ((i.get("code"), i.get("quantity")) for i in items)
    out: dict[str, Decimal] = {}
    for code, qty in pairs:
        code = str(code or "").strip()
        if not code or code in out:
            raise DomainError(Reason.INVALID_INPUT, f"کد ردیف تکراری یا خالی: «{code}»")
        q = to_decimal(qty)
        if not q.is_finite() or q < 0:
            raise DomainError(Reason.INVALID_INPUT, f"مقدار نامعتبر برای ردیف {code}: {qty}")
        out[code] = q
    return out


def cumulative_amount(items: Mapping[str, object] | Iterable[Mapping[str, object]],
                      price_list: Mapping[str, int], terms: StatementTerms) -> int:
    """Σ(quantity × unit price) × coefficient (or × amount / estimate), rounded half up once."""
    total = Decimal(0)
    for code, qty in quantities(items).items():
        if code not in price_list:
            raise DomainError(Reason.INVALID_INPUT, f"ردیف «{code}» در فهرست بها نیست")
        total += qty * Decimal(price_list[code])
    if terms.coefficient is not None:
        return round_rial(total * to_decimal(terms.coefficient))
    return round_rial(total * Decimal(terms.contract_amount_rial) / Decimal(terms.estimate_rial))


def compute_statement(statement: StatementInput, terms: StatementTerms, price_list: Mapping[str, int],
                      previous_approved_cumulative_rial: int = 0) -> StatementResult:
    cumulative = cumulative_amount(statement.items, price_list, terms)
    check_rial(previous_approved_cumulative_rial, field="previous_approved_cumulative_rial")

    def stopped(result: str, reason: Reason) -> StatementResult:
        return StatementResult(statement.id, result, cumulative, None, {}, None, None, reason, ())

    if not statement.signed_by_contractor:
        return stopped(REFUSED, Reason.STATEMENT_NOT_SIGNED)
    ceiling = Decimal(terms.contract_amount_rial) * (1 + to_decimal(terms.allowed_change))
    if Decimal(cumulative) > ceiling:
        return stopped(REFUSED, Reason.STATEMENT_EXCEEDS_CONTRACT)
    if cumulative < previous_approved_cumulative_rial:
        # Cumulative statements restate all work to date; less than already approved is a data error.
        return stopped(REFUSED, Reason.AMOUNT_OUT_OF_RANGE)

    missing_vehicles = missing_workers = 0
    penalty = 0
    path = STANDARD_PATH
    if terms.waste is not None:
        if statement.vehicles is None or statement.workers is None:
            return stopped(HALTED, Reason.RESOURCES_NOT_REPORTED)
        for name, value in (("vehicles", statement.vehicles), ("workers", statement.workers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise DomainError(Reason.INVALID_INPUT, f"{name}: {value!r}")
        missing_vehicles = max(0, terms.waste.min_vehicles - statement.vehicles)
        missing_workers = max(0, terms.waste.min_workers - statement.workers)
        penalty = (missing_vehicles * terms.waste.penalty_per_missing_vehicle_rial
                   + missing_workers * terms.waste.penalty_per_missing_worker_rial)
        if missing_vehicles or missing_workers:
            path = stricter_path(terms.stricter_role)

    gross = cumulative - previous_approved_cumulative_rial
    deductions = {name: apply_rate(gross, rate) for name, rate in terms.deduction_rates.items()}
    payable = gross - sum(deductions.values()) - penalty
    return StatementResult(statement.id, APPROVED, cumulative, gross, deductions, penalty, payable, None,
                           path, missing_vehicles, missing_workers)


def stricter_path(extra_role: str = DEPUTY) -> tuple[str, ...]:
    """The standard path with one more approver before the treasurer."""
    return (*STANDARD_PATH[:-1], extra_role, STANDARD_PATH[-1])


class StatementLedger:
    """Statements of one contract in order; only approved ones move the previous cumulative."""

    def __init__(self, terms: StatementTerms, price_list: Mapping[str, int]) -> None:
        self.terms = terms
        self.price_list = dict(price_list)
        self.approved_cumulative_rial = 0
        self.results: dict[str, StatementResult] = {}

    def submit(self, statement: StatementInput) -> StatementResult:
        if statement.id in self.results:
            raise DomainError(Reason.INVALID_INPUT, f"صورت‌وضعیت تکراری: {statement.id}")
        result = compute_statement(statement, self.terms, self.price_list, self.approved_cumulative_rial)
        if result.result == APPROVED:
            self.approved_cumulative_rial = result.cumulative_rial
        self.results[statement.id] = result
        return result
