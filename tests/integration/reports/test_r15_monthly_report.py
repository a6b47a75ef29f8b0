"""R15: every month, each unit's contracts concluded and in progress, by threshold class."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from domain.reasons import DomainError
from render.excel import write_report
from services.reports import jalali_month_bounds, markdown_table, monthly_report, previous_jalali_month


def counts(report, unit):
    return {r["threshold_class"]: (r["concluded"], r["in_progress"]) for r in report.rows if r["unit"] == unit}


@pytest.fixture
def shahrivar(add_contract):
    # Shahrivar 1400 runs from 1400/06/01 00:00 to 1400/06/31 24:00 Tehran time.
    add_contract("district-12", "final", "small", concluded="1400/06/01 00:00", created="1400/05/20 10:00")
    add_contract("district-12", "final", "large", concluded="1400/06/31 23:30", created="1400/06/02 09:00")
    add_contract("district-12", "final", "small", concluded="1400/07/01 00:10", created="1400/05/20 10:00")
    add_contract("district-12", "final", "small", concluded="1400/05/31 23:59", created="1400/05/01 10:00")
    add_contract("district-12", "budget", "medium", created="1400/06/02 10:00")
    add_contract("district-12", "draft", "medium", created="1400/07/05 10:00")
    add_contract("district-2", "legal_review", "large", created="1399/11/11 10:00")
    add_contract("district-2", "final", "medium", concluded="1400/06/15 12:00", created="1400/06/01 08:00")


def test_r15_counts_per_unit_and_threshold_class(sessions, policy, shahrivar):
    report = monthly_report(sessions, policy, 1400, 6)
    assert counts(report, "district-12") == {"small": (1, 1), "medium": (0, 1), "large": (1, 0)}
    assert counts(report, "district-2") == {"small": (0, 0), "medium": (1, 0), "large": (0, 1)}
    assert counts(report, "district-5") == {"small": (0, 0), "medium": (0, 0), "large": (0, 0)}
    assert report.meta["totals"]["small"] == {"concluded": 1, "in_progress": 1}
    assert report.meta["from"] == "1400/06/01" and report.meta["to"] == "1400/07/01"
    assert len(report.rows) == 3 * len(policy.units)


def test_r15_one_unit_and_the_following_month(sessions, policy, shahrivar):
    report = monthly_report(sessions, policy, 1400, 7, unit="district-12")
    assert {r["unit"] for r in report.rows} == {"district-12"}
    # Mehr: the contract concluded on 1400/07/01 counts; the draft created on 1400/07/05 is in progress.
    assert counts(report, "district-12") == {"small": (1, 0), "medium": (0, 2), "large": (0, 0)}


def test_r15_unknown_unit_and_bad_month_are_refused(sessions, policy):
    with pytest.raises(DomainError) as err:
        monthly_report(sessions, policy, 1400, 6, unit="district-99")
    assert err.value.reason.value == "UNKNOWN_UNIT"
    with pytest.raises(DomainError) as err:
        monthly_report(sessions, policy, 1400, 13)
    assert err.value.reason.value == "INVALID_INPUT"


def test_r15_month_bounds_and_the_month_a_schedule_reports():
    start, end = jalali_month_bounds(1400, 12)  # Esfand 1400 has 29 days
    assert (end - start).days == 29
    assert previous_jalali_month(start) == (1400, 11)
    assert previous_jalali_month(jalali_month_bounds(1401, 1)[0]) == (1400, 12)


def test_r15_excel_is_right_to_left_with_numbers(tmp_path, sessions, policy, shahrivar):
    report = monthly_report(sessions, policy, 1400, 6)
    path = write_report(report, tmp_path / "monthly.xlsx")
    ws = load_workbook(path).active
    assert ws.sheet_view.rightToLeft is True
    header = [c.value for c in ws[1]]
    assert header == ["شناسهٔ واحد", "واحد", "نصاب", "منعقدشده در ماه", "در جریان"]
    rows = {(r[0], r[2]): (r[3], r[4]) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[("district-12", "بزرگ")] == (1, 0) and rows[("district-2", "بزرگ")] == (0, 1)
    assert all(isinstance(v, int) for pair in rows.values() for v in pair)


def test_r15_markdown_uses_persian_digits(sessions, policy, shahrivar):
    text = markdown_table(monthly_report(sessions, policy, 1400, 6, unit="district-12"))
    assert "| district-۱۲ | منطقهٔ ۱۲ | بزرگ | ۱ | ۰ |" in text
