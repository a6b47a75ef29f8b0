"""The flows that deployments run (prefect.yaml entrypoints): each enters the production
container of its worker (eproc.wiring) and runs the process flow of the same name, so a worker on
any machine with the same code, settings and tokens can run them with ids as the only parameters."""
from __future__ import annotations

from prefect import flow

from eproc import wiring
from flows.contract_registration import contract_registration_flow
from flows.reports import monthly_report_flow
from flows.status_statement import statements_and_payments_flow
from flows.tender import tender_flow


@flow(name="tender", flow_run_name="tender-{tender_id}", log_prints=True)
def tender(tender_id: str) -> dict:
    """مناقصهٔ الکترونیکی: جلسهٔ بازگشایی، صورتجلسهٔ ماده ۱۳، ابلاغ ماده ۱۸ و امضای قرارداد"""
    with wiring.scope():
        return tender_flow.fn(tender_id)


@flow(name="contract-registration", flow_run_name="contract-{tender_id}", log_prints=True)
def contract_registration(tender_id: str, bidder: str) -> dict:
    """ثبت قرارداد با گردش کار و صدور کد قرارداد"""
    with wiring.scope():
        return contract_registration_flow.fn(tender_id, bidder)


@flow(name="status-statements-and-payments", flow_run_name="statements-{tender_id}", log_prints=True)
def status_statements(tender_id: str) -> dict:
    """صورت‌وضعیت‌ها و پرداخت‌های قرارداد"""
    with wiring.scope():
        return statements_and_payments_flow.fn(tender_id)


@flow(name="monthly-reports", log_prints=True)
def monthly_reports(year: int | None = None, month: int | None = None) -> dict:
    """گزارش ماهانهٔ قراردادهای منعقد و در جریان هر واحد به تفکیک نصاب (R15)"""
    with wiring.scope():
        return monthly_report_flow.fn(year, month)


@flow(name="audit-checkpoint", log_prints=True)
def audit_checkpoint() -> dict:
    """نقطهٔ وارسی ساعتی گزارش ممیزی: امضای سر زنجیره با توکن سامانه و انتشار آن"""
    from services.checkpoints import checkpoint

    with wiring.scope() as deps:
        taken = checkpoint(deps, "hourly")
        return taken.to_dict() if taken is not None else {"seq": None}
