"""The flows that deployments run (prefect.yaml entrypoints): each enters the production
container of its worker (eproc.wiring) and runs the process flow of the same name, so a worker on
any machine with the same code, settings and tokens can run them with ids as the only parameters."""
from __future__ import annotations

from prefect import flow

from eproc import wiring
from flows.contract_registration import contract_progress_flow, contract_registration_flow
from flows.payments import payment_flow
from flows.reports import monthly_report_flow
from flows.status_statement import statement_progress_flow, statements_and_payments_flow
from flows.tender import tender_flow
from services.contract import events


@flow(name="tender", flow_run_name="tender-{tender_id}", log_prints=True)
def tender(tender_id: str) -> dict:
    """مناقصهٔ الکترونیکی: جلسهٔ بازگشایی، صورتجلسهٔ ماده ۱۳، ابلاغ ماده ۱۸ و امضای قرارداد (حراج: بستن پنجره و جلسه)"""
    from services.auction import is_online_auction

    with wiring.scope() as deps:
        # One run per announced transaction, scheduled at its opening time; an online auction's
        # opening time is its latest possible close, and its flow waits for the actual close.
        if is_online_auction(deps, tender_id):
            from flows.online_auction import online_auction_flow

            result: dict = online_auction_flow.fn(tender_id)
        else:
            result = tender_flow.fn(tender_id)
        # The winner (or the runner-up) signed: the contract's registration starts by itself (issue 13 part 3).
        if result.get("contract_bidder"):
            events.emit(deps, events.tender_contracted(tender_id, str(result["contract_bidder"])))
        return result


@flow(name="tender-wake", flow_run_name="wake-{tender_id}", log_prints=True)
def tender_wake(tender_id: str) -> dict:
    """بیدار کردن اجرای مناقصه در پایان مهلت انتظار (آزادسازی سهم‌ها یا امضاها): اجرا از نو بررسی می‌کند و در صورت
    نرسیدن، با علت متوقف می‌شود — resume the tender's suspended run at the end of its wait"""
    with wiring.scope() as deps:
        if deps.orchestrator is not None:
            deps.orchestrator.wake(tender_id)
        return {"tender_id": tender_id, "woken": deps.orchestrator is not None}


@flow(name="contract-registration", flow_run_name="contract-{tender_id}", log_prints=True)
def contract_registration(tender_id: str, bidder: str | None = None) -> dict:
    """ثبت قرارداد با گردش کار و صدور کد قرارداد — started by `eproc.tender.contracted` and
    `eproc.contract.stage-approved`. A worker wired with a rehearsal's contract inputs
    (`EPROC_DECISIONS=scripted:...`) runs the rehearsal's engine-side registration for `bidder`;
    otherwise the people approve at their stations and the run follows the store."""
    with wiring.scope() as deps:
        if bidder and deps.contract_inputs is not None:
            return contract_registration_flow.fn(tender_id, bidder)
        return contract_progress_flow.fn(tender_id)


@flow(name="status-statements-and-payments", flow_run_name="statements-{tender_id}", log_prints=True)
def status_statements(tender_id: str, ref: str | None = None) -> dict:
    """صورت‌وضعیت‌ها و پرداخت‌های قرارداد — with `ref` (started by `eproc.statement.submitted`,
    `eproc.statement.approved`, `eproc.payment.receipt-recorded`): that statement as its path signs it at
    their stations, from the store; without: a rehearsal's statements and payments at their times."""
    with wiring.scope():
        if ref:
            return statement_progress_flow.fn(tender_id, ref)
        return statements_and_payments_flow.fn(tender_id)


@flow(name="payment", flow_run_name="payment-{tender_id}-{ref}", log_prints=True)
def payment(tender_id: str, ref: str, payment_ref: str | None = None) -> dict:
    """پرداخت صورت‌وضعیت تأییدشده از سامانهٔ مالی، یک بار — started by `eproc.statement.approved` and
    `eproc.payment.requested`; a second event for the same statement pays nothing more."""
    with wiring.scope():
        return payment_flow.fn(tender_id, ref, payment_ref)


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
