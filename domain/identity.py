"""Iranian identifiers: the person national ID (کد ملی), the company national ID (شناسه ملی) and the
economic code, each with its published validity rules, read the same way at every entry point
(scenario files, CLI, repositories, legacy import, contractor registry): domain.persian.clean_identifier
first (invisible marks of right-to-left pages, spaces and dashes removed, Persian digits made ASCII).

Person national ID (National Organization for Civil Registration): 10 digits (8 or 9 when spreadsheets
dropped leading zeros); the first three are the issuing office, the next six a serial that is never all
zero, the tenth a check digit: s = Σ d[i]·(10−i) for i = 0..8, r = s mod 11, check = r if r < 2 else 11 − r;
ten equal digits are not issued.

Company national ID (شناسه ملی اشخاص حقوقی, Registration Organization of Deeds and Properties): 11
digits; digits 4 to 9 are a serial never all zero; the eleventh is a check digit: with t = the tenth
digit + 2 and weights 29 27 23 19 17 29 27 23 19 17, s = Σ (t + d[i])·w[i] for i = 0..9, r = s mod 11,
check = 0 if r = 10 else r.
"""
from __future__ import annotations

import re

from domain.persian import clean_identifier, normalize
from domain.reasons import DomainError, Reason

_TEN = re.compile(r"[0-9]{10}", re.ASCII)
_ELEVEN = re.compile(r"[0-9]{11}", re.ASCII)
_ECONOMIC = re.compile(r"[0-9]{11,12}", re.ASCII)
_COMPANY_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def _shown(value: object) -> str:
    return normalize(str(value))  # quoted back without the invisible marks it may carry


def validate_national_id(value: str) -> str:
    """The 10-digit person national ID (کد ملی) of `value`, as ASCII digits.

    Raises: INVALID_INPUT (Persian, quoting the value) when it is not 8-10 digits of Persian or ASCII
    script, its ten digits are all equal, its serial (digits 4-9) is all zero, or its check digit is
    wrong. Rule: R21 (identifiers from the registries, valid by the published rules)."""
    nid = clean_identifier(value)
    if len(nid) in (8, 9) and nid.isascii():
        nid = nid.zfill(10)  # leading zeros are often dropped by spreadsheets
    if not _TEN.fullmatch(nid):
        raise DomainError(Reason.INVALID_INPUT, f"کد ملی باید ۱۰ رقم باشد: «{_shown(value)}»")
    if len(set(nid)) == 1:
        raise DomainError(Reason.INVALID_INPUT, f"کد ملی با ده رقم یکسان صادر نمی‌شود: «{_shown(value)}»")
    if nid[3:9] == "000000":
        raise DomainError(Reason.INVALID_INPUT, f"کد ملی نامعتبر است (رقم‌های چهارم تا نهم همه صفرند): «{_shown(value)}»")
    total = sum(int(nid[i]) * (10 - i) for i in range(9)) % 11
    if int(nid[9]) != (total if total < 2 else 11 - total):
        raise DomainError(Reason.INVALID_INPUT, f"رقم کنترل کد ملی نادرست است: «{_shown(value)}»")
    return nid


def validate_company_id(value: str) -> str:
    """The 11-digit company national ID (شناسه ملی اشخاص حقوقی) of `value`, as ASCII digits.

    Raises: INVALID_INPUT (Persian, quoting the value) when it is not 11 digits of Persian or ASCII
    script, its serial (digits 4-9) is all zero (so `00000000009` is refused although its check digit
    fits), or its check digit is wrong. Rule: R21."""
    cid = clean_identifier(value)
    if not _ELEVEN.fullmatch(cid):
        raise DomainError(Reason.INVALID_INPUT, f"شناسه ملی شرکت باید ۱۱ رقم باشد: «{_shown(value)}»")
    if cid[3:9] == "000000":
        raise DomainError(Reason.INVALID_INPUT,
                          f"شناسه ملی شرکت نامعتبر است (رقم‌های چهارم تا نهم همه صفرند): «{_shown(value)}»")
    tens = int(cid[9]) + 2
    total = sum((tens + int(cid[i])) * _COMPANY_WEIGHTS[i] for i in range(10)) % 11
    if int(cid[10]) != (0 if total == 10 else total):
        raise DomainError(Reason.INVALID_INPUT, f"رقم کنترل شناسه ملی شرکت نادرست است: «{_shown(value)}»")
    return cid


def validate_economic_code(value: str) -> str:
    """The economic code (کد اقتصادی) of `value`: 11 or 12 ASCII digits after clean_identifier.

    Raises: INVALID_INPUT (Persian, quoting the value). Rule: R21."""
    code = clean_identifier(value)
    if not _ECONOMIC.fullmatch(code):
        raise DomainError(Reason.INVALID_INPUT, f"کد اقتصادی باید ۱۱ یا ۱۲ رقم باشد: «{_shown(value)}»")
    return code
