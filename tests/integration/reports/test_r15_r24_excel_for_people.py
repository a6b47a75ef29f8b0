"""Excel reports as a unit opens them (issue 16 part 4): right to left, Persian headers frozen on row 1,
amounts and counts stored as numbers with the grouped format, Jalali dates as Persian text with the
ISO UTC kept in a hidden column; every amount equal to the JSON report's."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from domain.contract.code import make_contract_code
from domain.reasons import DomainError, Reason
from render.excel import cell_value, sheet_name, write_report
from services.reports import Report, monthly_report, projects_report, refused_payments_report
from store import audit
from store.models import Payment, StatusStatement

T0 = datetime(2021, 9, 1, 6, 0, tzinfo=timezone.utc)  # 1400/06/10 10:30 Tehran


def reopen(report: Report, tmp_path):
    """The first sheet of the written file, its header texts and its rows keyed by header."""
    ws = load_workbook(write_report(report, tmp_path / f"{report.kind}.xlsx")).worksheets[0]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    return ws, header, rows


def as_json(report: Report) -> dict:
    """What `--json` prints: the report through json, as a machine reads it."""
    return json.loads(json.dumps(report.to_dict(), ensure_ascii=False, default=str))


def assert_sheet_for_people(ws, headers: list[str]) -> None:
    assert ws.sheet_view.rightToLeft is True
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]][: len(headers)] == headers
    assert all(c.font.b for c in ws[1])
    for letter, dim in ws.column_dimensions.items():
        if not dim.hidden:
            assert dim.width >= 8, letter


def number_cells(ws, header: str):
    col = [c.value for c in ws[1]].index(header) + 1
    return [row[0] for row in ws.iter_rows(min_row=2, min_col=col, max_col=col)]


@pytest.fixture
def refusals(sessions):
    with sessions() as s:
        audit.append(s, at=T0, actor="payments", action="payment.refused", entity="payment", entity_id="PAY-1",
                     reason=Reason.NO_CONTRACT_CODE, payload={"amount_rial": 3_609_525_000})
        s.add(Payment(ref="PAY-4", payment_key="k4", result="refused", reason="DUPLICATE_PAYMENT",
                      amount_rial=12_421_500_000, at=T0 + timedelta(hours=2)))
        s.commit()
    return sessions


def test_r15_monthly_excel_counts_are_grouped_numbers_under_persian_headers(tmp_path, sessions, policy, add_contract):
    add_contract("district-12", "final", "large", concluded="1400/06/10 10:00", created="1400/06/01 10:00")
    add_contract("district-12", "budget", "small", created="1400/06/02 10:00")
    report = monthly_report(sessions, policy, 1400, 6, unit="district-12")
    ws, header, rows = reopen(report, tmp_path)
    assert_sheet_for_people(ws, ["شناسهٔ واحد", "واحد", "نصاب", "منعقدشده در ماه", "در جریان"])
    for name in ("منعقدشده در ماه", "در جریان"):
        cells = number_cells(ws, name)
        assert all(isinstance(c.value, int) and c.number_format == "#,##0" for c in cells)
    expected = {r["threshold_class_fa"]: (r["concluded"], r["in_progress"]) for r in as_json(report)["rows"]}
    assert {r["نصاب"]: (r["منعقدشده در ماه"], r["در جریان"]) for r in rows} == expected
    assert expected["بزرگ"] == (1, 0) and expected["کوچک"] == (0, 1)
    assert rows[0]["شناسهٔ واحد"] == "district-12"  # identifiers exactly as typed
    assert ws.title == sheet_name(report.title) and "/" not in ws.title


def test_r15_refused_payments_excel_amounts_and_jalali_times(tmp_path, refusals):
    report = refused_payments_report(refusals)
    ws, header, rows = reopen(report, tmp_path)
    assert_sheet_for_people(ws, ["زمان", "مرجع", "کد دلیل", "دلیل", "مبلغ (ریال)", "منبع"])
    amounts = number_cells(ws, "مبلغ (ریال)")
    assert all(c.number_format == "#,##0" and type(c.value) is int for c in amounts)
    data = as_json(report)["rows"]
    assert [r["مبلغ (ریال)"] for r in rows] == [r["amount_rial"] for r in data] == [3_609_525_000, 12_421_500_000]
    # Jalali Tehran time as text with Persian digits; the ISO UTC in a hidden column for machines.
    assert [r["زمان"] for r in rows] == ["۱۴۰۰/۰۶/۱۰ ۱۰:۳۰", "۱۴۰۰/۰۶/۱۰ ۱۲:۳۰"]
    iso_header = "زمان (UTC، ISO 8601)"
    assert [r[iso_header] for r in rows] == [r["at"] for r in data] == [T0.isoformat(), (T0 + timedelta(hours=2)).isoformat()]
    iso_letter = chr(ord("A") + header.index(iso_header))
    assert ws.column_dimensions[iso_letter].hidden is True
    assert rows[0]["کد دلیل"] == "NO_CONTRACT_CODE" and rows[0]["دلیل"] == Reason.NO_CONTRACT_CODE.message_fa


def test_r24_projects_excel_amounts_equal_the_json_report(tmp_path, sessions, add_contract):
    code = make_contract_code("12", 1400, 3)
    final = add_contract("district-12", "final", "medium", concluded="1400/06/10 10:00", amount=12_421_500_000,
                         code=code, subject="لکه‌گیری آسفالت")
    with sessions() as s:
        s.add(StatusStatement(contract_id=final, ref="S1", seq=1, at=T0, cumulative_rial=3_609_525_000,
                              gross_rial=3_609_525_000, payable_rial=3_609_525_000, result="approved"))
        s.commit()
    report = projects_report(sessions)
    ws, header, rows = reopen(report, tmp_path)
    assert_sheet_for_people(ws, ["کد پروژه", "عنوان", "واحد", "پیشرفت فیزیکی (٪)"])
    (row,), (data,) = rows, as_json(report)["rows"]
    for key, title in report.columns:
        if report.kinds.get(key) == "amount" and data[key] is not None:
            assert type(row[title]) is int and row[title] == data[key], key
            assert number_cells(ws, title)[0].number_format == "#,##0"
    assert row["تعهدات (ریال)"] == 12_421_500_000 and row["جمع صورت‌وضعیت‌ها (ریال)"] == 3_609_525_000
    assert row["تاریخ شروع"] == "۱۴۰۰/۰۶/۱۰" and row["تاریخ شروع (ISO 8601)"] == data["start_date"]
    assert row["کد پروژه"] == code and row["تعداد قراردادها"] == 1


def test_r24_cells_keep_numbers_numbers_and_refuse_unknown_kinds(tmp_path):
    from decimal import Decimal

    assert cell_value(Decimal("4000000000"), "amount") == 4_000_000_000
    assert cell_value("42.50", "percent") == "42.50" and cell_value(42.5, "percent") == 42.5
    assert cell_value("1405/09/08", "jalali") == "۱۴۰۵/۰۹/۰۸"
    assert cell_value("1405/09/08", "jalali", persian=False) == "1405/09/08"
    assert cell_value("b1", "text") == "b1" and cell_value(None, "amount") is None
    bad = Report("x", "x", [("a", "الف")], [{"a": 1}], kinds={"a": "money"})
    with pytest.raises(DomainError) as err:
        write_report(bad, tmp_path / "bad.xlsx")
    assert err.value.reason is Reason.INVALID_INPUT
