"""Bounds of what a sealed bid may carry (R08; issue 10 class 14): the policy's caps on envelope C's
coefficient and on every amount in sealed content, and on the size of a sealed bid and of each
attachment. The values come from config/policy/default.toml `[limits]` (Policy.content_limits()).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.persian import format_rial, persian_digits
from domain.reasons import DomainError, Reason


@dataclass(frozen=True)
class ContentLimits:
    """max_coefficient: the largest coefficient envelope C may state (× the estimate); max_amount_rial:
    the largest amount (rials) any sealed content may state; max_bid_bytes: the largest sealed bid
    (all envelopes, as received); max_attachment_bytes: the largest attachment of envelope B (decoded)."""

    max_coefficient: Decimal
    max_amount_rial: int
    max_bid_bytes: int
    max_attachment_bytes: int


def check_coefficient(value: Decimal, limits: ContentLimits) -> Decimal:
    """`value` if it is at most the policy's max_coefficient.

    Raises: AMOUNT_OUT_OF_RANGE (Persian, naming both). Rule: R08 (sealed content bounds)."""
    if value > limits.max_coefficient:
        raise DomainError(Reason.AMOUNT_OUT_OF_RANGE,
                          f"ضریب {persian_digits(format(value, 'f'))} از سقف مجاز "
                          f"{persian_digits(format(limits.max_coefficient, 'f'))} بیشتر است")
    return value


def check_sealed_amount(value: int, limits: ContentLimits) -> int:
    """`value` (rials) if it is at most the policy's max_amount_rial.

    Raises: AMOUNT_OUT_OF_RANGE (Persian, naming both). Rule: R08 (sealed content bounds)."""
    if value > limits.max_amount_rial:
        raise DomainError(Reason.AMOUNT_OUT_OF_RANGE, f"مبلغ {format_rial(value, persian=True)} ریال از سقف مجاز "
                                                      f"{format_rial(limits.max_amount_rial, persian=True)} ریال بیشتر است")
    return value


def check_size(size_bytes: int, limit_bytes: int, what: str) -> int:
    """`size_bytes` if it is at most `limit_bytes`; `what` names the thing in Persian ("پیشنهاد", "پیوست").

    Raises: INVALID_INPUT (Persian: what, its size and the limit). Rule: R08 (sealed content bounds)."""
    if size_bytes > limit_bytes:
        raise DomainError(Reason.INVALID_INPUT, f"حجم {what} ({format_rial(size_bytes, persian=True)} بایت) از سقف "
                                                f"مجاز ({format_rial(limit_bytes, persian=True)} بایت) بیشتر است")
    return size_bytes
