"""Refused payments with their reason codes, and construction-project figures (R24)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy.exc import OperationalError

from domain.contract.code import make_contract_code
from domain.reasons import Reason
from render.excel import write_report
from services.reports import projects_report, refused_payments_report
from store import audit
from store.models import Payment, StatusStatement

T0 = datetime(2021, 9, 1, 6, 0, tzinfo=timezone.utc)


def test_refused_payments_come_from_the_audit_log_and_the_payments(sessions):
    with sessions() as s:
        audit.append(s, at=T0, actor="payments", action="payment.refused", entity="payment", entity_id="PAY-1",
                     reason=Reason.NO_CONTRACT_CODE, payload={"amount_rial": 70_000_000})
        audit.append(s, at=T0 + timedelta(hours=1), actor="payments", action="payment.refused", entity="payment",
                     entity_id="PAY-2", reason=Reason.CONTRACT_NOT_FINAL)
        audit.append(s, at=T0, actor="payments", action="payment.refused", entity="payment", entity_id="PAY-X")
        audit.append(s, at=T0, actor="payments", action="payment.paid", entity="payment", entity_id="PAY-3",
                     reason=Reason.NO_CONTRACT_CODE)
        s.add(Payment(ref="PAY-4", payment_key="k4", result="refused", reason="DUPLICATE_PAYMENT",
                      amount_rial=5_000, at=T0 + timedelta(hours=2)))
        s.add(Payment(ref="PAY-5", payment_key="k5", result="paid", amount_rial=9_000, at=T0))
        # The same attempt written both ways is listed once.
        s.add(Payment(ref="PAY-2", payment_key="k2", result="refused", reason="CONTRACT_NOT_FINAL",
                      at=T0 + timedelta(hours=1)))
        s.commit()

    report = refused_payments_report(sessions)
    assert [(r["ref"], r["reason"]) for r in report.rows] == [
        ("PAY-1", "NO_CONTRACT_CODE"), ("PAY-2", "CONTRACT_NOT_FINAL"), ("PAY-4", "DUPLICATE_PAYMENT")]
    assert report.meta["by_reason"] == {"CONTRACT_NOT_FINAL": 1, "DUPLICATE_PAYMENT": 1, "NO_CONTRACT_CODE": 1}
    assert report.rows[0]["reason_fa"] == Reason.NO_CONTRACT_CODE.message_fa
    assert report.rows[0]["amount_rial"] == 70_000_000 and report.rows[0]["at_jalali"] == "1400/06/10 10:30"


def test_refused_payments_excel(tmp_path, sessions):
    with sessions() as s:
        s.add(Payment(ref="PAY-4", payment_key="k4", result="refused", reason="DUPLICATE_PAYMENT",
                      amount_rial=5_000, at=T0))
        s.commit()
    ws = load_workbook(write_report(refused_payments_report(sessions), tmp_path / "r.xlsx")).active
    assert ws.sheet_view.rightToLeft is True
    assert [c.value for c in ws[1]][:3] == ["زمان", "مرجع", "کد دلیل"]
    assert list(ws.iter_rows(min_row=2, values_only=True))[0][1:5] == (
        "PAY-4", "DUPLICATE_PAYMENT", Reason.DUPLICATE_PAYMENT.message_fa, 5_000)


def test_r24_without_project_control_the_store_final_contracts_are_reported(sessions, add_contract):
    code = make_contract_code("12", 1400, 3)
    final = add_contract("district-12", "final", "medium", concluded="1400/06/10 10:00", amount=4_000_000_000,
                         code=code, subject="ساخت پل عابر پیاده")
    add_contract("district-12", "budget", "small")
    with sessions() as s:
        for seq, (result, payable) in enumerate([("approved", 1_000_000), ("approved", 2_500_000),
                                                 ("refused", 9_000_000)], start=1):
            s.add(StatusStatement(contract_id=final, ref=f"S{seq}", seq=seq, at=T0, cumulative_rial=payable,
                                  gross_rial=payable, payable_rial=payable, result=result))
        s.commit()
    report = projects_report(sessions)
    assert report.meta["source"] == "transactions"
    (row,) = report.rows
    assert (row["project_code"], row["title"], row["unit"]) == (code, "ساخت پل عابر پیاده", "district-12")
    assert row["commitments_rial"] == 4_000_000_000 and row["statements_total_rial"] == 3_500_000
    assert row["statements_count"] == 2 and row["start_date_jalali"] == "1400/06/10"
    assert projects_report(sessions, unit="district-2").rows == []


class FakeProjectControl:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[str | None] = []

    def project_figures(self, unit=None):
        self.asked.append(unit)
        if self.fail:
            raise OperationalError("SELECT", {}, Exception("no such table: ext_pc_projects"))
        return [{"project_code": "P-1", "title": "بوستان", "unit": "district-2", "physical_progress_pct": "42.50",
                 "planned_progress_pct": "50.00", "start_date_jalali": "1400/01/15",
                 "planned_end_date_jalali": "1401/01/15", "credits_rial": 9_000_000_000,
                 "commitments_rial": 4_000_000_000, "statements_total_rial": 1_000_000, "costs_rial": 0,
                 "contracts": [{"contract_code": "02-1400-000001-X"}]}]


def test_r24_figures_come_from_project_control_when_available(tmp_path, sessions, add_contract):
    source = FakeProjectControl()
    report = projects_report(sessions, source, unit="district-2")
    assert source.asked == ["district-2"] and report.meta["source"] == "project_control"
    (row,) = report.rows
    assert row["physical_progress_pct"] == 42.5 and row["contracts_count"] == 1
    ws = load_workbook(write_report(report, tmp_path / "p.xlsx")).active
    values = list(ws.iter_rows(min_row=2, values_only=True))[0]
    assert values[0] == "P-1" and values[3] == 42.5 and values[7] == 9_000_000_000


def test_r24_unreachable_project_control_falls_back_to_the_store(sessions, add_contract):
    add_contract("district-12", "final", "small", concluded="1400/06/10 10:00", code=make_contract_code("12", 1400, 1))
    report = projects_report(sessions, FakeProjectControl(fail=True))
    assert report.meta["source"] == "transactions" and len(report.rows) == 1


def test_r24_with_the_project_control_stub(engine, sessions, add_contract, clock):
    from integrations.project_control import ProjectDefinition
    from services.reports import project_control_source
    from store.stub_tables import StubBase

    StubBase.metadata.create_all(engine)
    source = project_control_source(engine, clock)
    source.define_project(ProjectDefinition(project_code="PRJ-7", title="زیرگذر", unit="district-12",
                                            start_date=date(2021, 4, 1), planned_end_date=date(2022, 3, 1),
                                            credits_rial=12_000_000_000))
    source.report_progress("PRJ-7", "30", "35.5", date(2021, 9, 1))
    report = projects_report(sessions, source)
    assert report.meta["source"] == "project_control"
    (row,) = report.rows
    assert (row["project_code"], row["planned_progress_pct"], row["credits_rial"]) == ("PRJ-7", 35.5, 12_000_000_000)


def test_r24_subject_is_read_where_each_path_stores_it(sessions, add_contract):
    engine = add_contract("district-12", "final", "small", concluded="1400/06/10 10:00",
                          code=make_contract_code("12", 1400, 7), subject="لکه‌گیری آسفالت")
    legacy = add_contract("district-12", "final", "small", concluded="1399/02/01 10:00",
                          code=make_contract_code("12", 1399, 8), subject="نگهداری فضای سبز", legacy=True)
    titles = {r["project_code"]: r["title"] for r in projects_report(sessions).rows}
    assert titles == {make_contract_code("12", 1400, 7): "لکه‌گیری آسفالت",
                      make_contract_code("12", 1399, 8): "نگهداری فضای سبز"}
    assert engine != legacy
