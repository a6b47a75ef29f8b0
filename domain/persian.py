"""Persian text and Jalali time at the edges.

Everything people type goes through normalize(); every date people read or type goes
through the Jalali helpers here. Storage is UTC; Tehran wall time only at the edges.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import jdatetime

from domain.reasons import DomainError, Reason

TEHRAN = ZoneInfo("Asia/Tehran")

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ۀ": "هٔ", "ة": "ه"})
_ZW = re.compile("[\u200b\u200d\u200e\u200f\ufeff\u00ad]")
_ZWNJ_RUN = re.compile("\u200c{2,}")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")


def normalize(text: str) -> str:
    """Arabic ي/ك to Persian ی/ک, Persian/Arabic-Indic digits to ASCII, zero-width and space cleanup."""
    if text is None:
        return text
    text = str(text).translate(_DIGITS).translate(_LETTERS)
    text = _ZW.sub("", text)
    text = _ZWNJ_RUN.sub("\u200c", text)
    # A ZWNJ next to a space or at either end carries no meaning.
    text = re.sub("\\s*\u200c\\s*(?=\\s|$)|(?<=\\s)\u200c|^\u200c", lambda m: " " if m.group(0).strip("\u200c") != m.group(0) else "", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


def normalize_digits(text: str) -> str:
    return str(text).translate(_DIGITS)


def persian_digits(value: object) -> str:
    return str(value).translate(_TO_PERSIAN_DIGITS)


def parse_int(text: object, field: str = "عدد") -> int:
    """Integer from Persian/Arabic/Latin digits, with optional , ٬ _ or space grouping."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    raw = normalize(str(text))
    cleaned = re.sub(r"[,_ ٬،]", "", raw)
    if not re.fullmatch(r"-?\d+", cleaned):
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{raw}» عدد صحیح نیست")
    return int(cleaned)


def parse_amount_rial(text: object, field: str = "مبلغ") -> int:
    from domain.money import check_rial

    return check_rial(parse_int(text, field), field=field)


_DATE_RE = re.compile(r"^(\d{4})[/\-](\d{1,2})[/\-](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_jalali_date(text: str) -> date:
    """'1400/04/20' (any digits) to a Gregorian date; rejects 1400/13/01 and 1400/12/30 in a non-leap year."""
    y, m, d, *_ = _split(text, allow_time=False)
    return _jdate(y, m, d, text).togregorian()


def parse_jalali_datetime(text: str) -> datetime:
    """'1400/04/12 14:00' Tehran wall time to an aware UTC datetime."""
    y, m, d, hh, mm, ss = _split(text, allow_time=True)
    jd = _jdate(y, m, d, text)
    if not (0 <= hh <= 23 and 0 <= mm <= 59 and 0 <= ss <= 59):
        raise DomainError(Reason.INVALID_INPUT, f"ساعت نامعتبر: «{text}»")
    g = jd.togregorian()
    local = datetime(g.year, g.month, g.day, hh, mm, ss, tzinfo=TEHRAN)
    return local.astimezone(timezone.utc)


def _split(text: str, allow_time: bool) -> tuple[int, int, int, int, int, int]:
    raw = normalize(str(text))
    match = _DATE_RE.match(raw)
    if not match or (match.group(4) is not None and not allow_time):
        raise DomainError(Reason.INVALID_INPUT, f"تاریخ شمسی نامعتبر: «{raw}» (قالب درست: ۱۴۰۰/۰۴/۲۰)")
    y, m, d = (int(match.group(i)) for i in (1, 2, 3))
    hh = int(match.group(4) or 0)
    mm = int(match.group(5) or 0)
    ss = int(match.group(6) or 0)
    return y, m, d, hh, mm, ss


def _jdate(y: int, m: int, d: int, text: str) -> jdatetime.date:
    if not 1 <= m <= 12:
        raise DomainError(Reason.INVALID_INPUT, f"ماه باید بین ۱ و ۱۲ باشد: «{text}»")
    try:
        return jdatetime.date(y, m, d)
    except ValueError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"چنین روزی در تقویم شمسی نیست: «{text}»") from exc


def to_tehran(when: datetime) -> datetime:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(TEHRAN)


def format_jalali_datetime(when: datetime, persian: bool = False) -> str:
    local = to_tehran(when)
    j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
    out = f"{j.year:04d}/{j.month:02d}/{j.day:02d} {j.hour:02d}:{j.minute:02d}"
    return persian_digits(out) if persian else out


def format_jalali_date(value: date | datetime, persian: bool = False) -> str:
    if isinstance(value, datetime):
        value = to_tehran(value).date()
    j = jdatetime.date.fromgregorian(date=value)
    out = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
    return persian_digits(out) if persian else out


def jalali_year(when: date | datetime) -> int:
    if isinstance(when, datetime):
        when = to_tehran(when).date()
    return jdatetime.date.fromgregorian(date=when).year


def format_rial(amount: int, persian: bool = False) -> str:
    out = f"{amount:,}"
    return persian_digits(out).replace(",", "٬") if persian else out
