"""Contracts and status statements with every person acting from their own station (issue 13 parts 1
and 2; R12, R13, R14, R17, R18, R29; "Stations and trust"). The engine signs nothing on anyone's
behalf: every step arrives as a document signed on the actor's token and verified at receipt
(services.auth.verify_actor_document, or here for a signature appended to a stored document), and
every rule is the one the rehearsal's engine-side path uses:

    open_at_station(deps, doc)                 the contracts officer opens the contract from the final minutes
    enter_terms(deps, doc)                     ... enters its terms (registries: budget line, expense factor, people)
    contract_to_sign(deps, tender_id, by)      the contract document and stage a station reads before approving
    approve_at_station(deps, doc)              the stage's approver's signed ContractStage -> the stage moves on
    inbox(deps, by)                            what waits for this person (the treasurer's inbox, R29)
    submit_at_station(deps, doc)               the contractor's cumulative statement -> computed, in review
    statement_to_sign(deps, tender_id, ref, by) the statement's stored bytes and whose turn it is
    receive_statement_signature(deps, tender_id, ref, xml, by, received_at)  the next signature of its path

Shared homes: `registration.open_contract`, `registration.record_approval` (domain
ContractRegistration), `statements.begin_review` / `record_statement_signature` /
`settle_statement` (domain compute_statement, StatementApprovalChain), `check_contract_usable`.
Times are aware UTC; amounts int rials."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from domain.contract.approval_chain import StatementApprovalChain
from domain.contract.fields import CONTRACT_KINDS, required_fields
from domain.contract.income import check_statement_allowed
from domain.contract.payment import check_contract_usable
from domain.contract.roles import Act
from domain.contract.statement import APPROVED, CONTRACTOR, TREASURER, StatementResult, WasteTerms
from domain.contract.workflow import CONTRACTOR_SIGNATORY, FINAL, StageDef
from domain.documents.xmlcommon import body_digest
from domain.persian import format_rial, persian_digits, to_tehran
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services import tender as tender_svc
from services.auth import VerifiedDocument
from services.contract import events
from services.contract.document import STAGE_DOCS, contract_document, data_of
from services.contract.income import nature_of
from services.contract.inputs import ContractTerms, StatementRequest
from services.contract.registration import (
    ContractState,
    contract_role_check,
    open_contract,
    record_approval,
    registration_of,
    stages_for,
    state,
)
from services.contract.requests import (
    appended_signature,
    read_opening,
    read_stage,
    read_submission,
    read_terms,
)
from services.contract.statements import (
    IN_REVIEW,
    _claim,
    _record_in_project_control,
    _save,
    _settle_refused_without_review,
    begin_review,
    record_statement_signature,
    settle_statement,
)
from services.deps import Deps
from services.signers import COMPANY_SIGNATORY, trust_store
from services.transactions_view import statement_key
from signing.verify import SignatureCheck, verify_document
from signing.xmldsig import is_envelope, signatures as signatures_of, signed_document_root
from store import models as m
from store.contract_registries import registries

SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Signatory:
    """Who acts: the person, role and unit of their session (api.security.Actor); for a contractor
    the role is company_signatory and the unit the company's national ID."""

    national_id: str
    role: str
    unit: str


def _unit_of(deps: Deps, tender_id: str) -> str:
    with deps.uow() as uow:
        row = uow.tenders.get(tender_id)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"مناقصهٔ «{tender_id}»")
    return tender_svc.load(deps, tender_id).spec.unit


def _contract(deps: Deps, tender_id: str) -> m.Contract:
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"برای مناقصهٔ «{tender_id}» قراردادی گشوده نشده است")
    return row


def _check_reader(row: m.Contract, by: Signatory) -> None:
    if by.unit not in (row.unit_id, row.contractor_id):
        raise DomainError(Reason.NOT_AUTHORISED, "فقط کارکنان واحد قرارداد و پیمانکار آن قرارداد را می‌بینند")


# --- who may send what (the (role, unit) pairs a request is verified against) -----------------------------
def opening_roles(deps: Deps, tender_id: str) -> list[tuple[str, str]]:
    """Who opens the contract of `tender_id` and enters its terms: the first stage's role (the
    contracts officer, from the policy) in the tender's unit. Raises: NOT_FOUND. Rule: R12."""
    unit = _unit_of(deps, tender_id)
    return [(stages_for(deps, unit)[0].role, unit)]


def terms_roles(deps: Deps, tender_id: str) -> list[tuple[str, str]]:
    """Who may enter terms: the contracts officer, and the current stage's role (the budget stage's
    finance enters its budget fields). Raises: NOT_FOUND."""
    row = _contract(deps, tender_id)
    pairs = opening_roles(deps, tender_id)
    with deps.uow() as uow:
        reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
    if not reg.is_final and (reg.current.role, row.unit_id) not in pairs:
        pairs.append((reg.current.role, row.unit_id))
    return pairs


def stage_roles(deps: Deps, tender_id: str) -> list[tuple[str, str]]:
    """Who may approve now: each role the current stage still waits for, in the contract's unit (the
    contractor's signatory for its company). Empty once final. Raises: NOT_FOUND. Rule: R12."""
    row = _contract(deps, tender_id)
    with deps.uow() as uow:
        reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
    return [(COMPANY_SIGNATORY, row.contractor_id) if r == CONTRACTOR_SIGNATORY else (r, row.unit_id)
            for r in reg.pending_roles()]


def approval_roles(deps: Deps, tender_id: str) -> list[tuple[str, str]]:
    """Every (role, unit) that approves some stage of the contract's workflow (the unit's policy
    stages, the contractor's signatory for its company): what a ContractStage is verified against at
    receipt, so that a stale stage is WRONG_STAGE and not a role error (`approve_at_station` then
    judges the stage, then the person). Raises: NOT_FOUND. Rule: R12."""
    row = _contract(deps, tender_id)
    pairs = [(s.role, row.unit_id) for s in stages_for(deps, row.unit_id)]
    pairs.append((COMPANY_SIGNATORY, row.contractor_id))
    return list(dict.fromkeys(pairs))


def submission_roles(deps: Deps, tender_id: str) -> list[tuple[str, str]]:
    """Who submits statements: the contractor's signatory, for its company. Raises: NOT_FOUND."""
    return [(COMPANY_SIGNATORY, _contract(deps, tender_id).contractor_id)]


def _role_pairs_fa(pairs: list[tuple[str, str]]) -> str:
    return "، ".join(f"{r}@{u}" for r, u in pairs) or "هیچ‌کس (قرارداد نهایی است)"


def _same_tender(tender_id: str, named: str, tracking: str | None, row: m.Contract | None) -> None:
    if named != tender_id or (row is not None and tracking is not None and tracking != row.tracking_number):
        raise DomainError(Reason.INVALID_INPUT, "سند امضاشده قرارداد یا مناقصهٔ دیگری را نام می‌برد")


# --- opening and terms -----------------------------------------------------------------------------------
def open_at_station(deps: Deps, tender_id: str, doc: VerifiedDocument) -> ContractState:
    """Open the contract of `tender_id` from its final Article 13 minutes, as the contracts officer's
    verified ContractOpening `doc` asks: the bidder it names, or the winner the minutes state;
    amount, contractor and commission from the minutes, people and company from the registries, a
    tracking number and no code. The terms follow (`enter_terms`). Idempotent.

    Raises: INVALID_INPUT (another tender named; the bidder not ranked); WRONG_STAGE (minutes not
    final); NOT_FOUND (no tender). Rule: R12."""
    named, bidder = read_opening(doc.root)
    _same_tender(tender_id, named, None, None)
    if bidder is None:
        _, award, _ = tender_svc.final_minutes(deps, tender_id)
        if not award.winner:
            raise DomainError(Reason.WRONG_STAGE, "صورتجلسه برنده‌ای ندارد")
        bidder = award.winner
    return open_contract(deps, tender_id, bidder, ContractTerms("", "", ""), actor=doc.national_id, terms_later=True)


def enter_terms(deps: Deps, tender_id: str, doc: VerifiedDocument) -> dict[str, Any]:
    """Enter the terms of a verified ContractTermsEntry `doc` on the contract of `tender_id`: the
    budget line from the unit's budget-line registry (kept with the general code it maps to), the
    expense factor from its registry, the budget-allocation code, the supervisor (holding the
    supervisor role in the unit today) and employer signatories (holding the signing stage's role)
    from the role registry, the contract kind and its other mandatory fields, waste terms. Which
    fields may change at the current stage is the domain's rule (ContractRegistration.update_fields:
    any in the first stage, then only those the current stage collects). Returns `contract_view`.

    Raises: NOT_FOUND (no contract); INVALID_INPUT (another contract named; a code not in its
    registry; a person without the role; an unknown kind or field; waste terms invalid);
    WRONG_STAGE (final; a field the current stage does not collect). Rule: R12, R21, R29."""
    row = _contract(deps, tender_id)
    tracking, named, entry = read_terms(doc.root)
    _same_tender(tender_id, named, tracking, row)
    now = doc.received_at
    day = to_tehran(now).date()
    changes: dict[str, object] = {}
    budget: dict[str, Any] = {}
    with deps.uow() as uow:
        reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
        found = registries(uow)
        if entry.budget_line is not None:
            line = found.budget_line(row.unit_id, entry.budget_line)
            if line is None:
                raise DomainError(Reason.INVALID_INPUT, f"ردیف بودجهٔ «{entry.budget_line}» در ثبت ردیف‌های بودجهٔ "
                                                        f"واحد «{row.unit_id}» نیست")
            changes["budget_line"] = line.code
            budget["general_code"] = line.general_code
        if entry.expense_factor is not None:
            factor = found.expense_factor(entry.expense_factor)
            if factor is None:
                raise DomainError(Reason.INVALID_INPUT, f"عامل هزینهٔ «{entry.expense_factor}» در ثبت عوامل هزینه نیست")
            changes["expense_factor"] = factor.code
        if entry.budget_allocation is not None:
            changes["budget_allocation_code"] = entry.budget_allocation
        if entry.supervisor is not None:
            if not uow.roles.holds(entry.supervisor, SUPERVISOR, row.unit_id, day):
                raise DomainError(Reason.INVALID_INPUT, f"{entry.supervisor} در ثبت سمت‌ها ناظر واحد «{row.unit_id}» نیست")
            changes["supervisor"] = entry.supervisor
        if entry.employer_signatories is not None:
            signing_role = _signing_stage(deps, row.unit_id).role
            for nid in entry.employer_signatories:
                if not uow.roles.holds(nid, signing_role, row.unit_id, day):
                    raise DomainError(Reason.INVALID_INPUT, f"{nid} در ثبت سمت‌ها سمت «{signing_role}» واحد "
                                                            f"«{row.unit_id}» را ندارد")
            changes["employer_signatories"] = list(entry.employer_signatories)
    kind = entry.kind or row.kind
    if kind not in CONTRACT_KINDS:
        raise DomainError(Reason.INVALID_INPUT, f"نوع قرارداد ناشناخته: «{kind}»")
    unknown = sorted(set(entry.fields) - set(required_fields(kind)))
    if unknown:
        raise DomainError(Reason.INVALID_INPUT, f"قلم‌های ناشناخته برای نوع «{kind}»: {unknown}")
    changes.update(entry.fields)
    if entry.waste is not None:
        WasteTerms(**entry.waste)  # the domain's check of the waste terms
    if reg.is_final:
        raise DomainError(Reason.WRONG_STAGE, "قرارداد نهایی شده است و تغییر نمی‌کند")
    if (entry.kind is not None or entry.waste is not None) and reg.stage != reg.stages[0].name:
        raise DomainError(Reason.WRONG_STAGE, f"نوع قرارداد و شرایط پسماند فقط در مرحلهٔ «{reg.stages[0].name}» "
                                              f"وارد می‌شوند؛ قرارداد در مرحلهٔ «{reg.stage}» است")
    # The budget-allocation code belongs with the budget fields: the stage that collects them takes it too.
    allocation = changes.pop("budget_allocation_code", None) \
        if not reg.is_final and "expense_factor" in reg.current.requires_fields else None
    if changes:
        reg.update_fields(changes)  # the domain says which fields the current stage may change
    if allocation is not None:
        reg.fields["budget_allocation_code"] = allocation
    with deps.uow() as uow:
        stored = uow.contracts.by_tracking(row.tracking_number)
        assert stored is not None
        data = data_of(stored)
        data["fields"] = reg.fields
        if entry.waste is not None:
            data["terms"]["waste"] = dict(entry.waste)
        if "budget_line" in changes:
            data["terms"]["budget_line"] = changes["budget_line"]
            stored.budget_line = str(changes["budget_line"])
        if "expense_factor" in changes:
            data["terms"]["expense_factor"] = changes["expense_factor"]
            stored.expense_factor = str(changes["expense_factor"])
        if "supervisor" in changes:
            data["terms"]["supervisor"] = changes["supervisor"]
        data.setdefault("budget", {}).update(budget)
        if entry.kind is not None:
            stored.kind = kind
        stored.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        uow.record(at=now, actor=doc.national_id, action="contract.terms", entity="contract",
                   entity_id=row.tracking_number,
                   payload={"terms": entry.to_dict(), "request_sha256": doc.sha256, "stage": reg.stage})
        uow.commit()
    return contract_view(deps, tender_id)


def _signing_stage(deps: Deps, unit: str) -> StageDef:
    stages = stages_for(deps, unit)
    return next((s for s in stages if s.contractor_signs), stages[-1])


# --- reading the contract ---------------------------------------------------------------------------------
def contract_xml(row: m.Contract) -> bytes:
    """The canonical contract document of the stored terms (unsigned; what every stage approves)."""
    data = data_of(row)
    return etree.tostring(contract_document(row, data["fields"], data), xml_declaration=True, encoding="UTF-8")


def contract_view(deps: Deps, tender_id: str, by: Signatory | None = None) -> dict[str, Any]:
    """The contract as a station shows it: its state (ContractState.to_dict: tracking number, code
    issued at `final`, stage, amount in rials, stages), the kind, budget line with its general code,
    expense factor (and whether the committee approved it), budget-allocation code, supervisor,
    employer signatories, the roles the stage waits for, the approvals so far (stage, role, national
    ID, time UTC) and the SHA-256 of the contract document's body (`contract_sha256`).

    Raises: NOT_FOUND; NOT_AUTHORISED (`by` neither of the contract's unit nor its contractor)."""
    row = _contract(deps, tender_id)
    if by is not None:
        _check_reader(row, by)
    data = data_of(row)
    f = data["fields"]
    with deps.uow() as uow:
        approvals = list(uow.contracts.approvals(row.id))
        reg = registration_of(deps, row, approvals)
        factor = registries(uow).expense_factor(row.expense_factor) if row.expense_factor else None
    return {**state(deps, tender_id).to_dict(), "kind": row.kind, "unit": row.unit_id,
            "contractor": row.contractor_id, "budget_line": row.budget_line or "",
            "budget_general_code": data.get("budget", {}).get("general_code"),
            "expense_factor": row.expense_factor or "",
            "expense_factor_approved": bool(factor is not None and factor.approved_at is not None),
            "budget_allocation_code": f.get("budget_allocation_code") or "",
            "supervisor": f.get("supervisor") or "", "employer_signatories": list(f.get("employer_signatories") or []),
            "waiting_for": [list(p) for p in stage_roles(deps, tender_id)],
            "pending_roles": reg.pending_roles(),
            "approvals": [{"stage": a.stage, "role": a.role, "national_id": a.approver_national_id,
                           "approved_at": a.approved_at.isoformat(), "signature_ref": a.signature_ref}
                          for a in sorted(approvals, key=lambda a: (a.approved_at, a.id))],
            "contract_sha256": body_digest(parse_untrusted(contract_xml(row)))}


def contract_to_sign(deps: Deps, tender_id: str, by: Signatory) -> tuple[bytes, dict[str, Any]]:
    """(the canonical contract document's bytes, `contract_view`) for a station to read before it
    signs its stage approval. Raises: NOT_FOUND, NOT_AUTHORISED."""
    row = _contract(deps, tender_id)
    _check_reader(row, by)
    return contract_xml(row), contract_view(deps, tender_id)


# --- stage approval ---------------------------------------------------------------------------------------
def approve_at_station(deps: Deps, tender_id: str, doc: VerifiedDocument) -> dict[str, Any]:
    """One approval of the contract's current stage: the verified ContractStage `doc`, signed on the
    approver's token as a role the stage waits for (its holder in the unit on that day, checked at
    receipt; the contractor's signatory for its company at signing). It must name the current stage
    and the SHA-256 of the contract document as it is now; at the signing stage the employer's side
    must be one of the contract's employer signatories; the budget stage needs the budget-allocation
    code; the treasurer approves only an expense factor the committee approved (R29). The domain then
    judges it (`registration.record_approval`) and the stage moves on when complete; the contract
    code is issued at `final`. Returns `contract_view`.

    Raises: NOT_FOUND; INVALID_INPUT (another contract named); WRONG_STAGE (a stale stage or a stale
    contract document: read it again; already approved; final); NOT_AUTHORISED (not the person the
    stage waits for); FIELD_MISSING, BUDGET_LINE_MISSING, EXPENSE_FACTOR_MISSING; SIGNER_NOT_IN_ROLE.
    Rule: R12, R13, R29."""
    row = _contract(deps, tender_id)
    tracking, named, stage, role, sha = read_stage(doc.root)
    _same_tender(tender_id, named, tracking, row)
    with deps.uow() as uow:
        reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
    if reg.is_final or stage != reg.stage:
        raise DomainError(Reason.WRONG_STAGE, f"قرارداد در مرحلهٔ «{reg.stage}» است، نه «{stage}»")
    current = body_digest(parse_untrusted(contract_xml(row)))
    if sha != current:
        raise DomainError(Reason.WRONG_STAGE, "قرارداد پس از خواندن شما تغییر کرده است؛ آن را دوباره بخوانید و تأیید کنید")
    sdef = reg.current
    claimed = doc.role
    domain_role = CONTRACTOR_SIGNATORY if claimed == COMPANY_SIGNATORY else claimed
    unit = row.contractor_id if domain_role == CONTRACTOR_SIGNATORY else row.unit_id
    if role != domain_role or domain_role not in reg.pending_roles() or doc.unit != unit:
        raise DomainError(Reason.NOT_AUTHORISED, f"این مرحله منتظر {_role_pairs_fa(stage_roles(deps, tender_id))} است")
    fields = reg.fields
    employer = fields.get("employer_signatories")
    contractor = fields.get("contractor_signatories")
    if sdef.contractor_signs and domain_role == sdef.role:
        if doc.national_id not in [str(n) for n in employer or []]:  # type: ignore[attr-defined]
            raise DomainError(Reason.NOT_AUTHORISED, "شما از امضاکنندگان کارفرمای این قرارداد نیستید")
    if domain_role == CONTRACTOR_SIGNATORY and doc.national_id not in (
            [str(fields.get("contractor_ceo") or "")] + [str(n) for n in contractor or []]):  # type: ignore[attr-defined]
        raise DomainError(Reason.NOT_AUTHORISED, "شما امضاکنندهٔ پیمانکار این قرارداد نیستید")
    if "expense_factor" in sdef.requires_fields and not str(fields.get("budget_allocation_code") or "").strip():
        raise DomainError(Reason.FIELD_MISSING, "کد تأمین اعتبار (budget_allocation_code)",
                          fields="budget_allocation_code")
    if sdef.role == TREASURER and domain_role == TREASURER:
        with deps.uow() as uow:
            factor = registries(uow).expense_factor(row.expense_factor or "")
        if factor is None or factor.approved_at is None:
            raise DomainError(Reason.EXPENSE_FACTOR_MISSING, f"عامل هزینهٔ «{row.expense_factor or ''}» هنوز به "
                                                            "تصویب کمیتهٔ سامانهٔ مالی نرسیده است")
    sig_id = signatures_of(parse_untrusted(doc.xml))[-1].signature_id
    signature_ref = f"contract-stage:{row.tracking_number}/{stage}#{sig_id}"
    act = Act(doc.national_id, domain_role, unit, doc.received_at, signature_ref)
    stored_doc = {"stage": stage, "role": domain_role, "national_id": doc.national_id, "sha256": doc.sha256,
                  "contract_sha256": sha, "received_at": doc.received_at.isoformat(),
                  "xml_b64": base64.b64encode(doc.xml).decode("ascii"),
                  "contract_b64": base64.b64encode(contract_xml(row)).decode("ascii")}  # what was approved
    record_approval(deps, row, reg, act, contract_role_check(deps.role_check), extra={STAGE_DOCS: stored_doc})
    with deps.uow() as uow:
        tender_svc.record_signature(uow, "contract_stage", f"{row.tracking_number}/{stage}", doc.check)
        uow.commit()
    view = contract_view(deps, tender_id)
    events.emit(deps, events.stage_approved(tender_id, row.tracking_number, stage, view["code"]))
    return view


# --- inbox ------------------------------------------------------------------------------------------------
def inbox(deps: Deps, by: Signatory) -> dict[str, Any]:
    """What waits for `by` in their unit: contracts whose current stage waits for their role, status
    statements whose next signature is theirs (the supervisor's: only the contracts naming them), and
    for the treasurer the expense factors still awaiting the financial system's committee (R29). For a
    contractor's signatory (`by.unit` the company's national ID): the company's contracts waiting for
    its signature and its statements whose next signature is the contractor's.
    Amounts in rials. Raises: nothing of its own. Rule: R29 (the treasurer's inbox), R12, R17."""
    if by.role == COMPANY_SIGNATORY:
        return _contractor_inbox(deps, by)
    contracts: list[dict[str, Any]] = []
    statements: list[dict[str, Any]] = []
    factors: list[dict[str, Any]] = []
    try:
        stages = stages_for(deps, by.unit)
    except DomainError:
        stages = ()
    with deps.uow() as uow:
        found = registries(uow)
        # `final` is reached, not approved: the code is issued when the stage before it completes.
        rows = [c for s in stages if s.role == by.role and s.name != FINAL
                for c in found.contracts_at_stage(by.unit, s.name)]
        reviews = found.statements_in_review(by.unit, IN_REVIEW)
        if by.role == TREASURER:
            factors = [{"code": f.code, "title": f.title, "added_at": f.added_at.isoformat()}
                       for f in found.unapproved_expense_factors()]
        approvals = {c.id: list(uow.contracts.approvals(c.id)) for c in rows}
    for c in rows:
        reg = registration_of(deps, c, approvals[c.id])
        if by.role not in reg.pending_roles():
            continue
        data = data_of(c)
        contracts.append({"tender_id": c.tender_id, "tracking_number": c.tracking_number, "stage": c.stage,
                          "amount_rial": c.amount_rial, "subject": data["fields"].get("subject"),
                          "budget_line": c.budget_line or "", "expense_factor": c.expense_factor or "",
                          "budget_allocation_code": data["fields"].get("budget_allocation_code") or ""})
    for s, c in reviews:
        if _next_signer(s) != by.role:
            continue
        if by.role == SUPERVISOR and data_of(c)["fields"].get("supervisor") != by.national_id:
            continue
        statements.append(_statement_item(s, c))
    return {"role": by.role, "unit": by.unit, "contracts": contracts, "statements": statements,
            "expense_factors_awaiting_committee": factors}


def _next_signer(s: m.StatusStatement) -> str | None:
    """The role whose signature the statement in review waits for (its station path), None when done."""
    path = json.loads(s.data_json or "{}").get("station_path") or []
    signed = len(signatures_of(parse_untrusted(s.xml))) if s.xml and is_envelope(parse_untrusted(s.xml)) else 0
    return str(path[signed]) if signed < len(path) else None


def _statement_item(s: m.StatusStatement, c: m.Contract) -> dict[str, Any]:
    data = json.loads(s.data_json or "{}")
    return {"tender_id": c.tender_id, "tracking_number": c.tracking_number, "contract_code": c.code,
            "ref": s.ref, "cumulative_rial": s.cumulative_rial, "payable_rial": s.payable_rial,
            "computed_result": data.get("computed_result")}


def _contractor_inbox(deps: Deps, by: Signatory) -> dict[str, Any]:
    """The contractor's inbox (see `inbox`): its contracts whose stage waits for the contractor's
    signatory, its statements whose next signature is the contractor's. Rule: R12, R17."""
    with deps.uow() as uow:
        found = registries(uow)
        rows = found.contractor_contracts_in_workflow(by.unit, FINAL)
        reviews = found.contractor_statements_in_review(by.unit, IN_REVIEW)
        approvals = {c.id: list(uow.contracts.approvals(c.id)) for c in rows}
    contracts = [{"tender_id": c.tender_id, "tracking_number": c.tracking_number, "stage": c.stage,
                  "amount_rial": c.amount_rial, "subject": data_of(c)["fields"].get("subject")}
                 for c in rows if CONTRACTOR_SIGNATORY in registration_of(deps, c, approvals[c.id]).pending_roles()]
    statements = [_statement_item(s, c) for s, c in reviews if _next_signer(s) == CONTRACTOR]
    return {"role": by.role, "unit": by.unit, "contracts": contracts, "statements": statements,
            "expense_factors_awaiting_committee": []}


# --- status statements ------------------------------------------------------------------------------------
def submit_at_station(deps: Deps, tender_id: str, doc: VerifiedDocument) -> dict[str, Any]:
    """The contractor's cumulative statement (verified StatementSubmission `doc`, signed on the
    contractor's token for its company), computed by the domain's rules (statements.begin_review:
    price list × coefficient, deductions, the waste penalty and stricter path, the allowed change)
    and kept in review for its path to sign at their stations, first the contractor on the computed
    document. A contract without code or not final takes none: the refusal is recorded as the
    rehearsal records it (and in project control) and raised. Idempotent for the same request;
    the statement's time is its receipt. Returns `statement_view`.

    Raises: NOT_FOUND; INVALID_INPUT (another contract named; a ref used by another request; items);
    INCOME_CONTRACT_NO_STATEMENT (an income contract, R30), NO_CONTRACT_CODE, CONTRACT_NOT_FINAL
    (R13, R14). Rule: R17, R18, R20, R30."""
    contract = _contract(deps, tender_id)
    tracking, named, ref, items, vehicles, workers = read_submission(doc.root)
    _same_tender(tender_id, named, tracking, contract)
    with deps.uow() as uow:
        existing = uow.statements.by_ref(contract.id, ref)
        history = list(uow.statements.for_contract(contract.id))
    if existing is not None:
        if json.loads(existing.data_json or "{}").get("submission_sha256") != doc.sha256:
            raise DomainError(Reason.INVALID_INPUT, f"صورت‌وضعیت «{ref}» پیش‌تر با درخواست دیگری ثبت شده است")
        return statement_view(deps, tender_id, ref)
    seq = len(history) + 1
    req = StatementRequest(ref, doc.received_at, items, vehicles, workers, True)
    extra: dict[str, Any] = {"submission_sha256": doc.sha256, "submitted_by": doc.national_id,
                             "submission_b64": base64.b64encode(doc.xml).decode("ascii"),
                             "items": [[c, format(q, "f")] for c, q in items]}
    try:
        # An income contract has no status statements: its money comes in by receipts (R30).
        check_statement_allowed(nature_of(data_of(contract)), f"{contract.tracking_number}: صورت‌وضعیت {ref}")
        check_contract_usable(contract.code, contract.stage, f"صورت‌وضعیت {ref}")
    except DomainError as exc:
        _settle_refused_without_review(deps, contract, req, seq, exc.reason)
        _record_in_project_control(deps, contract, statement_key(contract.tracking_number, ref))  # R14
        raise
    history_rows = [(s.seq, s.result, s.cumulative_rial) for s in history]
    result, doc = begin_review(deps, tender_id, contract, req, seq, history_rows, None, extra=extra)
    # The path is fixed by the computed result, as in the rehearsal: an approved statement goes the
    # whole chain (the stricter one after a waste penalty); a halted or refused one takes only the
    # contractor's signature and then settles with its reason.
    extra.update({"station_path": list(result.approval_path) if result.result == APPROVED else [CONTRACTOR],
                  "computed_result": result.result, "computed_reason": result.reason.value if result.reason else None})
    _save(deps, contract, req, seq, result, IN_REVIEW, None, doc, [], extra)
    events.emit(deps, events.statement_submitted(tender_id, contract.tracking_number, contract.code, ref))
    return statement_view(deps, tender_id, ref)


def _stored(deps: Deps, tender_id: str, ref: str) -> tuple[m.Contract, m.StatusStatement, dict[str, Any]]:
    contract = _contract(deps, tender_id)
    with deps.uow() as uow:
        row = uow.statements.by_ref(contract.id, ref)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"صورت‌وضعیت «{ref}» قرارداد {contract.tracking_number}")
    return contract, row, json.loads(row.data_json or "{}")


def statement_view(deps: Deps, tender_id: str, ref: str, by: Signatory | None = None) -> dict[str, Any]:
    """A statement as a station shows it: id, ref, seq, result (in_review until its path has signed;
    then approved, halted or refused with its reason), amounts in rials (cumulative, gross, penalty,
    payable, deductions), the path and who signed, whose turn it is, the SHA-256 of its stored bytes
    and of its body, and a Persian summary.

    Raises: NOT_FOUND; NOT_AUTHORISED (`by` neither of the contract's unit nor its contractor)."""
    contract, row, data = _stored(deps, tender_id, ref)
    if by is not None:
        _check_reader(contract, by)
    path = list(data.get("station_path") or data.get("approval_path") or [])
    doc = parse_untrusted(row.xml) if row.xml else None
    signed = [s.signer_ref for s in signatures_of(doc)] if doc is not None and is_envelope(doc) else []
    nxt = path[len(signed)] if row.result == IN_REVIEW and len(signed) < len(path) else None
    summary = (f"صورت‌وضعیت {persian_digits(ref)} قرارداد {contract.code or contract.tracking_number}: کارکرد تجمعی "
               f"{persian_digits(format_rial(row.cumulative_rial))} ریال، قابل پرداخت "
               f"{persian_digits(format_rial(row.payable_rial))} ریال")
    return {"id": statement_key(contract.tracking_number, ref), "tender_id": tender_id, "ref": ref, "seq": row.seq,
            "contract_code": contract.code, "tracking_number": contract.tracking_number, "result": row.result,
            "reason": row.reason, "computed_result": data.get("computed_result"),
            "computed_reason": data.get("computed_reason"), "cumulative_rial": row.cumulative_rial,
            "gross_rial": row.gross_rial, "penalty_rial": row.penalty_rial, "payable_rial": row.payable_rial,
            "deductions": data.get("deductions", {}), "vehicles": data.get("vehicles"),
            "workers": data.get("workers"), "path": path, "signed": signed, "next_role": nxt,
            "sha256": hashlib.sha256(row.xml).hexdigest() if row.xml else None,
            "body_sha256": body_digest(signed_document_root(doc) if is_envelope(doc) else doc) if doc is not None else None,
            "summary_fa": summary}


def statement_to_sign(deps: Deps, tender_id: str, ref: str, by: Signatory) -> tuple[bytes, dict[str, Any]]:
    """(the statement's stored bytes, `statement_view`) for a station to read and sign.

    Raises: NOT_FOUND, NOT_AUTHORISED."""
    _, row, _ = _stored(deps, tender_id, ref)
    view = statement_view(deps, tender_id, ref, by)
    return row.xml or b"", view


def receive_statement_signature(deps: Deps, tender_id: str, ref: str, xml: bytes, by: Signatory,
                                received_at: datetime) -> dict[str, Any]:
    """The next signature of the statement's path, made at the signer's station on their token: `xml`
    is the stored document with one new signature appended. It is verified at `received_at` (chain,
    CA-signed CRL, the registry role for the unit — the contractor's signatory for its company — and
    the signing time within the policy's skew); it must be by the session's person as the role whose
    turn it is (the supervisor named on the contract; the employer's reviewer; the deputy on the
    stricter path; the treasurer), and the domain's approval chain takes it
    (StatementApprovalChain.sign). When the path has signed, the statement is settled as the
    rehearsal settles it (statements.settle_statement; project control records it); an approved one
    emits `eproc.statement.approved` and its payment request `eproc.payment.requested` (payment ref
    `<ref>-pay`; ids only), which start the payment flow. Returns `statement_view`.

    Raises: NOT_FOUND; WRONG_STAGE (settled already; not this role's turn; stale upload);
    NOT_AUTHENTICATED (the signer is not the session's person); NOT_AUTHORISED (another role than the
    session's, not in the path, not the contract's supervisor or contractor); INVALID_INPUT (another
    content, altered earlier signatures, more than one new signature); MALFORMED_XML;
    SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, SIGNING_TIME_SKEW,
    SIGNER_NOT_IN_ROLE, STATEMENT_NOT_SIGNED. Rule: R17, R18 (R07: the stricter path)."""
    contract, row, data = _stored(deps, tender_id, ref)
    if row.result != IN_REVIEW:
        raise DomainError(Reason.WRONG_STAGE, f"صورت‌وضعیت «{ref}» بررسی‌اش پایان یافته است ({row.result})")
    path = list(data.get("station_path") or [])
    if not path or row.xml is None:
        raise DomainError(Reason.WRONG_STAGE, f"صورت‌وضعیت «{ref}» از جایگاه پیمانکار ثبت نشده است")
    signed_xml = appended_signature(row.xml, xml)
    checks = verify_document(signed_xml, trust_store(deps.ca_cert, deps.sessions), deps.role_check, None,
                             received_at=received_at, received_from=row.at, max_skew=deps.policy.signing_time_skew())
    new, earlier = checks[-1], checks[:-1]
    if len(earlier) >= len(path):
        raise DomainError(Reason.WRONG_STAGE, "گردش این صورت‌وضعیت کامل شده است")
    role = path[len(earlier)]
    _judge_statement_signature(new, by, role, contract, data_of(contract)["fields"], path, received_at, deps)
    chain = StatementApprovalChain(ref, tuple(path), contract.unit_id, contract.contractor_id, APPROVED)
    role_check = contract_role_check(deps.role_check)
    for step, c in zip(path, checks, strict=False):
        unit = contract.contractor_id if step == CONTRACTOR else contract.unit_id
        if c.signing_time is None:
            raise DomainError(Reason.SIGNATURE_INVALID, "زمان امضا خوانده نشد")
        chain.sign(Act(c.national_id, step, unit, c.signing_time,
                       f"status_statement:{statement_key(contract.tracking_number, ref)}#{c.index}"), role_check)
    claimed, unit = _claim(role, contract)
    record_statement_signature(deps, contract, ref, signed_xml, new, claimed, unit,
                               expected_sha256=hashlib.sha256(row.xml).hexdigest())
    if chain.complete:
        req = StatementRequest(ref, row.at, tuple((c, Decimal(q)) for c, q in data.get("items", [])),
                               data.get("vehicles"), data.get("workers"), True)
        result = StatementResult(ref, data.get("computed_result") or APPROVED, row.cumulative_rial,
                                 row.gross_rial, dict(data.get("deductions") or {}), row.penalty_rial,
                                 row.payable_rial,
                                 Reason(data["computed_reason"]) if data.get("computed_reason") else None,
                                 tuple(data.get("approval_path") or ()), data.get("missing_vehicles", 0),
                                 data.get("missing_workers", 0))
        keep: dict[str, Any] = {k: data[k] for k in ("submission_sha256", "submitted_by", "submission_b64", "items", "station_path",
                                     "computed_result", "computed_reason") if k in data}
        settle_statement(deps, contract, req, row.seq, result, parse_untrusted(signed_xml), path, keep)
    view = statement_view(deps, tender_id, ref)
    if chain.complete and view["result"] == APPROVED:
        events.emit(deps, events.statement_approved(tender_id, contract.tracking_number, contract.code, ref))
        # The treasurer's signature closing an approved statement is its payment request (tender-rules.md
        # chain: treasurer signs -> the financial system records the expense document and pays).
        events.emit(deps, events.payment_requested(tender_id, contract.tracking_number, contract.code, ref,
                                                   events.payment_ref_for(ref)))
    return view


def _judge_statement_signature(new: SignatureCheck, by: Signatory, role: str, contract: m.Contract,
                               fields: dict[str, Any], path: list[str], received_at: datetime, deps: Deps) -> None:
    if new.reason is not None and new.reason is not Reason.SIGNER_NOT_IN_ROLE:
        raise DomainError(new.reason, "امضای تازهٔ صورت‌وضعیت")
    if new.national_id != by.national_id:
        raise DomainError(Reason.NOT_AUTHENTICATED, "امضاکنندهٔ تازه همان شخص نشست نیست")
    if (new.role, new.unit) != (by.role, by.unit):
        raise DomainError(Reason.NOT_AUTHORISED, f"امضا با سمت «{new.signer_ref}» است و نشست با «{by.role}@{by.unit}»")
    if new.reason is Reason.SIGNER_NOT_IN_ROLE:
        raise DomainError(Reason.NOT_AUTHORISED, f"سمت «{new.signer_ref}» در زمان دریافت امضا در ثبت سمت‌ها نیست")
    claimed = (new.role, new.unit)
    expected = _claim(role, contract)
    if claimed != expected:
        others = [_claim(r, contract) for r in path]
        if claimed in others:
            raise DomainError(Reason.WRONG_STAGE, f"نوبت امضای «{role}» است")
        raise DomainError(Reason.NOT_AUTHORISED, f"سمت «{new.signer_ref}» در گردش این صورت‌وضعیت نیست")
    if role == SUPERVISOR and new.national_id != str(fields.get("supervisor") or ""):
        raise DomainError(Reason.NOT_AUTHORISED, "فقط ناظر نام‌برده در قرارداد صورت‌وضعیت را تأیید می‌کند")
    if role == CONTRACTOR and new.national_id not in (
            [str(fields.get("contractor_ceo") or "")] + [str(n) for n in fields.get("contractor_signatories") or []]):
        raise DomainError(Reason.NOT_AUTHORISED, "شما امضاکنندهٔ پیمانکار این قرارداد نیستید")
    skew = deps.policy.signing_time_skew()
    if new.signing_time is None or abs(new.signing_time - received_at) > skew:
        raise DomainError(Reason.SIGNING_TIME_SKEW, "زمان امضای تازه با زمان دریافت آن نمی‌خواند")


__all__ = ["Signatory", "approval_roles", "approve_at_station", "contract_to_sign",
           "contract_view", "enter_terms", "inbox", "open_at_station", "opening_roles",
           "receive_statement_signature", "stage_roles", "statement_to_sign", "statement_view",
           "submission_roles", "submit_at_station", "terms_roles"]
