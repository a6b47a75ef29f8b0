"""Status statements and payments of a contract (R13, R14, R17, R18, R20), in time order.

    contractor signs the statement → supervisor → employer's reviewer → (stricter path: deputy)
      → treasurer signs → project control records it → financial system: expense document, payment

Each statement and each payment request happens at its own time; the financial system fetches
the contract and the statement from this system and refuses what the rules forbid.
"""
from __future__ import annotations

from prefect import flow

from domain.persian import format_rial, persian_digits
from domain.reasons import Reason
from flows import runtime
from services.contract import statements as statements_svc
from tasks.contract import contract_state, request_payment, review_statement, statement_outcomes, statement_state
from tasks.notify import notify_contractor

RESULT_FA = {"approved": "تأیید", "halted": "توقف", "refused": "رد", "paid": "پرداخت شد", "in_review": "در گردش امضا"}


@flow(name="status-statements-and-payments", flow_run_name="statements-{tender_id}", log_prints=True)
def statements_and_payments_flow(tender_id: str) -> dict:
    """Each statement and each payment request at its own time, in order."""
    deps = runtime.deps()
    statements: dict[str, dict] = {}
    payments: dict[str, dict] = {}
    for at, kind, ref in statements_svc.timeline(deps, tender_id):
        runtime.wait_until(deps.clock, at)
        if kind == "statement":
            statements[ref] = review_statement(tender_id, ref).to_dict()
        else:
            payments[ref] = request_payment(tender_id, ref).to_dict()
    _artifact(tender_id, statements, payments)
    return {"status_statements": statements, "payments": payments}


@flow(name="status-statement", flow_run_name="statement-{tender_id}-{ref}", log_prints=True)
def statement_progress_flow(tender_id: str, ref: str) -> dict:
    """Statement `ref` as its path signs it at their stations (issue 13 part 3: started by the events
    `eproc.statement.submitted`, `eproc.statement.approved` and `eproc.payment.receipt-recorded`): the
    engine signs nothing; it reads the store and shows every statement and payment of the contract
    to the operators. Returns `{"tender_id", "ref", "statement": outcome or None, "status_statements",
    "payments"}` (outcomes as `StatementOutcome.to_dict` / `PaymentOutcome.to_dict`, amounts in rials)."""
    outcome = statement_state(tender_id, ref)
    statements, payments = statement_outcomes(tender_id)
    contract = contract_state(tender_id)
    if contract is not None:  # the statement approved or returned, payments made: once each (R26)
        notify_contractor(contract.tracking_number)
    if statements:
        _artifact(tender_id, statements, payments)
    return {"tender_id": tender_id, "ref": ref, "statement": outcome.to_dict() if outcome is not None else None,
            "status_statements": statements, "payments": payments}


def _money(value: int | None) -> str:
    return persian_digits(format_rial(value)) if value is not None else "—"


def _reason(code: str | None) -> str:
    return Reason(code).message_fa if code else "—"


def _artifact(tender_id: str, statements: dict[str, dict], payments: dict[str, dict]) -> None:
    rows = [[ref, RESULT_FA.get(s["result"], s["result"]), _money(s["cumulative_rial"]), _money(s["gross_rial"]),
             _money(s["penalty_rial"]), _money(s["payable_rial"]), _reason(s["reason"])] for ref, s in statements.items()]
    pay = [[ref, RESULT_FA.get(p["result"], p["result"]), _money(p["amount_rial"]), _reason(p["reason"])]
           for ref, p in payments.items()]
    runtime.publish(runtime.artifact_key(tender_id, "statements"), f"صورت‌وضعیت‌ها و پرداخت‌ها — {tender_id}",
                    [*runtime.table(["صورت‌وضعیت", "نتیجه", "کارکرد تجمعی (ریال)", "ناخالص (ریال)", "جریمه (ریال)",
                                     "قابل پرداخت (ریال)", "علت"], rows), "",
                     *runtime.table(["درخواست پرداخت", "نتیجه", "مبلغ (ریال)", "علت"], pay)],
                    f"صورت‌وضعیت‌های {tender_id}")
