from datetime import date, datetime, timezone

import pytest

from domain.persian import (
    format_jalali_date,
    format_jalali_datetime,
    normalize,
    parse_amount_rial,
    parse_int,
    parse_jalali_date,
    parse_jalali_datetime,
    persian_digits,
)
from domain.reasons import DomainError, Reason


def test_normalize_arabic_letters_and_digits():
    assert normalize("علي كريمي ۱۲٣") == "علی کریمی 123"


def test_normalize_zero_width_and_spaces():
    assert normalize("\u200b  می\u200c\u200cخواهم \u00a0 آن\u200c ") == "می\u200cخواهم آن"


def test_parse_int_accepts_grouping_and_persian_digits():
    assert parse_int("۱٬۲۵۰٬۰۰۰") == 1_250_000
    assert parse_amount_rial("1,250,000") == 1_250_000


@pytest.mark.parametrize("bad", ["12a", "", "۱۲.۵"])
def test_parse_int_rejects_non_integers(bad):
    with pytest.raises(DomainError) as exc:
        parse_int(bad)
    assert exc.value.reason is Reason.INVALID_INPUT


def test_amount_out_of_range():
    with pytest.raises(DomainError) as exc:
        parse_amount_rial("-5")
    assert exc.value.reason is Reason.AMOUNT_OUT_OF_RANGE


def test_jalali_date_round_trip():
    d = parse_jalali_date("1400/04/20")
    assert d == date(2021, 7, 11)
    assert format_jalali_date(d) == "1400/04/20"


@pytest.mark.parametrize("bad", ["1400/13/01", "1400/12/30", "1400/00/10", "1400-4", "امروز"])
def test_invalid_jalali_dates_are_refused(bad):
    with pytest.raises(DomainError) as exc:
        parse_jalali_date(bad)
    assert exc.value.reason is Reason.INVALID_INPUT
    assert "«" in exc.value.message_fa  # the message quotes what the user typed


def test_leap_year_esfand_30_is_accepted():
    assert parse_jalali_date("1399/12/30") == date(2021, 3, 20)


def test_tehran_wall_time_to_utc_with_historic_dst():
    # Summer 1400: Iran still observed daylight saving (+04:30).
    assert parse_jalali_datetime("۱۴۰۰/۰۴/۱۲ ۱۴:۰۰") == datetime(2021, 7, 3, 9, 30, tzinfo=timezone.utc)
    # Winter: +03:30.
    assert parse_jalali_datetime("1400/10/01 10:00") == datetime(2021, 12, 22, 6, 30, tzinfo=timezone.utc)


def test_format_jalali_datetime_in_persian_digits():
    when = datetime(2021, 7, 3, 9, 30, tzinfo=timezone.utc)
    assert format_jalali_datetime(when, persian=True) == persian_digits("1400/04/12 14:00")
