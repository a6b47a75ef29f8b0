"""Iranian identifiers: the person national ID (کد ملی) and the company national ID (شناسه ملی)."""
from __future__ import annotations

from domain.persian import normalize_digits
from domain.reasons import DomainError, Reason


def validate_national_id(value: str) -> str:
    """10-digit person national ID with its mod-11 check digit."""
    nid = normalize_digits(str(value)).strip().replace("-", "")
    if len(nid) == 8 or len(nid) == 9:
        nid = nid.zfill(10)  # leading zeros are often dropped by spreadsheets
    if len(nid) != 10 or not nid.isdigit() or len(set(nid)) == 1:
        raise DomainError(Reason.INVALID_INPUT, f"کد ملی نامعتبر: «{value}»")
    total = sum(int(nid[i]) * (10 - i) for i in range(9)) % 11
    check = int(nid[9])
    if (total < 2 and check != total) or (total >= 2 and check != 11 - total):
        raise DomainError(Reason.INVALID_INPUT, f"رقم کنترل کد ملی نادرست است: «{value}»")
    return nid


_COMPANY_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def validate_company_id(value: str) -> str:
    """11-digit company national ID (شناسه ملی اشخاص حقوقی) with its check digit."""
    cid = normalize_digits(str(value)).strip()
    if len(cid) != 11 or not cid.isdigit():
        raise DomainError(Reason.INVALID_INPUT, f"شناسه ملی شرکت باید ۱۱ رقم باشد: «{value}»")
    d = int(cid[9]) + 2
    total = sum((d + int(cid[i])) * _COMPANY_WEIGHTS[i] for i in range(10)) % 11
    if total == 10:
        total = 0
    if total != int(cid[10]):
        raise DomainError(Reason.INVALID_INPUT, f"رقم کنترل شناسه ملی شرکت نادرست است: «{value}»")
    return cid


def validate_economic_code(value: str) -> str:
    code = normalize_digits(str(value)).strip()
    if not code.isdigit() or len(code) not in (11, 12):
        raise DomainError(Reason.INVALID_INPUT, f"کد اقتصادی باید ۱۱ یا ۱۲ رقم باشد: «{value}»")
    return code
