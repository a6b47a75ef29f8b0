"""R01, issue 10 class 12: Tehran wall times that did not exist (the spring-forward gap) or existed
twice (the autumn repeated hour) in the years Iran kept daylight saving time (through 1401) are not
guessed: the first is refused, the second needs an offset, each with a Persian message naming it.

The transitions are found from zoneinfo Asia/Tehran here, not written down, so the test follows the
time-zone database the engine runs with."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jdatetime
import pytest

from domain.persian import parse_jalali_datetime, persian_digits
from domain.reasons import DomainError, Reason

TEHRAN = ZoneInfo("Asia/Tehran")


def _transitions(first_year: int = 2017, last_year: int = 2024) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of every change of Tehran's UTC offset."""
    out = []
    t = datetime(first_year, 1, 1, tzinfo=timezone.utc)
    before = t.astimezone(TEHRAN).utcoffset()
    while t.year <= last_year:
        t += timedelta(minutes=30)
        after = t.astimezone(TEHRAN).utcoffset()
        if after != before:
            out.append((t, before, after))
            before = after
    return out


def _jalali(wall: datetime) -> str:
    j = jdatetime.datetime.fromgregorian(datetime=wall)
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d} {j.hour:02d}:{j.minute:02d}"


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"+{minutes // 60:02d}:{minutes % 60:02d}"


TRANSITIONS = _transitions()
SPRING = [(t, b, a) for t, b, a in TRANSITIONS if a > b]
AUTUMN = [(t, b, a) for t, b, a in TRANSITIONS if a < b]


def test_r01_tehran_kept_daylight_saving_through_1401_and_not_after():
    years = {jdatetime.datetime.fromgregorian(datetime=t.astimezone(TEHRAN).replace(tzinfo=None)).year
             for t, _, _ in TRANSITIONS}
    assert {1398, 1399, 1400, 1401} <= years and max(years) == 1401
    assert SPRING and AUTUMN


@pytest.mark.parametrize("at, before, after", SPRING)
def test_r01_a_wall_time_in_the_spring_gap_is_refused_naming_it(at, before, after):
    gap_start = (at + before).replace(tzinfo=None)  # the wall clock jumps from here ...
    for minutes in (0, 30, 59):
        text = _jalali(gap_start + timedelta(minutes=minutes))
        with pytest.raises(DomainError) as err:
            parse_jalali_datetime(text)
        assert err.value.reason is Reason.INVALID_INPUT
        assert f"«{text}»" in err.value.detail and "وجود ندارد" in err.value.detail
        # With an offset the instant is unambiguous, and the offset fixes it.
        assert parse_jalali_datetime(f"{text}{_offset(before)}") == at + timedelta(minutes=minutes)
        assert parse_jalali_datetime(f"{text}{_offset(after)}") == at + timedelta(minutes=minutes) - (after - before)
    # ... to an hour later, which exists again.
    assert parse_jalali_datetime(_jalali(gap_start + (after - before))) == at


@pytest.mark.parametrize("at, before, after", AUTUMN)
def test_r01_a_wall_time_in_the_repeated_hour_needs_an_offset(at, before, after):
    repeat_start = (at + after).replace(tzinfo=None)  # the wall clock goes back to here and repeats an hour
    text = _jalali(repeat_start + timedelta(minutes=30))
    with pytest.raises(DomainError) as err:
        parse_jalali_datetime(text)
    assert err.value.reason is Reason.INVALID_INPUT
    assert f"«{text}»" in err.value.detail and "دو بار" in err.value.detail
    assert _offset(before) in err.value.detail and _offset(after) in err.value.detail
    first = parse_jalali_datetime(f"{text}{_offset(before)}")
    second = parse_jalali_datetime(f"{text} {_offset(after)}")
    assert second - first == before - after == timedelta(hours=1)
    assert first == at - timedelta(minutes=30) and second == at + timedelta(minutes=30)
    # In Persian digits too.
    assert parse_jalali_datetime(persian_digits(f"{text}{_offset(before)}")) == first
    # Just outside the repeated hour there is one reading and no offset is needed.
    assert parse_jalali_datetime(_jalali(repeat_start - timedelta(minutes=1))) == at - timedelta(hours=1, minutes=1)


def test_r01_examples_of_1400():
    with pytest.raises(DomainError):
        parse_jalali_datetime("1400/01/02 00:30")     # clocks went from 00:00 to 01:00 that night
    with pytest.raises(DomainError):
        parse_jalali_datetime("۱۴۰۰/۰۶/۳۰ ۲۳:۳۰")     # 23:00-24:00 came twice
    assert parse_jalali_datetime("1400/06/30 23:30+04:30") == datetime(2021, 9, 21, 19, 0, tzinfo=timezone.utc)
    assert parse_jalali_datetime("1400/06/30 23:30+03:30") == datetime(2021, 9, 21, 20, 0, tzinfo=timezone.utc)
    assert parse_jalali_datetime("1402/06/30 23:30") == datetime(2023, 9, 21, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["1400/04/12 14:00+03:30", "1400/10/01 10:00+04:30", "1400/04/12 14:00+00:00",
                                  "1400/04/12 14:00+15:00"])
def test_r01_an_offset_tehran_did_not_have_then_is_refused(text):
    with pytest.raises(DomainError) as err:
        parse_jalali_datetime(text)
    assert err.value.reason is Reason.INVALID_INPUT and "«" in err.value.detail


def test_r01_ordinary_times_read_as_before():
    assert parse_jalali_datetime("1400/04/12 14:00") == datetime(2021, 7, 3, 9, 30, tzinfo=timezone.utc)
    assert parse_jalali_datetime("1400/04/12 14:00+04:30") == datetime(2021, 7, 3, 9, 30, tzinfo=timezone.utc)
    assert parse_jalali_datetime("1400/10/01 10:00") == datetime(2021, 12, 22, 6, 30, tzinfo=timezone.utc)


def test_r01_scenario_time_in_the_gap_is_refused_with_the_key(tmp_path):
    from pilot.scenario import DEFAULT_SCENARIO, load_scenario

    base = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    text = base.replace('submit_at = "1400/04/09 10:30"', 'submit_at = "1400/06/30 23:30"', 1)
    assert text != base
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DomainError) as err:
        load_scenario(path)
    assert "bidders.0.submit_at" in err.value.detail and "«1400/06/30 23:30»" in err.value.detail
