"""The payment of one status statement, started by an event (issue 13 part 3; R13, R14, R28, R29).

    eproc.statement.approved (the last signature of its path) | eproc.payment.requested
      → the financial system records the expense document and pays, from this system's data, once
      → eproc.payment.receipt-recorded (the statements' view is refreshed)

The store says what is done: a statement not yet approved is left for a later event, a payment
already attempted (or a statement already paid) is returned as stored, so a second event never pays
twice (the financial system's payment key is the same again). The deployment runs one payment at a
time (prefect.yaml `concurrency_limit`), so two events for the same statement never race."""
from __future__ import annotations

from prefect import flow

from domain.persian import format_rial, persian_digits
from domain.reasons import Reason
from flows import runtime
from services.contract import events
from tasks.contract import contract_state, pay_statement
from tasks.notify import notify_contractor

RESULT_FA = {"paid": "پرداخت شد", "refused": "رد"}


@flow(name="payment", flow_run_name="payment-{tender_id}-{ref}", log_prints=True)
def payment_flow(tender_id: str, ref: str, payment_ref: str | None = None) -> dict:
    """Pay statement `ref` of the tender's contract under `payment_ref` (default `<ref>-pay`).
    Returns `{"tender_id", "ref", "payment_ref", "payment": PaymentOutcome.to_dict() or None}`: None
    while the statement is not approved (or does not exist); amounts in rials."""
    payment_ref = payment_ref or events.payment_ref_for(ref)
    before = contract_state(tender_id)
    outcome, asked = pay_statement(tender_id, ref, payment_ref)
    if outcome is not None:
        lines = [f"- درخواست پرداخت: {outcome.ref}",
                 f"- نتیجه: {RESULT_FA.get(outcome.result, outcome.result)}",
                 f"- مبلغ: {persian_digits(format_rial(outcome.amount_rial))} ریال"]
        if outcome.reason:
            lines.append(f"- علت: {Reason(outcome.reason).message_fa}")
        runtime.publish(runtime.artifact_key(tender_id, "payment", ref), f"پرداخت صورت‌وضعیت {ref} — {tender_id}",
                        lines, f"پرداخت صورت‌وضعیت {ref}")
        if asked and outcome.result == "paid" and before is not None:
            events.emit(runtime.deps(), events.receipt_recorded(tender_id, before.tracking_number, before.code, ref,
                                                                outcome.ref))
    if before is not None:
        notify_contractor(before.tracking_number)  # the payment made, once (R26)
    return {"tender_id": tender_id, "ref": ref, "payment_ref": payment_ref,
            "payment": outcome.to_dict() if outcome is not None else None}
