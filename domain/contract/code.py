"""The contract code (R12): `{unit code}-{Jalali year}-{seq:06d}-{check}`.

The check character is ISO 7064 MOD 37-2 over the code's letters and digits: it catches
every single-character typo and every swap of two adjacent characters, which are the
mistakes people make when they retype a code into another system.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from domain.persian import jalali_year, normalize_digits
from domain.reasons import DomainError, Reason

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_MOD = 37
_UNIT_RE = re.compile(r"^[A-Z0-9]{1,8}$")
_CODE_RE = re.compile(r"^([A-Z0-9]{1,8})-(\d{4})-(\d{6})-([0-9A-Z*])$")
MAX_SEQ = 999_999


def check_character(body: str) -> str:
    """ISO 7064 MOD 37-2 check character of the letters and digits of body (hyphens skipped).

    Raises: INVALID_INPUT for a character outside 0-9, A-Z. Rule: R12 (the contract code)."""
    total = 0
    for ch in body:
        if ch == "-":
            continue
        value = _ALPHABET.find(ch)
        if value < 0 or value >= 36:
            raise DomainError(Reason.INVALID_INPUT, f"نویسهٔ نامعتبر در کد قرارداد: «{ch}»")
        total = ((total + value) * 2) % _MOD
    return _ALPHABET[(_MOD + 1 - total) % _MOD]


def _unit(unit_code: str) -> str:
    unit = normalize_digits(str(unit_code)).strip().upper()
    if not _UNIT_RE.match(unit):
        raise DomainError(Reason.INVALID_INPUT, f"کد واحد برای کد قرارداد نامعتبر است: «{unit_code}»")
    return unit


def code_prefix(unit_code: str, jalali_year: int) -> str:
    """`{UNIT}-{year}-`: what every code of the unit's sequence for that Jalali year starts with.

    Raises: INVALID_INPUT for a malformed unit code. Rule: R12."""
    return f"{_unit(unit_code)}-{jalali_year:04d}-"


def make_contract_code(unit_code: str, jalali_year: int, seq: int) -> str:
    """`{unit code}-{Jalali year}-{seq:06d}-{check}` with Latin digits and upper-case letters.

    unit_code: the unit's code in the policy (1-8 letters/digits); seq: 1..999999.
    Raises: INVALID_INPUT for a malformed unit code, year outside 1300-1999 or seq out of range.
    Rule: R12; tender-rules.md "Contract registration" (the code is issued only at `final`)."""
    unit = _unit(unit_code)
    if not isinstance(jalali_year, int) or not 1300 <= jalali_year <= 1999:
        raise DomainError(Reason.INVALID_INPUT, f"سال شمسی نامعتبر: «{jalali_year}»")
    if not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ ردیف قرارداد نامعتبر: «{seq}»")
    body = f"{unit}-{jalali_year:04d}-{seq:06d}"
    return f"{body}-{check_character(body)}"


def validate_contract_code(code: str) -> str:
    """The code normalised (Latin digits, upper case).

    Raises: INVALID_INPUT when malformed or when the check character shows a typo. Rule: R12."""
    raw = normalize_digits(str(code or "")).strip().upper()
    match = _CODE_RE.match(raw)
    if not match:
        raise DomainError(Reason.INVALID_INPUT, f"قالب کد قرارداد نادرست است: «{code}»")
    body = raw[: raw.rfind("-")]
    if check_character(body) != match.group(4):
        raise DomainError(Reason.INVALID_INPUT, f"نویسهٔ کنترل کد قرارداد نادرست است؛ احتمالاً اشتباه تایپی: «{code}»")
    return raw


def parse_contract_code(code: str) -> tuple[str, int, int]:
    """(unit code, Jalali year, sequence) of a valid code.

    Raises: INVALID_INPUT (validate_contract_code). Rule: R12."""
    match = _CODE_RE.match(validate_contract_code(code))
    assert match is not None  # validate_contract_code guarantees the shape
    return match.group(1), int(match.group(2)), int(match.group(3))


class ContractCodeSequence:
    """The one contract-code generator: `(unit id, at) -> code`, the next of the unit's sequence for
    the Tehran Jalali year of `at` (a `domain.contract.workflow.CodeGenerator`).

    unit_code_of(unit id) -> the unit's code (the policy's; it raises UNKNOWN_UNIT for an unknown
    unit); issued(unit id, prefix) -> how many codes starting with `code_prefix(...)` the unit holds
    already (the store counts them inside the transaction that writes the new one).
    Raises: those of unit_code_of, INVALID_INPUT (make_contract_code). Rule: R12."""

    def __init__(self, unit_code_of: Callable[[str], str], issued: Callable[[str, str], int]) -> None:
        self._unit_code_of = unit_code_of
        self._issued = issued

    def __call__(self, unit: str, at: datetime) -> str:
        unit_code = self._unit_code_of(unit)
        year = jalali_year(at)
        return make_contract_code(unit_code, year, self._issued(unit, code_prefix(unit_code, year)) + 1)
