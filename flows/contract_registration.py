"""Contract registration with workflow (R12, R13, R21), as the unit lives it.

    award (final Article 13 minutes) → contract with a tracking number → draft → legal review
      → budget (budget line, expense factor) → treasurer (token signature) → signing (employer
      and contractor, tokens) → final: contract code → transparency site, project control

Each stage is approved by whoever holds its role in the unit that day; the flow stops where a
stage cannot be approved (a missing field, a rehearsal's stop) and continues from there on a re-run.
"""
from __future__ import annotations

from prefect import flow

from domain.persian import format_jalali_datetime, format_rial, persian_digits
from domain.reasons import Reason
from flows import runtime
from services import contract as contract_svc
from tasks.contract import (
    approve_stage,
    contract_state,
    open_contract,
    publish_contract,
    register_in_project_control,
)
from tasks.notify import notify_contractor

STAGE_FA = {"draft": "پیش‌نویس", "legal_review": "بررسی حقوقی", "budget": "تأمین اعتبار", "treasurer": "ذی‌حساب",
            "signing": "امضای طرفین", "final": "نهایی"}
ROLE_FA = {"contracts_officer": "کارشناس قراردادها", "legal": "نمایندهٔ حقوقی", "finance": "مدیر مالی",
           "treasurer": "ذی‌حساب", "chair": "امضاکنندهٔ کارفرما", "contractor_signatory": "امضاکنندهٔ پیمانکار"}


@flow(name="contract-registration", flow_run_name="contract-{tender_id}", log_prints=True)
def contract_registration_flow(tender_id: str, bidder: str) -> dict:
    """From the award to the contract code, one stage after another."""
    state = open_contract(tender_id, bidder)
    for stage in state.stages[:-1]:
        state = approve_stage(tender_id, stage)
        if state.stage == stage:  # stopped or blocked here
            break
    result = state.to_dict()
    if state.stage == contract_svc.FINAL:
        result["publication"] = publish_contract(tender_id).to_dict()
        result["project_control"] = register_in_project_control(tender_id).to_dict()
    _artifact(tender_id, state)
    return result


@flow(name="contract-progress", flow_run_name="contract-{tender_id}", log_prints=True)
def contract_progress_flow(tender_id: str) -> dict:
    """The contract as people move it at their stations (issue 13 part 3: started by the events
    `eproc.tender.contracted` and `eproc.contract.stage-approved`): the engine approves nothing; it
    reads the store, shows the workflow, and once `final` publishes the contract (R21) and registers
    it in project control (R14), each once (a rerun returns the stored outcome). Returns the
    contract's state (`ContractState.to_dict`), or `{"tender_id", "stage": None}` while nobody opened
    it, with `publication` and `project_control` once final."""
    state = contract_state(tender_id)
    if state is None:
        return {"tender_id": tender_id, "stage": None, "code": None}
    result = state.to_dict()
    if state.stage == contract_svc.FINAL:
        result["publication"] = publish_contract(tender_id).to_dict()
        result["project_control"] = register_in_project_control(tender_id).to_dict()
    notify_contractor(state.tracking_number)  # each stage passed and the code, once each (R26)
    _artifact(tender_id, state)
    return result


def _artifact(tender_id: str, state: contract_svc.ContractState) -> None:
    rows = []
    for a in contract_svc.approvals(runtime.deps(), tender_id):
        stage = a.stage.split("/", 1)[0]
        rows.append([STAGE_FA.get(stage, stage), ROLE_FA.get(a.role, a.role), a.national_id,
                     persian_digits(format_jalali_datetime(a.at)), "با توکن" if a.signature_ref else "—"])
    lines = [f"- شمارهٔ پیگیری: {state.tracking_number}",
             f"- کد قرارداد: {state.code or 'صادر نشده'}",
             f"- مبلغ: {persian_digits(format_rial(state.amount_rial))} ریال",
             f"- مرحلهٔ فعلی: {STAGE_FA.get(state.stage, state.stage)}"]
    if state.blocked_reason:
        lines.append(f"- توقف: {Reason(state.blocked_reason).message_fa}")
    if state.stopped_at:
        lines.append(f"- گردش پیش از مرحلهٔ «{STAGE_FA.get(state.stopped_at, state.stopped_at)}» متوقف شد")
    runtime.publish(runtime.artifact_key(tender_id, "contract"), f"ثبت قرارداد با گردش — {tender_id}",
                    [*lines, "", *runtime.table(["مرحله", "سمت", "کد ملی تأییدکننده", "زمان", "امضا"], rows)],
                    f"گردش قرارداد {tender_id}")
