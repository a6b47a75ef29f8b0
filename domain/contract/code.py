"""The contract code (R12): `{unit code}-{Jalali year}-{seq:06d}-{check}`.

The check character is ISO 7064 MOD 37-2 over the code's letters and digits: it catches
every single-character typo and every swap of two adjacent characters, which are the
mistakes people make when they retype a code into another system.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from domain.persian import jalali_year, normalize_digits
from domain.reasons import DomainError, Reason

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_MOD = 37
_UNIT_RE = re.compile(r"^[A-Z0-9]{1,8}$")
_CODE_RE = re.compile(r"^([A-Z0-9]{1,8})-(\d{4})-(\d{6})-([0-9A-Z*])$")
MAX_SEQ = 999_999


def check_character(body: str) -> str:
    """ISO 7064 MOD 37-2 check character of the letters and digits of body."""
    total = 0
    for ch in body:
        if ch == "-":
            continue
        value = _ALPHABET.find(ch)
        if value < 0 or value >= 36:
            raise DomainError(Reason.INVALID_INPUT, f"نویسهٔ نامعتبر در کد قرارداد: «{ch}»")
        total = ((total + value) * 2) % _MOD
    return _ALPHABET[(_MOD + 1 - total) % _MOD]


def make_contract_code(unit_code: str, jalali_year: int, seq: int) -> str:
    unit = normalize_digits(str(unit_code)).strip().upper()
    if not _UNIT_RE.match(unit):
        raise DomainError(Reason.INVALID_INPUT, f"کد واحد برای کد قرارداد نامعتبر است: «{unit_code}»")
    if not isinstance(jalali_year, int) or not 1300 <= jalali_year <= 1999:
        raise DomainError(Reason.INVALID_INPUT, f"سال شمسی نامعتبر: «{jalali_year}»")
    if not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ ردیف قرارداد نامعتبر: «{seq}»")
    body = f"{unit}-{jalali_year:04d}-{seq:06d}"
    return f"{body}-{check_character(body)}"


def validate_contract_code(code: str) -> str:
    """Normalised code (Latin digits, upper case) or INVALID_INPUT if malformed or mistyped."""
    raw = normalize_digits(str(code or "")).strip().upper()
    match = _CODE_RE.match(raw)
    if not match:
        raise DomainError(Reason.INVALID_INPUT, f"قالب کد قرارداد نادرست است: «{code}»")
    body = raw[: raw.rfind("-")]
    if check_character(body) != match.group(4):
        raise DomainError(Reason.INVALID_INPUT, f"نویسهٔ کنترل کد قرارداد نادرست است؛ احتمالاً اشتباه تایپی: «{code}»")
    return raw


def parse_contract_code(code: str) -> tuple[str, int, int]:
    """(unit code, Jalali year, sequence) of a valid code."""
    match = _CODE_RE.match(validate_contract_code(code))
    assert match is not None  # validate_contract_code guarantees the shape
    return match.group(1), int(match.group(2)), int(match.group(3))


class InMemoryCodeGenerator:
    """Per unit and Jalali year sequence; the store provides a persistent one with the same call."""

    def __init__(self, unit_codes: dict[str, str], start: dict[tuple[str, int], int] | None = None) -> None:
        self._unit_codes = dict(unit_codes)
        self._last: dict[tuple[str, int], int] = defaultdict(int, start or {})

    def __call__(self, unit: str, at: datetime) -> str:
        try:
            unit_code = self._unit_codes[unit]
        except KeyError:
            raise DomainError(Reason.UNKNOWN_UNIT, f"«{unit}»") from None
        year = jalali_year(at)
        self._last[(unit, year)] += 1
        return make_contract_code(unit_code, year, self._last[(unit, year)])
