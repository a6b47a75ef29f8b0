"""Persian text, numbers and Jalali time at the edges.

Everything people type goes through normalize(); every number they type through parse_int /
parse_decimal / parse_amount_rial; every identifier through clean_identifier (domain.identity); every
date they read or type through the Jalali helpers here. Storage is UTC; Tehran wall time only at the
edges. Rule source: R01 (inputs read exactly), R21 (what is signed, stored and published).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import jdatetime

from domain.money import check_rial
from domain.reasons import DomainError, Reason

TEHRAN = ZoneInfo("Asia/Tehran")
ZWNJ = "\u200c"  # the Persian half-space: the one invisible format character the language needs

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ۀ": "هٔ", "ة": "ه"})


def _char_class(points: list[int]) -> str:
    """A regex class of these code points, as ranges (several times faster to search than singles)."""
    ranges: list[list[int]] = []
    for c in sorted(set(points)):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


# Every format character (Unicode category Cf: bidi controls U+061C, U+200E-F, U+202A-E, U+2066-9,
# zero-width space and joiner, BOM, soft hyphen, tags, ...) but ZWNJ, and the C0/C1 controls but tab,
# newline and carriage return; from the running Python's Unicode tables. Then the rest of Unicode's
# Default_Ignorable_Code_Point (which Python's tables do not expose, so listed from
# DerivedCoreProperties.txt): characters that are not Cf yet render as nothing, and a blank that
# looks like a space but is a letter of its own.
_PLANES = (*range(0x20000), *range(0xE0000, 0xE1000))  # every Cf code point lives in these
_IGNORABLE_NOT_CF = [
    0x034F,                      # combining grapheme joiner
    0x115F, 0x1160, 0x3164, 0xFFA0,  # Hangul choseong/jungseong fillers, Hangul filler, halfwidth filler
    0x17B4, 0x17B5,              # Khmer inherent vowels
    *range(0x180B, 0x1810),      # Mongolian free variation selectors and vowel separator (U+180E)
    *range(0x2060, 0x2070),      # the format block's unassigned code points too
    *range(0xFE00, 0xFE10),      # variation selectors 1-16
    *range(0xFFF0, 0xFFF9),      # unassigned before the interlinear annotation controls
    *range(0xE0000, 0xE1000),    # tags and variation selectors 17-256 (U+E0100-E01EF), assigned or not
    0x2800,                      # braille pattern blank: drawn as a space, not a space
]


# Built at first use, not at import: scanning the tables takes ~40 ms, and most processes that import
# this module (every CLI command, every flow run) never clean a text.
@cache
def _invisible_points() -> tuple[int, ...]:
    return (*(c for c in _PLANES if unicodedata.category(chr(c)) == "Cf" and chr(c) != ZWNJ),
            *range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), *_IGNORABLE_NOT_CF)


@cache
def _invisible() -> re.Pattern[str]:
    return re.compile(_char_class(list(_invisible_points())))


@cache
def _odd_chars() -> re.Pattern[str]:
    odd_spaces = [c for c in range(0x10000) if chr(c).isspace() and chr(c) not in " \n"]
    return re.compile(_char_class([*map(ord, "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يىكۀة"), *_invisible_points(), *odd_spaces]))


_ZWNJ_RUN = re.compile(f"{ZWNJ}{{2,}}")
_ZWNJ_AT_SPACE = re.compile(f"\\s*{ZWNJ}\\s*(?=\\s|$)|(?<=\\s){ZWNJ}|^{ZWNJ}")
_ZWNJ_ODD = re.compile(f"{ZWNJ}{ZWNJ}|{ZWNJ}\\s|\\s{ZWNJ}|^{ZWNJ}|{ZWNJ}$")
_SPACES = re.compile(r"[^\S\n]+")  # every space but the line break (NBSP, thin, ideographic, tab, ...)


def normalize(text: str) -> str:
    """Text people typed, as the engine signs, stores and publishes it (R21, issue 10 class 11).

    Arabic ي/ك to Persian ی/ک; Persian/Arabic-Indic digits to ASCII; every invisible format character
    removed (bidi embeddings, overrides and isolates, LRM/RLM/ALM, zero-width space and joiner, BOM, soft
    hyphen, the rest of Unicode category Cf, and every other default-ignorable character: combining
    grapheme joiner, Hangul fillers, variation selectors, Mongolian vowel separator; and the braille
    blank) except ZWNJ where a word needs it, and control characters but the line break; spaces collapsed; trimmed. Raises: nothing (None stays None)."""
    if text is None:
        return text
    text = str(text).translate(_DIGITS).translate(_LETTERS).replace("\r\n", "\n").replace("\r", "\n")
    text = _invisible().sub("", text)
    text = _ZWNJ_RUN.sub(ZWNJ, text)
    # A ZWNJ next to a space or at either end carries no meaning.
    text = _ZWNJ_AT_SPACE.sub(lambda m: " " if m.group(0).strip(ZWNJ) != m.group(0) else "", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


def needs_normalize(text: str) -> bool:
    """Whether normalize() might change `text` (never False when it would): the cheap test a bulk
    reader runs before normalising a cell. Raises: nothing."""
    return (_odd_chars().search(text) is not None or "  " in text or text[:1].isspace() or text[-1:].isspace()
            or (ZWNJ in text and _ZWNJ_ODD.search(text) is not None))


def normalize_digits(text: str) -> str:
    """Persian and Arabic-Indic digits to ASCII; nothing else changes. Raises: nothing."""
    return str(text).translate(_DIGITS)


def persian_digits(value: object) -> str:
    """ASCII digits of `value`'s text as Persian digits. Raises: nothing."""
    return str(value).translate(_TO_PERSIAN_DIGITS)


# --- identifiers --------------------------------------------------------------------------------

_ID_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]")


def clean_identifier(value: object) -> str:
    """The digits of an identifier as people copy it (national ID, company ID, economic code): invisible
    marks that right-to-left pages carry (RLM, LRM, ALM, embeddings, zero-width characters) and the
    spaces, dashes and dots people group it with removed, Persian/Arabic-Indic digits made ASCII.
    Digits of other scripts stay as they are, so the identifier's own check refuses them.
    Raises: nothing. Rule: R21 (identifiers read the same way at every entry point)."""
    text = _invisible().sub("", str(value)).replace(ZWNJ, "").translate(_DIGITS)
    return _ID_SEPARATORS.sub("", text)


# --- numbers ------------------------------------------------------------------------------------

# Comma, Arabic thousands separator, space (NBSP/thin become space). Not Python's underscore: people
# do not write it, and `12_000` taken as twelve thousand is a program's reading, not a person's.
_GROUP_SEPARATORS = ",٬ "
_NUMBER = re.compile(r"(?P<sign>-?)(?P<int>[0-9][0-9,٬ ]*)(?:[.٫](?P<frac>[0-9]+))?", re.ASCII)


def _foreign_digits(text: str) -> list[str]:
    """Digits (or other numerals) of a script the engine does not read: Devanagari, fullwidth, ..."""
    return [ch for ch in text if not "0" <= ch <= "9" and unicodedata.numeric(ch, None) is not None]


def _number_parts(value: object, field: str) -> tuple[str, str, str | None]:
    """(sign, integer digits, fraction digits or None) of a number as people write it."""
    shown = normalize(str(value))
    foreign = _foreign_digits(shown)
    if foreign:
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{shown}» رقمی از خطی جز فارسی، عربی یا لاتین دارد "
                                                f"(«{foreign[0]}»)؛ عدد را با رقم‌های فارسی یا لاتین بنویسید")
    if "_" in shown:
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{shown}» خط زیر («_») جداکنندهٔ هزارگان نیست؛ "
                                                f"رقم‌ها را با «,» یا «٬» سه‌تا‌سه‌تا جدا کنید، مانند ۱۲٬۹۶۷٬۵۰۰")
    match = _NUMBER.fullmatch(shown)
    if not match:
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{shown}» عدد نیست")
    whole = match.group("int")
    groups = re.split(f"[{_GROUP_SEPARATORS}]", whole)
    if len(groups) > 1:
        separators = {ch for ch in whole if ch in _GROUP_SEPARATORS}
        if len(separators) > 1 or not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]):
            raise DomainError(Reason.INVALID_INPUT,
                              f"{field}: «{shown}» جداکنندهٔ هزارگان نادرست است؛ رقم‌ها از راست سه‌تا‌سه‌تا "
                              f"جدا می‌شوند، مانند ۱۲٬۹۶۷٬۵۰۰ (ممیز: «٫» یا «.»)")
    digits, frac = "".join(groups), match.group("frac")
    if match.group("sign") and not (digits + (frac or "")).strip("0"):
        raise _negative_zero(field, shown)
    return match.group("sign"), digits, frac


def _negative_zero(field: str, shown: object) -> DomainError:
    # A signed zero is never what was meant, and Decimal keeps the sign into documents ("-0").
    return DomainError(Reason.INVALID_INPUT, f"{field}: «{shown}» صفر منفی است؛ «0» بنویسید")


def parse_int(text: object, field: str = "عدد") -> int:
    """An integer as people write it: Persian, Arabic-Indic or ASCII digits, an optional minus, and
    grouping by `,` `٬` or a space only between groups of three counted from the right
    (`12,967,500` yes, `12,967,500,00` no). A Python int passes as it is.

    Raises: INVALID_INPUT (a Persian message naming `field`) for a fraction, a float, a misplaced
    separator, Python's `_` as a separator (`12_000`), a negative zero (`-0`), digits of another script (Devanagari, fullwidth, ...) or anything else. Rule: R01."""
    if isinstance(text, bool):
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{text}» عدد صحیح نیست")
    if isinstance(text, int):
        return text
    if isinstance(text, Decimal):
        if text.is_finite() and text == text.to_integral_value():
            return int(text)
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{text}» عدد صحیح نیست")
    if isinstance(text, float):
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{text!r}» باید عدد صحیح بدون ممیز باشد")
    sign, digits, frac = _number_parts(text, field)
    if frac is not None:
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{normalize(str(text))}» عدد صحیح نیست")
    return int(sign + digits)


def parse_decimal(text: object, field: str = "عدد") -> Decimal:
    """An exact decimal as people write it: what parse_int accepts, plus a fraction after `.` or the
    Persian decimal separator `٫` (`۰٫۹۱` is 0.91). A float (TOML) keeps the decimal that was written
    (0.93, not 0.9300000000000000488); int and Decimal pass as they are.

    Raises: INVALID_INPUT (a Persian message naming `field`): not a number, NaN or infinity, a misplaced
    separator or `_`, a negative zero (`-0`, `-0.0`: the sign would reach documents as "-0"), digits of
    another script. Rule: R01."""
    if isinstance(text, bool):
        raise DomainError(Reason.INVALID_INPUT, f"{field}: «{text}» عدد نیست")
    if isinstance(text, int):
        return Decimal(text)
    if isinstance(text, float):
        text = Decimal(repr(text)) if text == text and abs(text) != float("inf") else Decimal("NaN")
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise DomainError(Reason.INVALID_INPUT, f"{field}: «{text}» عدد نیست")
        if text.is_zero() and text.is_signed():
            raise _negative_zero(field, text)
        return text
    sign, digits, frac = _number_parts(text, field)
    return Decimal(f"{sign}{digits}.{frac}" if frac is not None else f"{sign}{digits}")


def parse_amount_rial(text: object, field: str = "مبلغ") -> int:
    """An amount in whole rials as people write it (parse_int), within domain.money.check_rial's range.

    Raises: INVALID_INPUT (not an integer, see parse_int), AMOUNT_OUT_OF_RANGE (negative or too large).
    Rule: R01."""
    return check_rial(parse_int(text, field), field=field)


# --- Jalali dates and Tehran wall time ----------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})[/\-](\d{1,2})[/\-](\d{1,2})"
                      r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?([+-])(\d{2}):?(\d{2}))?)?$", re.ASCII)


def parse_jalali_date(text: object) -> date:
    """'1400/04/20' (Persian, Arabic-Indic or ASCII digits) to a Gregorian date.

    Raises: INVALID_INPUT (quoting the text) for another shape, a time, digits of another script,
    1400/13/01, or 1400/12/30 in a non-leap year, and for a date/datetime/time object (a TOML file's
    native `2021-07-04`: Gregorian and zone-less, never Jalali text). Rule: R01."""
    y, m, d, *_ = _split(text, allow_time=False)
    return _jdate(y, m, d, text).togregorian()


def parse_jalali_datetime(text: object) -> datetime:
    """'1400/04/12 14:00' Tehran wall time to an aware UTC datetime; an explicit offset
    ('1400/06/30 23:30+03:30') says which of two equal wall times is meant.

    The clocks of the years Iran kept daylight saving time (through 1401) skipped an hour in spring and
    repeated one in autumn (zoneinfo Asia/Tehran says which): a wall time in the skipped hour does not
    exist and is refused; one in the repeated hour is refused unless an offset is given; a given offset
    must be one Tehran had at that wall time.

    A date/datetime/time object (a TOML file's native `2021-07-04T10:00:00`: Gregorian, usually without
    a zone) is refused, not taken as Tehran time: one rule for every file people write.

    Raises: INVALID_INPUT with a Persian message naming the time. Rule: R01."""
    y, m, d, hh, mm, ss, offset = _split(text, allow_time=True)
    jd = _jdate(y, m, d, text)
    if not (0 <= hh <= 23 and 0 <= mm <= 59 and 0 <= ss <= 59):
        raise DomainError(Reason.INVALID_INPUT, f"ساعت نامعتبر: «{text}»")
    g = jd.togregorian()
    return _tehran_to_utc(datetime(g.year, g.month, g.day, hh, mm, ss), offset, normalize(str(text)))


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _tehran_to_utc(wall: datetime, offset: timedelta | None, shown: str) -> datetime:
    """A naive Tehran wall time to UTC, refusing a time the clocks skipped and, without an offset, one
    they showed twice (PEP 495 fold: fold=0 is the earlier reading, fold=1 the later)."""
    first, second = wall.replace(tzinfo=TEHRAN, fold=0), wall.replace(tzinfo=TEHRAN, fold=1)
    offsets = {first.utcoffset(), second.utcoffset()}
    if offset is not None:
        if offset not in offsets:
            known = " یا ".join(f"«{_offset_text(o)}»" for o in sorted(o for o in offsets if o is not None))
            raise DomainError(Reason.INVALID_INPUT, f"اختلاف ساعت «{_offset_text(offset)}» در «{shown}» اختلاف "
                                                    f"ساعت تهران در آن زمان نیست (در آن زمان: {known})")
        return (wall - offset).replace(tzinfo=timezone.utc)
    if len(offsets) == 1:
        return first.astimezone(timezone.utc)
    plain = shown  # no offset was given
    if first.astimezone(timezone.utc).astimezone(TEHRAN).replace(tzinfo=None) != wall:
        raise DomainError(Reason.INVALID_INPUT,
                          f"ساعت «{shown}» در تهران وجود ندارد: در آغاز ساعت تابستانی ساعت‌ها یک ساعت جلو کشیده "
                          f"شد و این ساعت هرگز نیامد؛ ساعت دیگری بنویسید یا اختلاف با UTC را بیفزایید، مانند "
                          f"«{plain}{_offset_text(second.utcoffset())}»")
    raise DomainError(Reason.INVALID_INPUT,
                      f"ساعت «{shown}» در تهران دو بار آمده است (پایان ساعت تابستانی)؛ اختلاف با UTC را بیفزایید: "
                      f"«{plain}{_offset_text(first.utcoffset())}» برای بار اول یا "
                      f"«{plain}{_offset_text(second.utcoffset())}» برای بار دوم")


def _native_time(value: date | time, allow_time: bool) -> DomainError:
    """A file's own date or time value (TOML `2021-07-04T10:00:00`, `2021-07-04`, `10:00`): Gregorian,
    with no Tehran zone, and its text would read as a Jalali year 2021. People write Jalali text."""
    example = "1400/04/13 10:00" if allow_time else "1400/04/13"
    return DomainError(Reason.INVALID_INPUT, f"«{value.isoformat()}» تاریخ یا ساعت میلادی بی‌منطقهٔ زمانی است و "
                                             f"پذیرفته نمی‌شود؛ آن را به صورت متن شمسی در گیومه بنویسید، مانند "
                                             f"\"{example}\"")


def _split(text: object, allow_time: bool) -> tuple[int, int, int, int, int, int, timedelta | None]:
    if isinstance(text, (date, time)):  # datetime is a date
        raise _native_time(text, allow_time)
    raw = normalize(str(text))
    match = _DATE_RE.match(raw)
    if not match or (match.group(4) is not None and not allow_time):
        raise DomainError(Reason.INVALID_INPUT, f"تاریخ شمسی نامعتبر: «{raw}» (قالب درست: ۱۴۰۰/۰۴/۲۰)")
    y, m, d = (int(match.group(i)) for i in (1, 2, 3))
    hh = int(match.group(4) or 0)
    mm = int(match.group(5) or 0)
    ss = int(match.group(6) or 0)
    offset = None
    if match.group(7):
        oh, om = int(match.group(8)), int(match.group(9))
        if oh > 14 or om > 59:
            raise DomainError(Reason.INVALID_INPUT, f"اختلاف ساعت نامعتبر: «{raw}»")
        offset = timedelta(hours=oh, minutes=om) * (-1 if match.group(7) == "-" else 1)
    return y, m, d, hh, mm, ss, offset


def _jdate(y: int, m: int, d: int, text: object) -> jdatetime.date:
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


def format_jalali_datetime_exact(when: datetime) -> str:
    """`when` (aware) as Tehran wall time with seconds and its offset, '1400/04/12 14:00:00+04:30':
    the text parse_jalali_datetime reads back to exactly `when`, in the repeated autumn hour too.
    Rule: R01 (files people and stations write hold Jalali text)."""
    local = to_tehran(when)
    j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
    return (f"{j.year:04d}/{j.month:02d}/{j.day:02d} {j.hour:02d}:{j.minute:02d}:{j.second:02d}"
            f"{_offset_text(local.utcoffset())}")


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
