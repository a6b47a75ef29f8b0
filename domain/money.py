"""Exact money: integer rials, Decimal arithmetic, half-up rounding once per amount."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.reasons import DomainError, Reason

# A generous upper bound (10^16 rials) catches typos such as an extra block of zeros.
MAX_RIAL = 10**16


def to_decimal(value: object) -> Decimal:
    """Exact decimal from int/str/Decimal; floats go through str() so 0.93 stays 0.93."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise DomainError(Reason.INVALID_INPUT, f"عدد نامعتبر: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"عدد نامعتبر: {value!r}") from exc


def round_rial(value: object) -> int:
    """Round an exact amount to whole rials, half up (away from zero for .5)."""
    return int(to_decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_rial(value: int, *, minimum: int = 0, maximum: int = MAX_RIAL, field: str = "amount") -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(Reason.INVALID_INPUT, f"{field}: مبلغ باید عدد صحیح ریالی باشد")
    if value < minimum or value > maximum:
        raise DomainError(Reason.AMOUNT_OUT_OF_RANGE, f"{field}={value}")
    return value


def apply_rate(amount: int, rate: object) -> int:
    """amount × rate as one amount, rounded once."""
    return round_rial(Decimal(amount) * to_decimal(rate))
