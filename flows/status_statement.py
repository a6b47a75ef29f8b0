"""Status statements and payments of a contract (R13, R14, R17, R18, R20), in time order.

    contractor signs the statement → supervisor → employer's reviewer → (stricter path: deputy)
      → treasurer signs → project control records it → financial system: expense document, payment

Each statement and each payment request happens at its own time; the financial system fetches
the contract and the statement from this system and refuses what the rules forbid.
"""
from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from domain.persian import format_rial, persian_digits
from domain.reasons import Reason
from flows.tender import wait_until
from services import bootstrap, contract as contract_svc, statements as statements_svc
from tasks.contract import request_payment, review_statement

RESULT_FA = {"approved": "تأیید", "halted": "توقف", "refused": "رد", "paid": "پرداخت شد"}


@flow(name="status-statements-and-payments", flow_run_name="statements-{tender_id}", log_prints=True)
def statements_and_payments_flow(tender_id: str) -> dict:
    deps = bootstrap.current()
    statements: dict[str, dict] = {}
    payments: dict[str, dict] = {}
    for at, kind, ref in statements_svc.timeline(contract_svc.context(), tender_id):
        wait_until(deps.clock, at)
        if kind == "statement":
            statements[ref] = review_statement(tender_id, ref)
        else:
            payments[ref] = request_payment(tender_id, ref)
    _artifact(tender_id, statements, payments)
    return {"status_statements": statements, "payments": payments}


def _money(value: int | None) -> str:
    return persian_digits(format_rial(value)) if value is not None else "—"


def _reason(code: str | None) -> str:
    return Reason(code).message_fa if code else "—"


def _artifact(tender_id: str, statements: dict[str, dict], payments: dict[str, dict]) -> None:
    rows = ["| صورت‌وضعیت | نتیجه | کارکرد تجمعی (ریال) | ناخالص (ریال) | جریمه (ریال) | قابل پرداخت (ریال) | علت |",
            "|---|---|---|---|---|---|---|"]
    for ref, s in statements.items():
        rows.append(f"| {ref} | {RESULT_FA.get(s['result'], s['result'])} | {_money(s['cumulative_rial'])} | "
                    f"{_money(s['gross_rial'])} | {_money(s['penalty_rial'])} | {_money(s['payable_rial'])} | "
                    f"{_reason(s['reason'])} |")
    pay = ["| درخواست پرداخت | نتیجه | مبلغ (ریال) | علت |", "|---|---|---|---|"]
    for ref, p in payments.items():
        pay.append(f"| {ref} | {RESULT_FA.get(p['result'], p['result'])} | {_money(p['amount_rial'])} | "
                   f"{_reason(p['reason'])} |")
    key = "".join(c if c.isalnum() else "-" for c in tender_id.lower())
    create_markdown_artifact(key=f"{key}-statements",
                             markdown=f"## صورت‌وضعیت‌ها و پرداخت‌ها — {tender_id}\n\n" + "\n".join(rows)
                             + "\n\n" + "\n".join(pay), description=f"صورت‌وضعیت‌های {tender_id}")
