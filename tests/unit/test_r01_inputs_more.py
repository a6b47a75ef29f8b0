"""R01 (issue 10, classes 9, 11 and 12, as a reviewer found them still open).

- Invisible characters that are not of category Cf (the combining grapheme joiner, Hangul fillers,
  variation selectors, the braille blank, ...) are removed like every other invisible mark; ZWNJ stays.
- Python's underscore is not a grouping separator (`12_967_500` is refused, in Persian); a negative
  zero is refused (the sign would reach documents as "-0").
- TOML native dates and datetimes (Gregorian, zone-less) are refused in every date/time field of the
  scenario and of the policy file: people write Jalali text ("1400/04/13 10:00")."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain.persian import (
    ZWNJ,
    clean_identifier,
    needs_normalize,
    normalize,
    parse_amount_rial,
    parse_decimal,
    parse_int,
    parse_jalali_date,
    parse_jalali_datetime,
)
from domain.reasons import DomainError, Reason

_NOT_CF_INVISIBLES = [0x034F, 0x115F, 0x1160, 0x3164, 0xFE00, 0xFE0E, 0xFE0F, 0xFFA0, 0x2800, 0x180E, 0x17B4,
                      0x180B, 0xE0100, 0xE01EF]


@pytest.mark.parametrize("point", _NOT_CF_INVISIBLES, ids=lambda p: f"U+{p:04X}")
def test_r01_normalize_removes_invisible_characters_outside_category_cf(point):
    ch = chr(point)
    assert normalize(f"شرکت{ch} راه{ch}سازی {ch}البرز{ch}") == "شرکت راهسازی البرز"
    assert normalize(f"{ch}") == ""
    assert needs_normalize(f"abc{ch}def")
    assert clean_identifier(f"0012{ch}345678") == "0012345678"


def test_r01_normalize_keeps_zwnj_where_a_word_needs_it():
    assert normalize(f"می{ZWNJ}روم\u034f") == f"می{ZWNJ}روم"


@pytest.mark.parametrize("text", ["12_967_500", "12_000", "1_2", "۱۲_۰۰۰", "12_967,500"])
def test_r01_underscore_is_not_a_grouping_separator(text):
    for fn, field in ((parse_int, "رتبه"), (parse_amount_rial, "مبلغ"), (parse_decimal, "ضریب")):
        with pytest.raises(DomainError) as err:
            fn(text, field)
        assert err.value.reason is Reason.INVALID_INPUT
        assert err.value.detail.startswith(f"{field}:") and "«_»" in err.value.detail


@pytest.mark.parametrize("value", ["-0", "-0.00", "-۰٫۰", "-000", -0.0, Decimal("-0"), Decimal("-0.0")])
def test_r01_negative_zero_is_refused(value):
    with pytest.raises(DomainError) as err:
        parse_decimal(value, "ضریب")
    assert err.value.reason is Reason.INVALID_INPUT and "صفر منفی" in err.value.detail


def test_r01_negative_zero_text_is_refused_as_an_integer_too_and_zero_still_reads():
    with pytest.raises(DomainError, match="صفر منفی"):
        parse_int("-0", "رتبه")
    assert parse_int("0") == 0 and parse_decimal("0.0") == 0 and parse_decimal("-0.5") == Decimal("-0.5")
    assert str(parse_decimal(0.0)) == "0.0"


def test_r01_jalali_parsers_refuse_date_and_time_objects():
    from datetime import date, datetime, time, timezone

    for value in (datetime(2021, 7, 4, 10, 0), datetime(2021, 7, 4, 10, 0, tzinfo=timezone.utc)):
        with pytest.raises(DomainError) as err:
            parse_jalali_datetime(value)
        assert err.value.reason is Reason.INVALID_INPUT and "1400/04/13 10:00" in err.value.detail
    for value in (date(2021, 7, 4), datetime(2021, 7, 4), time(10, 0)):
        with pytest.raises(DomainError) as err:
            parse_jalali_date(value)
        assert "متن شمسی" in err.value.detail


# --- every date/time field of the scenario and of the policy ----------------------------------------

def _jalali_lines(text: str) -> list[tuple[int, str]]:
    """(line index, key) of every `key = "1400/..."` in a TOML text, inline tables included."""
    found = []
    for i, line in enumerate(text.splitlines()):
        for m in re.finditer(r'(\w+) = "(1[34]\d\d/\d\d/\d\d(?: \d\d:\d\d)?)"', line):
            found.append((i, m.group(1), m.group(2)))
    return found


def _native(jalali: str) -> str:
    """A TOML native value of the same shape (the Gregorian reading a person might have typed)."""
    return "2021-07-04T10:00:00" if " " in jalali else "2021-07-04"


def _scenario_text() -> str:
    from pilot.scenario import DEFAULT_SCENARIO

    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    # price_opening_at is optional: put it in, as Jalali text, so it is swapped like the others.
    return text.replace('opening_at = "1400/04/13 10:00"\n',
                        'opening_at = "1400/04/13 10:00"\nprice_opening_at = "1400/04/14 10:00"\n', 1)


_SCENARIO_FIELDS = _jalali_lines(_scenario_text())


def test_r01_the_scenario_date_fields_are_all_found():
    keys = {k for _i, k, _v in _SCENARIO_FIELDS}
    assert keys == {"guarantee_valid_until", "announce_at", "deadline", "opening_at", "price_opening_at",
                    "submit_at", "valid_until", "at"}


@pytest.mark.parametrize("index, key, jalali", _SCENARIO_FIELDS, ids=[f"{k}@{i}" for i, k, _v in _SCENARIO_FIELDS])
@pytest.mark.parametrize("offset", ["", "+04:30"])
def test_r01_scenario_refuses_toml_native_dates_and_datetimes(tmp_path: Path, index, key, jalali, offset):
    from pilot.scenario import load_scenario

    lines = _scenario_text().splitlines()
    native = _native(jalali) + (offset if "T" in _native(jalali) else "")
    lines[index] = lines[index].replace(f'{key} = "{jalali}"', f"{key} = {native}", 1)
    path = tmp_path / "scenario.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DomainError) as err:
        load_scenario(path)
    assert err.value.reason is Reason.INVALID_INPUT
    detail = err.value.detail
    assert key in detail and "متن شمسی" in detail
    assert ("1400/04/13 10:00" if "T" in native else "«2021-07-04»") in detail
    assert "TypeError" not in detail


def _policy_text() -> str:
    from config.settings import BUNDLED_POLICY

    return Path(BUNDLED_POLICY).read_text(encoding="utf-8")


@pytest.mark.parametrize("index, key, jalali", _jalali_lines(_policy_text()),
                         ids=[f"{k}@{i}" for i, k, _v in _jalali_lines(_policy_text())])
def test_r01_policy_refuses_toml_native_dates(tmp_path: Path, index, key, jalali):
    from config.policy import load_policy

    lines = _policy_text().splitlines()
    lines[index] = lines[index].replace(f'{key} = "{jalali}"', f"{key} = 1399-10-01", 1)
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DomainError) as err:
        load_policy(path)
    assert err.value.reason is Reason.POLICY_INVALID  # the policy file's own code, naming file and key
    assert "متن شمسی" in str(err.value.detail) and key in str(err.value.detail)
