"""Versioned calculation formulas as data, with their approval records (R09).

A formula is an expression evaluated by simpleeval (never Python eval) over exact Decimals.
Only the responsible deputy approves formulas and the technical council's approval is
recorded, so a formula without both is refused. The defaults below mirror tender-rules.md;
production values live in the versioned policy TOML.
"""
from __future__ import annotations

import ast
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from simpleeval import EvalWithCompoundTypes, FeatureNotAvailable, InvalidExpression

from domain.money import round_rial, to_decimal
from domain.reasons import DomainError, Reason

# Enough digits that a square root or a division never loses a rial on amounts up to 10^16.
PRECISION = 60


def _decimals(values: Iterable[object]) -> list[Decimal]:
    return [to_decimal(v) for v in values]


def _sum(values: Iterable[object]) -> Decimal:
    total = Decimal(0)
    for v in values:
        total += to_decimal(v)
    return total


def _mean(values: Iterable[object]) -> Decimal:
    items = _decimals(values)
    if not items:
        raise DomainError(Reason.INVALID_INPUT, "میانگین یک فهرست خالی تعریف نشده است")
    return _sum(items) / len(items)


def _pstdev(values: Iterable[object]) -> Decimal:
    """Population standard deviation: sqrt(Σ(x − mean)² / n), computed in Decimal."""
    items = _decimals(values)
    m = _mean(items)
    variance = _sum((x - m) ** 2 for x in items) / len(items)
    return variance.sqrt()


def _round_rial(value: object) -> Decimal:
    return Decimal(round_rial(value))


def _min(*args: object) -> Decimal:
    items = _decimals(args[0] if len(args) == 1 else args)
    return min(items)


def _max(*args: object) -> Decimal:
    items = _decimals(args[0] if len(args) == 1 else args)
    return max(items)


FUNCTIONS = {
    "mean": _mean,
    "pstdev": _pstdev,
    "sum": _sum,
    "min": _min,
    "max": _max,
    "len": len,
    "round_rial": _round_rial,
    "zip": zip,
    "sqrt": lambda x: to_decimal(x).sqrt(),
}


class _DecimalEval(EvalWithCompoundTypes):
    """simpleeval with numeric literals read as exact Decimals from the source text."""

    def __init__(self, names: Mapping[str, object]) -> None:
        super().__init__(functions=dict(FUNCTIONS), names=dict(names))
        self.nodes[ast.Constant] = self._decimal_constant
        # Formulas need no attribute access; refusing it closes the usual sandbox escapes.
        self.nodes[ast.Attribute] = self._no_attribute

    def _no_attribute(self, node: ast.Attribute) -> object:
        raise FeatureNotAvailable(f"attribute access ({node.attr}) is not allowed in formulas")

    def _decimal_constant(self, node: ast.Constant) -> object:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        # The literal as written ("0.05"), not its binary float approximation.
        text = ast.get_source_segment(self.expr, node)
        return to_decimal(text if text is not None else repr(value))


def _as_decimal_name(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_as_decimal_name(v) for v in value]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return to_decimal(value)
    return value


@dataclass(frozen=True)
class Formula:
    """One approved version of a calculation; identified in minutes by (id, version)."""

    id: str
    version: int
    expression: str
    approved_by: str
    approved_at: datetime
    technical_council_ref: str

    def __post_init__(self) -> None:
        missing = [name for name in ("id", "expression", "approved_by", "technical_council_ref")
                   if not str(getattr(self, name) or "").strip()]
        if missing:
            raise DomainError(Reason.POLICY_INVALID, f"فرمول بدون {', '.join(missing)}")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise DomainError(Reason.POLICY_INVALID, f"نسخهٔ فرمول {self.id} باید عدد صحیح مثبت باشد")
        if not isinstance(self.approved_at, datetime) or self.approved_at.tzinfo is None:
            raise DomainError(Reason.POLICY_INVALID, f"زمان تصویب فرمول {self.id} باید با منطقهٔ زمانی باشد")
        try:
            ast.parse(self.expression, mode="eval")
        except SyntaxError as exc:
            raise DomainError(Reason.POLICY_INVALID, f"عبارت فرمول {self.id} نادرست است: {exc.msg}") from exc

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def evaluate(self, **names: object) -> Decimal | bool:
        """The expression's value over the given names; numbers become exact Decimals."""
        evaluator = _DecimalEval({k: _as_decimal_name(v) for k, v in names.items()})
        with decimal.localcontext() as ctx:
            ctx.prec = PRECISION
            ctx.rounding = decimal.ROUND_HALF_EVEN
            try:
                result = evaluator.eval(self.expression)
            except DomainError:
                raise
            except (InvalidExpression, ArithmeticError, TypeError, ValueError) as exc:
                raise DomainError(Reason.POLICY_INVALID, f"ارزیابی فرمول {self.ref}: {exc}") from exc
        if isinstance(result, bool):
            return result
        return to_decimal(result)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Formula:
        """From a policy TOML table; approved_at may be a TOML datetime or a Jalali string."""
        approved_at = data.get("approved_at")
        if isinstance(approved_at, str):
            from domain.persian import parse_jalali_datetime

            approved_at = parse_jalali_datetime(approved_at)
        try:
            return cls(id=str(data["id"]), version=int(data["version"]),  # type: ignore[arg-type]
                       expression=str(data["expression"]), approved_by=str(data["approved_by"]),
                       approved_at=approved_at,  # type: ignore[arg-type]
                       technical_council_ref=str(data["technical_council_ref"]))
        except KeyError as exc:
            raise DomainError(Reason.POLICY_INVALID, f"فرمول بدون کلید {exc.args[0]}") from exc


# Defaults from tender-rules.md; 1400/01/01 00:00 Tehran is when these rules took effect.
_DEFAULTS_APPROVED_AT = datetime(2021, 3, 20, 20, 30, tzinfo=timezone.utc)
_DEFAULTS_APPROVER = "default:tender-rules.md"
_DEFAULTS_COUNCIL = "tender-rules.md"

ESTIMATE_FORMULA = Formula(
    id="estimate", version=1,
    expression="sum([q * p for q, p in zip(quantities, unit_prices)])",
    approved_by=_DEFAULTS_APPROVER, approved_at=_DEFAULTS_APPROVED_AT,
    technical_council_ref=_DEFAULTS_COUNCIL)

# Applied only with at least ABNORMALLY_LOW_MIN_PRICES valid prices; values = prices + [estimate].
ABNORMALLY_LOW_FORMULA = Formula(
    id="abnormally-low-threshold", version=1,
    expression="mean(values) - pstdev(values)",
    approved_by=_DEFAULTS_APPROVER, approved_at=_DEFAULTS_APPROVED_AT,
    technical_council_ref=_DEFAULTS_COUNCIL)
ABNORMALLY_LOW_MIN_PRICES = 3

GUARANTEE_FORMULA = Formula(
    id="bid-guarantee", version=1,
    expression="round_rial(estimate * 5 / 100)",
    approved_by=_DEFAULTS_APPROVER, approved_at=_DEFAULTS_APPROVED_AT,
    technical_council_ref=_DEFAULTS_COUNCIL)

DEFAULT_FORMULAS: tuple[Formula, ...] = (ESTIMATE_FORMULA, ABNORMALLY_LOW_FORMULA, GUARANTEE_FORMULA)


def guarantee_amount(estimate_rial: int, formula: Formula = GUARANTEE_FORMULA) -> int:
    """The bid guarantee the tender documents require, by the approved formula."""
    return round_rial(formula.evaluate(estimate=estimate_rial))
