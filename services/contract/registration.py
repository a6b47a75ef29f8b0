"""Contract registration with workflow (R12, R13, R21), as the transactions system runs it.

The contract is created from the award: amount, contractor and commission come from the final
Article 13 minutes, people and companies from the registries. It then walks the unit's policy
stages; each stage is approved by whoever holds its role in that unit on that day, the stages
that need it are e-signed with tokens on one canonical contract document, and the contract code
is issued only on reaching `final`. Every step reads the store first, so a re-run continues
where the last one stopped and never approves twice."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.contract.code import ContractCodeSequence
from domain.contract.fields import GENERAL
from domain.contract.income import INCOME
from domain.contract.roles import Act
from domain.contract.workflow import (
    CONTRACTOR_SIGNATORY,
    FINAL,
    ContractRegistration,
    StageDef,
    StageEvent,
    stages_from_policy,
)
from domain.persian import jalali_year, to_tehran
from domain.policy.calendar import WITHOUT_WORKFLOW
from domain.reasons import DomainError, Reason
from services import rules_calendar, tender as tender_svc
from services.contract.award import award_for
from services.contract.document import contract_for, data_of, reread_contract, sign_contract_document
from services.contract.income import income_data, nature_for
from services.contract.inputs import ContractTerms
from services.deps import Deps
from services.signers import COMPANY_SIGNATORY, RoleCheck
from store import models as m
from store.uow import UnitOfWork, record_refusal

ENGINE_ACTOR = "engine"


@dataclass(frozen=True)
class ContractState:
    """The contract's registration state: tracking number, code (None before `final`), current stage,
    amount (rials), bidder, the unit's stages, a rehearsal's stop and a refusal's reason code."""

    tender_id: str
    tracking_number: str
    code: str | None
    stage: str
    amount_rial: int
    bidder: str
    stages: tuple[str, ...]
    stopped_at: str | None = None
    blocked_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tender_id": self.tender_id, "tracking_number": self.tracking_number, "code": self.code,
                "stage": self.stage, "amount_rial": self.amount_rial, "bidder": self.bidder,
                "stages": list(self.stages), "stopped_at": self.stopped_at, "blocked_reason": self.blocked_reason}


def next_contract_code(deps: Deps, uow: UnitOfWork, unit_id: str, at: datetime) -> str:
    """The unit's next contract code for the Jalali year of `at`, counted in the store inside the
    caller's transaction (domain.contract.code.ContractCodeSequence; R12: issued only at `final`)."""
    return ContractCodeSequence(lambda unit: deps.policy.unit(unit).code, uow.contracts.count_for_unit_year)(unit_id, at)


def stages_for(deps: Deps, unit: str) -> tuple[StageDef, ...]:
    """The unit's workflow stages from the policy (R12; default in config/policy/default.toml)."""
    return stages_from_policy(deps.policy.stages(unit))


def state(deps: Deps, tender_id: str, blocked_reason: str | None = None) -> ContractState:
    """The contract registered for the tender.

    Raises: INVALID_INPUT when no contract is registered for it."""
    with deps.uow() as uow:
        row = contract_for(uow, tender_id)
    data = data_of(row)
    stages = tuple(s.name for s in stages_for(deps, row.unit_id))
    stop = data.get("terms", {}).get("stop_at_stage")
    return ContractState(tender_id, row.tracking_number, row.code, row.stage, row.amount_rial, data.get("bidder", ""),
                         stages, stop if stop == row.stage else None, blocked_reason)


def open_contract(deps: Deps, tender_id: str, bidder: str, terms: ContractTerms, *,
                  actor: str = ENGINE_ACTOR, terms_later: bool = False) -> ContractState:
    """The contract as the award states it, at the first stage with a tracking number. `actor`: who
    opened it (audited: the engine in a rehearsal, the contracts officer's national ID at a
    station); `terms_later`: the terms are entered afterwards (services.contract.at_stations), so a
    blank supervisor is allowed here. Idempotent: an existing contract is returned as it is.

    The contract's nature (expense | income) follows from the award's kind (R30); an income
    contract also keeps its schedule (services.contract.income.income_data).

    Raises: INVALID_INPUT (contractor or supervisor not in the registries, unknown stop stage, a
    stated nature the kind contradicts, a lease schedule that does not add up to the award),
    WRONG_STAGE (minutes not final). Rule: R12, R30."""
    with deps.uow() as uow:
        existing = uow.contracts.for_tender(tender_id)
    if existing is not None:
        return state(deps, tender_id)
    award = award_for(deps, tender_id, bidder)
    now = deps.clock.now()
    stages = stages_for(deps, award.unit)
    if terms.stop_at_stage is not None and terms.stop_at_stage not in {s.name for s in stages}:
        raise DomainError(Reason.INVALID_INPUT, f"مرحلهٔ «{terms.stop_at_stage}» در گردش قرارداد این واحد نیست")
    threshold = deps.policy.threshold_class(award.amount_rial, jalali_year(now))
    with deps.uow() as uow:
        company = uow.companies.get(award.company_id)
        supervisor = uow.people.get(terms.supervisor) if terms.supervisor or not terms_later else None
        if company is None or (supervisor is None and not terms_later):
            raise DomainError(Reason.INVALID_INPUT, "پیمانکار یا ناظر در سامانه ثبت نشده است")
        unit_row = uow.units.get(award.unit)
        fields = {
            "employer_signatories": [award.chair_nid],
            "commission_members": list(award.commission_nids),
            "contractor_national_id": company.national_id,
            "contractor_ceo": company.ceo_national_id,
            "contractor_signatories": [company.ceo_national_id] if company.ceo_national_id else [],
            "contractor_economic_code": company.economic_code,
            "contractor_grade": company.grade,
            "selection_method": award.kind,
            "supervisor": supervisor.national_id if supervisor is not None else "",
            "contract_date": to_tehran(now).date().isoformat(),
            "contract_amount_rial": award.amount_rial,
            "subject": award.title,
            "threshold_class": threshold,
            "budget_line": terms.budget_line,
            "expense_factor": terms.expense_factor,
        }
        reg = ContractRegistration.open(_tracking_number(uow, unit_row.code, award.unit, now), award.unit, GENERAL,
                                        fields, stages)
        data = {"tender_id": tender_id, "bidder": award.bidder, "fields": reg.fields,
                "price": {"estimate_rial": award.estimate_rial,
                          "coefficient": str(award.coefficient) if award.coefficient is not None else None},
                "terms": _terms_to_dict(terms)}
        # Expense or income, from the transaction kind (R30); an income contract keeps its schedule.
        data["nature"] = nature_for(award.kind, terms)
        if data["nature"] == INCOME:
            data["income"] = income_data(terms.income, award.amount_rial, to_tehran(now).date())
        uow.contracts.add(m.Contract(tracking_number=reg.tracking_number, code=None, tender_id=tender_id,
                                     unit_id=award.unit, kind=GENERAL, stage=reg.stage, threshold_class=threshold,
                                     amount_rial=award.amount_rial, contractor_id=company.national_id,
                                     budget_line=terms.budget_line or None,
                                     expense_factor=terms.expense_factor or None,
                                     data_json=json.dumps(data, ensure_ascii=False, sort_keys=True)))
        uow.record(at=now, actor=actor, action="contract.opened", entity="contract",
                   entity_id=reg.tracking_number,
                   payload={"tender_id": tender_id, "bidder": award.bidder, "amount_rial": award.amount_rial,
                            "threshold_class": threshold, "stage": reg.stage})
        uow.commit()
    return state(deps, tender_id)


def _tracking_number(uow: UnitOfWork, unit_code: str, unit: str, now: datetime) -> str:
    year = jalali_year(now)
    prefix = f"TRK-{unit_code}-{year}-"
    taken = uow.contracts.count_tracking(prefix)
    return f"{prefix}{taken + 1:05d}"


def _terms_to_dict(t: ContractTerms) -> dict[str, Any]:
    waste = None
    if t.waste is not None:
        waste = {"min_vehicles": t.waste.min_vehicles, "min_workers": t.waste.min_workers,
                 "penalty_per_missing_vehicle_rial": t.waste.penalty_per_missing_vehicle_rial,
                 "penalty_per_missing_worker_rial": t.waste.penalty_per_missing_worker_rial}
    return {"budget_line": t.budget_line, "expense_factor": t.expense_factor, "supervisor": t.supervisor,
            "stop_at_stage": t.stop_at_stage, "deductions": {k: str(v) for k, v in t.deductions.items()},
            "waste": waste}


def contract_role_check(base: RoleCheck) -> RoleCheck:
    """The domain names the contractor's signatory by its own role; the registry knows it as the
    company's signatory (checked against the company's CEO)."""

    def check(national_id: str, role: str, unit: str, at: datetime) -> bool:
        if role in (CONTRACTOR_SIGNATORY, "contractor"):
            role = COMPANY_SIGNATORY
        return base(national_id, role, unit, at)

    return check


def answered(role_check: RoleCheck, questions: list[tuple[str, str, str, datetime]]) -> RoleCheck:
    """The registry's answers to known questions, fixed in advance; any other question is a no."""
    answers = {q: role_check(*q) for q in questions}
    return lambda nid, role, unit, at: answers.get((nid, role, unit, at), False)


def registration_of(deps: Deps, row: m.Contract, approvals: list[m.ContractApproval]) -> ContractRegistration:
    """The domain state machine rebuilt from the stored row and its approvals."""
    data = data_of(row)
    history = []
    for a in sorted(approvals, key=lambda a: (a.approved_at, a.id)):
        stage = a.stage.split("/", 1)[0]
        unit = row.contractor_id if a.role == CONTRACTOR_SIGNATORY else row.unit_id
        history.append(StageEvent("approved", stage, a.approver_national_id, a.role, unit, a.approved_at,
                                  a.signature_ref))
    return ContractRegistration(tracking_number=row.tracking_number, unit=row.unit_id, kind=row.kind,
                                stages=stages_for(deps, row.unit_id), stage=row.stage, fields=dict(data["fields"]),
                                code=row.code, history=history)


def approval_key(stage: str, role: str, stage_role: str) -> str:
    # One row per (contract, stage) in the store: a co-signer's row is keyed "<stage>/<role>".
    """The stored key of an approval: the stage, or `<stage>/<role>` for a co-signer of the stage."""
    return stage if role == stage_role else f"{stage}/{role}"


def approve_stage(deps: Deps, tender_id: str, stage: str) -> ContractState:
    """Every approval the stage still waits for, in order; the contract then moves on.

    Idempotent: a stage already passed is left alone. A refusal (a missing budget line, a signer
    out of role) is audited and leaves the contract where it is.

    Raises: INVALID_INPUT (no contract for the tender), WRONG_STAGE (unknown stage); refusals of
    the stage itself (FIELD_MISSING, SIGNER_NOT_IN_ROLE, CERT_*) are returned in `blocked_reason`."""
    with deps.uow() as uow:
        row = contract_for(uow, tender_id)
    data = data_of(row)
    names = [s.name for s in stages_for(deps, row.unit_id)]
    if stage not in names:
        raise DomainError(Reason.WRONG_STAGE, f"مرحلهٔ ناشناخته: «{stage}»")
    if row.stage != stage:
        return state(deps, tender_id)  # passed already, or not reached yet
    if data["terms"].get("stop_at_stage") == stage:
        return state(deps, tender_id)
    try:
        while True:
            with deps.uow() as uow:
                row = contract_for(uow, tender_id)
                reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
            if reg.stage != stage or not reg.pending_roles():
                break
            _approve_one(deps, row, reg, reg.pending_roles()[0])
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor=ENGINE_ACTOR, action="contract.stage_refused",
                       entity="contract", entity_id=row.tracking_number, payload={"stage": stage})
        return state(deps, tender_id, blocked_reason=exc.reason.value)
    return state(deps, tender_id)


def _approve_one(deps: Deps, row: m.Contract, reg: ContractRegistration, role: str) -> None:
    sdef = reg.current
    now = deps.clock.now()
    role_check = contract_role_check(deps.role_check)
    if role == CONTRACTOR_SIGNATORY:
        ceo = reg.fields.get("contractor_ceo")
        if not ceo:
            raise DomainError(Reason.FIELD_MISSING, "contractor_ceo")
        nid, unit = str(ceo), row.contractor_id
    else:
        nid, unit = _approver(deps, reg, sdef, role, now), row.unit_id
    signature_ref = None
    if sdef.needs_token_signature:
        signature_ref = sign_contract_document(deps, row, reg, nid, role, unit)
    record_approval(deps, row, reg, Act(nid, role, unit, now, signature_ref), role_check)


def record_approval(deps: Deps, row: m.Contract, reg: ContractRegistration, act: Act, role_check: RoleCheck,
                    extra: dict[str, Any] | None = None) -> None:
    """One approval `act` (person, role, unit, time aware UTC, the verified signature's reference) of
    the contract's current stage, judged by the domain (`ContractRegistration.approve`: stage, role
    held in the unit at `act.at`, token signature where the stage needs one, the stage's fields, the
    code issued on reaching `final`) and stored with its audit entries; the contract moves on when the
    stage has every approval it waits for. The one writer of approvals: the rehearsal's engine-side
    path (`approve_stage`) and the stations' path (services.contract.at_stations) both call it.
    `extra`: more data for the stored contract (the stations' signed stage documents).

    Raises: WRONG_STAGE (another stage, or this role approved already), SIGNER_NOT_IN_ROLE,
    SIGNATURE_INVALID (a stage that needs a token signature without one), BUDGET_LINE_MISSING,
    EXPENSE_FACTOR_MISSING, FIELD_MISSING, INVALID_INPUT (a time before the previous act).
    Rule: R12, R13."""
    sdef = reg.current
    role, unit, now, signature_ref = act.role, act.unit, act.at, act.signature_ref
    # Asked before the write transaction: SQLite serialises writers and the registry read needs its own.
    role_check = answered(role_check, [(act.national_id, role, unit, now)])
    before = reg.stage
    issued = False
    with deps.uow() as uow:
        row = reread_contract(uow, row)
        reg.approve(sdef.name, act, role_check, lambda unit_id, at: next_contract_code(deps, uow, unit_id, at))
        event = reg.history[-1]
        uow.contracts.add_approval(m.ContractApproval(contract_id=row.id, stage=approval_key(sdef.name, role, sdef.role),
                                           approver_national_id=event.national_id, role=role, approved_at=now,
                                           signature_ref=signature_ref))
        uow.record(at=now, actor=event.national_id, action="contract.approved", entity="contract",
                   entity_id=row.tracking_number,
                   payload={"stage": sdef.name, "role": role, "unit": unit, "signature_ref": signature_ref})
        if extra:
            data = data_of(row)
            for key, value in extra.items():
                data.setdefault(key, []).append(value)
            row.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        if reg.stage != before:
            row.stage = reg.stage
            uow.record(at=now, actor=ENGINE_ACTOR, action="contract.stage", entity="contract",
                       entity_id=row.tracking_number, payload={"from": before, "to": reg.stage})
        if reg.code is not None and row.code is None:
            row.code = reg.code
            row.concluded_at = now
            uow.record(at=now, actor=ENGINE_ACTOR, action="contract.final", entity="contract",
                       entity_id=row.tracking_number, payload={"code": reg.code})
            # The unit's first contract with workflow switches registration without workflow off (R27).
            rules_calendar.note_event(uow, row.unit_id, rules_calendar.FIRST_CONTRACT_WITH_WORKFLOW, now, reg.code, now)
            issued = True
        uow.commit()
    if issued:
        notify_financial(deps, row.tracking_number)  # the contract is notified to the contractor (R28)


def _approver(deps: Deps, reg: ContractRegistration, sdef: StageDef, role: str, at: datetime) -> str:
    """The person who holds the role in the unit that day; at signing the employer's signatory named
    on the contract signs for the employer."""
    day = to_tehran(at).date()
    signatories = reg.fields.get("employer_signatories")
    if sdef.contractor_signs and isinstance(signatories, (list, tuple)) and signatories:
        return str(signatories[0])
    with deps.uow() as uow:
        holders = uow.roles.holders(reg.unit, day, [role])
    principals = [h for h in holders if h.alternate_for is None] or list(holders)
    if sdef.needs_token_signature:
        principals = [h for h in principals if h.national_id in deps.signers] or principals
    if not principals:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"هیچ‌کس در سمت «{role}» واحد «{reg.unit}» نیست")
    return principals[0].national_id


def register_without_workflow(deps: Deps, tender_id: str, bidder: str, terms: ContractTerms) -> ContractState:
    """Straight to final: only where the policy calendar still allows it for the unit and date (R12).

    Raises: REGISTRATION_WITHOUT_WORKFLOW_DISABLED (audited) where the calendar no longer allows it
    (R12, R27), and what open_contract raises."""
    view = tender_svc.load(deps, tender_id)
    now = deps.clock.now()
    try:  # by date, or off since the unit's first contract with workflow (R27)
        rules_calendar.require_registration_mode(deps, view.spec.unit, now, WITHOUT_WORKFLOW)
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=now, actor=ENGINE_ACTOR, action="contract.registration_refused",
                       entity="tender", entity_id=tender_id, payload={"bidder": bidder})
        raise
    opened = open_contract(deps, tender_id, bidder, terms)
    stages = stages_for(deps, view.spec.unit)
    with deps.uow() as uow:
        row = contract_for(uow, tender_id)
        reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
    if row.stage == FINAL:
        return state(deps, tender_id)
    officer = _approver(deps, reg, stages[-1], stages[-1].role, now)
    role_check = answered(deps.role_check, [(officer, stages[-1].role, row.unit_id, now)])
    with deps.uow() as uow:
        row = contract_for(uow, tender_id)
        direct = ContractRegistration.register_without_workflow(
            opened.tracking_number, row.unit_id, row.kind, reg.fields, Act(officer, stages[-1].role, row.unit_id, now),
            role_check, lambda unit_id, at: next_contract_code(deps, uow, unit_id, at), True, stages)
        row.stage, row.code, row.concluded_at = direct.stage, direct.code, now
        uow.contracts.add_approval(m.ContractApproval(contract_id=row.id, stage=FINAL, approver_national_id=officer,
                                           role=stages[-1].role, approved_at=now, signature_ref=None))
        uow.record(at=now, actor=officer, action="contract.registered_without_workflow", entity="contract",
                   entity_id=row.tracking_number, payload={"code": direct.code})
        uow.commit()
    notify_financial(deps, opened.tracking_number)  # the contract is notified to the contractor (R28)
    return state(deps, tender_id)


# --- R28: the financial system is told when the contract is notified to the contractor -----------------
FINANCIAL_NOTIFICATION = "financial_notification"  # data_json key: the financial system's accepted check


def notify_financial(deps: Deps, tracking_number: str) -> str | None:
    """Tell the financial system that the contract (by tracking number) was notified to the contractor
    with its code, so that it checks the contract's complete registration (R28: at notification and
    at every payment). Called when the code is issued (`record_approval`, `register_without_workflow`)
    and again before each payment until it is accepted (services.contract.statements.request_payment),
    so a refusal or an unreachable financial system loses nothing: the accepted check is stored on the
    contract (`data_json["financial_notification"]`: registration seen, time UTC) and audited as
    `contract.financial_notified`; a refusal is audited as `contract.financial_notification_refused`
    with its reason code and the contract stays unmarked. Idempotent: a contract already marked, one
    without a code, or no financial system configured asks nothing.

    Returns "complete" (accepted now or before), the refusal's reason code, or None (nothing asked).
    Raises: nothing of its own (the refusal is recorded, not raised). Rule: R28."""
    financial = deps.financial
    with deps.uow() as uow:
        row = uow.contracts.by_tracking(tracking_number)
    if financial is None or row is None or not row.code:
        return None
    if data_of(row).get(FINANCIAL_NOTIFICATION):
        return "complete"
    try:
        checked = financial.contract_notified(row.code)
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor=ENGINE_ACTOR,
                       action="contract.financial_notification_refused", entity="contract",
                       entity_id=row.tracking_number, payload={"code": row.code})
        return exc.reason.value
    now = deps.clock.now()
    with deps.uow() as uow:
        stored = uow.contracts.by_tracking(tracking_number)
        assert stored is not None
        data = data_of(stored)
        data[FINANCIAL_NOTIFICATION] = {"result": checked.get("result"), "checked_at": checked.get("checked_at"),
                                        "registration": checked.get("registration")}
        stored.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        uow.record(at=now, actor=ENGINE_ACTOR, action="contract.financial_notified", entity="contract",
                   entity_id=tracking_number, payload={"code": stored.code, "checked_at": checked.get("checked_at")})
        uow.commit()
    return "complete"

