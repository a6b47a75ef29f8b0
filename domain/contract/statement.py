"""Status statements (R17-R19), computed as scenario-format.md's report rules say.

Cumulative: each statement restates all work to date.
  cumulative = Σ(quantity × price-list unit price) × contract coefficient, rounded half up once
               (lump-sum contracts: Σ × contract amount / estimate, the lump sum's share)
  gross      = cumulative − the previous APPROVED cumulative
  deduction  = gross × rate, rounded half up, for each configured deduction
  penalty    = waste contracts below their minimums, by the policy's approved penalty formula
               (waste-penalty: missing vehicles × rate + missing workers × rate), rounded half up once
  payable    = gross − deductions − penalty
A halted or refused statement moves nothing: the next one is measured from the last approved.
The allowed change, the deduction rates and the penalty formula come from the policy
(config/policy/default.toml) through the caller; nothing here repeats them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.formulas import Formula
from domain.money import apply_rate, check_rial, round_rial, to_decimal
from domain.reasons import DomainError, Reason

APPROVED, HALTED, REFUSED = "approved", "halted", "refused"
# Results a statement keeps once its review ended; anything else is still being signed.
SETTLED = (APPROVED, HALTED, REFUSED)

CONTRACTOR = "contractor"
SUPERVISOR = "supervisor"
EMPLOYER_REVIEWER = "employer_reviewer"
TREASURER = "treasurer"
DEPUTY = "deputy"
STANDARD_PATH: tuple[str, ...] = (CONTRACTOR, SUPERVISOR, EMPLOYER_REVIEWER, TREASURER)


@dataclass(frozen=True)
class WasteTerms:
    """A waste-services contract's minimum active vehicles and workers per period and the rial
    penalty per missing one (R18; tender-rules.md "Status statements and payment", waste item)."""

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


@dataclass(frozen=True, kw_only=True)
class StatementTerms:
    """What the contract and the policy fix for its statements (R17, R18).

    contract_amount_rial: int rials; give coefficient (price-list contracts) or estimate_rial (lump
    sum), exactly one. allowed_change (fraction, e.g. 0.25) and deduction_rates (name -> fraction in
    [0, 1)) are the policy's [defaults] as the contract overrides them. penalty_formula is the policy's
    approved `waste-penalty` formula, required when `waste` is set.
    Raises (on construction): INVALID_INPUT for an unusable amount, rate or coefficient; POLICY_INVALID
    for a waste contract without its penalty formula."""

    contract_amount_rial: int
    allowed_change: Decimal | str
    deduction_rates: Mapping[str, Decimal | str | float]
    coefficient: Decimal | str | float | None = None
    estimate_rial: int | None = None
    waste: WasteTerms | None = None
    penalty_formula: Formula | None = None
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
        if self.waste is not None and self.penalty_formula is None:
            raise DomainError(Reason.POLICY_INVALID, "قرارداد پسماند بدون فرمول مصوب جریمه")


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
    estimate = terms.estimate_rial
    assert estimate is not None  # StatementTerms holds a coefficient or an estimate, exactly one
    return round_rial(total * Decimal(terms.contract_amount_rial) / Decimal(estimate))


def previous_approved_cumulative(earlier: Iterable[tuple[int, str, int]], seq: int) -> int:
    """What a statement is measured from: the cumulative rials of the latest APPROVED statement
    before it, 0 when there is none.

    earlier: (seq, result, cumulative_rial) of the contract's statements, any order; seq: the
    position (1-based) of the statement being computed. Raises: nothing.
    Rule: R17; tender-rules.md "Status statements and payment" (a halted or refused statement moves nothing)."""
    approved = [(s, c) for s, result, c in earlier if result == APPROVED and s < seq]
    return max(approved)[1] if approved else 0


def waste_penalty(terms: StatementTerms, missing_vehicles: int, missing_workers: int) -> int:
    """The penalty in rials for the missing vehicles and workers, by the approved formula, rounded once.

    Raises: POLICY_INVALID when the contract has no waste terms or formula, or the formula fails or
    gives no number.
    Rule: R18; tender-rules.md "Status statements and payment" (waste item: "by the approved formula")."""
    if terms.waste is None or terms.penalty_formula is None:
        raise DomainError(Reason.POLICY_INVALID, "شرایط پسماند یا فرمول مصوب جریمه تعریف نشده است")
    value = terms.penalty_formula.evaluate(
        missing_vehicles=missing_vehicles, missing_workers=missing_workers,
        penalty_per_missing_vehicle_rial=terms.waste.penalty_per_missing_vehicle_rial,
        penalty_per_missing_worker_rial=terms.waste.penalty_per_missing_worker_rial)
    if isinstance(value, bool):
        raise DomainError(Reason.POLICY_INVALID, f"فرمول {terms.penalty_formula.ref} باید عدد بدهد")
    return round_rial(value)


def compute_statement(statement: StatementInput, terms: StatementTerms, price_list: Mapping[str, int],
                      previous_approved_cumulative_rial: int = 0) -> StatementResult:
    """One statement's result: approved with its amounts and approval path, halted or refused.

    statement: cumulative quantities to date (and waste resources); price_list: code -> unit price
    in rials; previous_approved_cumulative_rial: previous_approved_cumulative() of the contract.
    Returns refused STATEMENT_NOT_SIGNED (contractor did not sign), refused STATEMENT_EXCEEDS_CONTRACT
    (beyond amount × (1 + allowed change)), refused AMOUNT_OUT_OF_RANGE (less than already approved),
    halted RESOURCES_NOT_REPORTED (waste contract without vehicles/workers); otherwise approved, on the
    stricter path when below a waste minimum.
    Raises: INVALID_INPUT (unknown item, bad quantity or resource figure), POLICY_INVALID (penalty formula).
    Rule: R17, R18, R19; tender-rules.md "Status statements and payment"."""
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
        penalty = waste_penalty(terms, missing_vehicles, missing_workers)
        if missing_vehicles or missing_workers:
            path = stricter_path(terms.stricter_role)

    gross = cumulative - previous_approved_cumulative_rial
    deductions = {name: apply_rate(gross, rate) for name, rate in terms.deduction_rates.items()}
    payable = gross - sum(deductions.values()) - penalty
    return StatementResult(statement.id, APPROVED, cumulative, gross, deductions, penalty, payable, None,
                           path, missing_vehicles, missing_workers)


def stricter_path(extra_role: str = DEPUTY) -> tuple[str, ...]:
    """The standard path with one more approver (role name) before the treasurer.

    Raises: nothing. Rule: R18; tender-rules.md "Status statements and payment" (stricter path)."""
    return (*STANDARD_PATH[:-1], extra_role, STANDARD_PATH[-1])
