"""Versioned calculation formulas as data, with their approval records (R09).

A formula is an expression evaluated by simpleeval (never Python eval) over exact Decimals.
Only the responsible deputy approves formulas and the technical council's approval is
recorded, so a formula without both is refused. Which formulas are approved (estimate,
abnormally-low, guarantee, waste-penalty) lives only in the versioned policy TOML
(config/policy/default.toml `[[formulas]]`); code never carries a copy.
"""
from __future__ import annotations

import ast
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
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


def _one_list_or_args(args: tuple[object, ...]) -> list[Decimal]:
    # min(values) or min(a, b, ...), as Python's min and max take them.
    if len(args) == 1 and isinstance(args[0], Iterable):
        return _decimals(args[0])
    return _decimals(args)


def _min(*args: object) -> Decimal:
    return min(_one_list_or_args(args))


def _max(*args: object) -> Decimal:
    return max(_one_list_or_args(args))


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
        """The expression's value over the given names; numbers (and lists of them) become exact
        Decimals, computed with 60 significant digits; the result is a Decimal (or a bool).

        Raises: POLICY_INVALID when the expression cannot be evaluated over these names.
        Rule: R09 (formulas are versioned data, evaluated with simpleeval, never Python eval)."""
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
