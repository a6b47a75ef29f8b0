"""Real-estate transactions (R22) and barter (R23) registered with workflow, as the transactions
system runs them.

A deal is a contract (kind real_estate_* or barter, domain.contract.fields) opened from the
commission's decision: its people and company come from the registries, its property's data from
the real-estate system by registration plate, or, for a district deal under 100 m², typed in the
unit (domain.realestate.rules.check_entry_source). It walks the unit's policy workflow like any
contract (services.contract.registration.record_approval: the review is the legal stage, the final
approval the chair's token-signed signing with the counterparty, then `final` and the code); before
every approval the review's gate stops a deal whose own fields are incomplete (FIELD_MISSING), and
the code is issued only with every R21/R22/R23 field present. Once final, the deal is recorded in
the real-estate system and published on the transparency site, in OCDS with the Location extension
(integrations.ocds_realestate). Every step reads the store first, so a rerun continues."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from domain.contract.fields import LEASE_KINDS, REAL_ESTATE_KINDS, REAL_ESTATE_LEASE
from domain.contract.roles import Act
from domain.contract.workflow import CONTRACTOR_SIGNATORY, FINAL, ContractRegistration
from domain.documents.xmlcommon import sub
from domain.persian import jalali_year, to_tehran
from domain.realestate.rules import (
    SOURCE_HAND,
    SOURCE_SYSTEM,
    Plate,
    check_entry_source,
    contract_kind,
    lease_end,
    lease_total_rial,
    missing_public,
    require_reviewable,
)
from domain.reasons import DomainError, Reason
from integrations import ocds_realestate
from integrations.realestate import PropertyRecord, RealEstateSystem
from integrations.transparency import TransparencyPublisher
from services.contract.document import contract_document, data_of, reread_contract, sign_contract_document
from services.contract.registration import (
    contract_role_check,
    record_approval,
    registration_of,
    stages_for,
)
from services.deps import Deps
from store import models as m
from store.uow import UnitOfWork, record_refusal

ENGINE_ACTOR = "engine"
VOTING_ROLES = ("chair", "finance", "technical")


@dataclass(frozen=True)
class ValuationInput:
    """The official expert's valuation as the minutes state it (blank number = missing)."""

    expert_number: str
    date: date | None
    amount_rial: int | None


@dataclass(frozen=True)
class PropertyInput:
    """A property typed in the unit (hand entry: district deals under 100 m² only): type, area (m²),
    location `"lat,lon"`, address and valuation; blanks are left to the completeness checks."""

    property_type: str
    area_m2: Decimal
    location: str
    address: str
    valuation: ValuationInput | None


@dataclass(frozen=True)
class LeaseInput:
    """A lease or rent-out: months, first day (Gregorian date of the Jalali day) and monthly rent (rials)."""

    months: int
    starts: date
    monthly_rent_rial: int


@dataclass(frozen=True)
class BarterInput:
    """A barter (تهاتر): property | joint_project_shares | hologram, its subject, the counter-value (rials)."""

    kind: str
    subject: str
    valuation_rial: int


@dataclass(frozen=True)
class DealRequest:
    """What the commission decided, as the contracts officer opens it.

    unit, title; contract_type real_estate | barter and transaction sale | acquisition | lease |
    rent_out (real estate); counterparty: company national ID in the registry; amount_rial: the
    agreed price (a lease's total is computed from its rent); selection_method (tender | auction |
    online_auction | price_inquiry | direct); commission_at: the session (aware UTC); votes: (member
    national ID, role, vote) for each member taking part; supervisor: national ID; plate: the
    registration plate (None for a barter without property); hand: the property typed in the unit
    (None: fetched from the real-estate system); nature: income | expense; stop_at_stage: a
    rehearsal's stop."""

    unit: str
    title: str
    contract_type: str
    transaction: str | None
    counterparty: str
    amount_rial: int
    selection_method: str
    commission_at: datetime
    votes: tuple[tuple[str, str, str], ...]
    supervisor: str
    budget_line: str = ""
    expense_factor: str = ""
    plate: Plate | None = None
    hand: PropertyInput | None = None
    lease: LeaseInput | None = None
    barter: BarterInput | None = None
    nature: str = "income"
    stop_at_stage: str | None = None


@dataclass(frozen=True)
class DealState:
    """A deal's registration: tracking number, code (None before final), stage, contract kind and type,
    amount (rials), counterparty company, data source, the dotted names of its empty mandatory fields,
    a refusal's reason code, the publication's release id and OCDS validity (None before)."""

    tracking_number: str
    code: str | None
    stage: str
    kind: str
    contract_type: str
    nature: str
    amount_rial: int
    counterparty: str
    source: str
    missing_fields: tuple[str, ...] = ()
    blocked_reason: str | None = None
    release_id: str | None = None
    ocds_valid: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- opening ------------------------------------------------------------------------------------

def open_deal(deps: Deps, realestate: RealEstateSystem, req: DealRequest, *, actor: str = ENGINE_ACTOR,
              tracking_hint: str | None = None) -> DealState:
    """Open the deal at the first stage of the unit's workflow, with a tracking number and no code.
    `tracking_hint`: an idempotency key (a rehearsal's scenario name): a deal already opened under it
    is returned as it is.

    Raises: INVALID_INPUT (unknown type or transaction, counterparty or supervisor not in the
    registries, a malformed plate or lease), HAND_ENTRY_NOT_ALLOWED (hand entry outside a district
    deal under 100 m²), NOT_FOUND (plate not in the real-estate system). Rule: R22, R23, R28."""
    if tracking_hint is not None:
        found = _by_hint(deps, tracking_hint)
        if found is not None:
            return deal_state(deps, found)
    kind = contract_kind(req.contract_type, req.transaction)
    unit_def = deps.policy.unit(req.unit)
    prop, source = _property(realestate, req, unit_def.kind)
    if kind in REAL_ESTATE_KINDS and req.plate is None:
        raise DomainError(Reason.INVALID_INPUT, "معاملهٔ ملکی پلاک ثبتی لازم دارد")
    if kind in LEASE_KINDS and req.lease is None:
        raise DomainError(Reason.INVALID_INPUT, "اجاره مدت، تاریخ شروع و اجاره‌بها لازم دارد")
    if req.contract_type == "barter" and req.barter is None:
        raise DomainError(Reason.INVALID_INPUT, "تهاتر نوع، موضوع و ارزش مابه‌ازا لازم دارد")
    now = deps.clock.now()
    amount = req.amount_rial
    lease_fields: dict[str, Any] = {}
    if req.lease is not None and kind in LEASE_KINDS:
        total = lease_total_rial(req.lease.months, req.lease.monthly_rent_rial)
        amount = total
        lease_fields = {"lessor": req.counterparty if kind == REAL_ESTATE_LEASE else req.unit,
                        "lease_period_months": req.lease.months,
                        "lease_start_date": req.lease.starts.isoformat(),
                        "lease_end_date": lease_end(req.lease.starts, req.lease.months).isoformat(),
                        "monthly_rent_rial": req.lease.monthly_rent_rial, "lease_total_rial": total}
    threshold = deps.policy.threshold_class(amount, jalali_year(now))
    stages = stages_for(deps, req.unit)
    if req.stop_at_stage is not None and req.stop_at_stage not in {s.name for s in stages}:
        raise DomainError(Reason.INVALID_INPUT, f"مرحلهٔ «{req.stop_at_stage}» در گردش قرارداد این واحد نیست")
    with deps.uow() as uow:
        company = uow.companies.get(req.counterparty)
        supervisor = uow.people.get(req.supervisor)
        if company is None or supervisor is None:
            raise DomainError(Reason.INVALID_INPUT, "طرف معامله یا ناظر در سامانه ثبت نشده است")
        chair = next((nid for nid, role, _ in req.votes if role == "chair"), "")
        contractor_signatories = [company.ceo_national_id] if company.ceo_national_id else []
        fields: dict[str, Any] = {
            "employer_signatories": [chair] if chair else [],
            "commission_members": [nid for nid, _, _ in req.votes],
            "contractor_national_id": company.national_id,
            "contractor_ceo": company.ceo_national_id,
            "contractor_signatories": contractor_signatories,
            "contractor_economic_code": company.economic_code,
            "contractor_grade": company.grade,
            "selection_method": req.selection_method,
            "supervisor": supervisor.national_id,
            "contract_date": to_tehran(now).date().isoformat(),
            "contract_amount_rial": amount,
            "subject": req.title,
            "threshold_class": threshold,
            "budget_line": req.budget_line,
            "expense_factor": req.expense_factor,
            "commission_date": to_tehran(req.commission_at).date().isoformat(),
            "commission_votes": [{"national_id": nid, "role": role, "vote": vote} for nid, role, vote in req.votes],
            "total_amount_rial": amount,
            "signatories": ([chair] if chair else []) + contractor_signatories,
            **lease_fields,
        }
        if prop is not None:
            v = prop.valuation
            fields.update({"property_type": prop.property_type, "area_m2": str(prop.area_m2),
                           "location": prop.location, "registration_plate": prop.plate_key,
                           "address": prop.address,
                           "expert_valuation_number": v.expert_number if v else "",
                           "expert_valuation_date": v.date.isoformat() if v and v.date else "",
                           "expert_valuation_amount_rial": v.amount_rial if v and v.amount_rial else None})
        if req.barter is not None:
            fields.update({"barter_kind": req.barter.kind, "counter_value_description": req.barter.subject,
                           "valuation_amount_rial": req.barter.valuation_rial})
        unit_row = uow.units.get(req.unit)
        tracking = _tracking_number(uow, unit_row.code, now)
        reg = ContractRegistration.open(tracking, req.unit, kind, fields, stages)
        deal = {"contract_type": req.contract_type, "transaction": req.transaction, "source": source,
                "nature": req.nature, "hint": tracking_hint,
                "plate": None if req.plate is None else {"main": req.plate.main, "sub": req.plate.sub,
                                                          "section": req.plate.section},
                "lease": None if req.lease is None else {"months": req.lease.months,
                                                         "starts": req.lease.starts.isoformat(),
                                                         "monthly_rent_rial": req.lease.monthly_rent_rial},
                "barter": None if req.barter is None else {"kind": req.barter.kind, "subject": req.barter.subject,
                                                           "valuation_rial": req.barter.valuation_rial}}
        data = {"tender_id": None, "bidder": company.national_id, "fields": reg.fields, "deal": deal,
                "commission_roles": {nid: role for nid, role, _ in req.votes},
                "price": {"estimate_rial": None, "coefficient": None},
                "terms": {"budget_line": req.budget_line, "expense_factor": req.expense_factor,
                          "supervisor": req.supervisor, "stop_at_stage": req.stop_at_stage}}
        row = m.Contract(tracking_number=tracking, code=None, tender_id=None, unit_id=req.unit, kind=kind,
                         stage=reg.stage, threshold_class=threshold, amount_rial=amount,
                         contractor_id=company.national_id, budget_line=req.budget_line or None,
                         expense_factor=req.expense_factor or None, data_json="{}")
        deal_xml = _deal_document(row, reg.fields, data)
        data["deal_document_sha256"] = hashlib.sha256(deal_xml).hexdigest()
        row.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        uow.contracts.add(row)
        uow.real_estate.add(row, m.RealEstateDeal(
            contract_type=req.contract_type, transaction=req.transaction, source=source,
            plate_key=None if prop is None else prop.plate_key, area_m2=None if prop is None else str(prop.area_m2),
            deal_json=json.dumps({"property": None if prop is None else prop.to_dict()}, ensure_ascii=False,
                                 sort_keys=True),
            registered_at=now))
        uow.record(at=now, actor=actor, action="realestate.opened", entity="contract", entity_id=tracking,
                   payload={"kind": kind, "source": source, "plate": None if prop is None else prop.plate_key,
                            "amount_rial": amount, "counterparty": company.national_id, "stage": reg.stage,
                            "hint": tracking_hint})
        uow.commit()
    return deal_state(deps, tracking)


def _property(realestate: RealEstateSystem, req: DealRequest, unit_kind: str) -> tuple[PropertyRecord | None, str]:
    """The property's data: typed in the unit where the rule allows it, else fetched by plate."""
    if req.plate is None:
        if req.hand is not None:
            raise DomainError(Reason.INVALID_INPUT, "اطلاعات ملک بدون پلاک ثبتی")
        return None, SOURCE_SYSTEM
    if req.hand is None:
        return realestate.property(req.plate.key), SOURCE_SYSTEM
    h = req.hand
    check_entry_source(SOURCE_HAND, unit_kind, h.area_m2)
    from integrations.realestate import Valuation

    valuation = None
    if h.valuation is not None and h.valuation.date is not None:
        valuation = Valuation(h.valuation.expert_number, h.valuation.date, h.valuation.amount_rial or 0)
    return PropertyRecord(req.plate.key, h.property_type, h.area_m2, h.location, h.address, valuation), SOURCE_HAND


def _deal_document(row: m.Contract, fields: dict[str, Any], data: dict[str, Any]) -> bytes:
    """The contract document everyone signs, with the deal's own fields (R22/R23) in it."""
    root = contract_document(row, fields, data)
    body = root[0]
    deal = sub(body, "Deal", type=data["deal"]["contract_type"], transaction=data["deal"]["transaction"],
               source=data["deal"]["source"])
    for name in sorted(fields):
        value = fields[name]
        if name in ("commission_votes",):
            for vote in value or []:
                sub(deal, "Vote", national_id=vote["national_id"], role=vote["role"], vote=vote["vote"])
        elif isinstance(value, (str, int, Decimal)) and name not in (
                "employer_signatories", "commission_members", "contractor_signatories"):
            sub(deal, "Field", str(value), key=name)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _tracking_number(uow: UnitOfWork, unit_code: str, now: datetime) -> str:
    prefix = f"TRK-{unit_code}-{jalali_year(now)}-"
    return f"{prefix}{uow.contracts.count_tracking(prefix) + 1:05d}"


def _by_hint(deps: Deps, hint: str) -> str | None:
    with deps.uow() as uow:
        for row, _ in uow.real_estate.deals():
            if (data_of(row).get("deal") or {}).get("hint") == hint:
                return row.tracking_number
    return None


# --- reading ------------------------------------------------------------------------------------

def _load(uow: UnitOfWork, tracking_number: str) -> tuple[m.Contract, m.RealEstateDeal]:
    found = uow.real_estate.by_tracking(tracking_number)
    if found is None:
        raise DomainError(Reason.NOT_FOUND, f"معاملهٔ ملکی یا تهاتری «{tracking_number}» ثبت نشده است")
    return found


def deal_state(deps: Deps, tracking_number: str, blocked_reason: str | None = None) -> DealState:
    """The deal's registration as stored. Raises: NOT_FOUND."""
    with deps.uow() as uow:
        row, deal = _load(uow, tracking_number)
    data = data_of(row)
    d = data.get("deal") or {}
    publication = data.get("publication") or {}
    return DealState(row.tracking_number, row.code, row.stage, row.kind, deal.contract_type, d.get("nature", ""),
                     row.amount_rial, row.contractor_id, deal.source,
                     tuple(missing_public(row.kind, data.get("fields") or {})), blocked_reason,
                     deal.release_id, publication.get("ocds_valid"))


# --- the workflow: review, final approval, code ---------------------------------------------------

def run_workflow(deps: Deps, tracking_number: str) -> DealState:
    """Every approval the deal's stages still wait for, in order, until `final` (the code), the
    rehearsal's stop stage, or a refusal. Before each approval the review's gate checks the deal's
    own fields (domain.realestate.rules.require_reviewable); `final` needs every mandatory field
    (domain.contract.fields.require_complete). A refusal is audited and leaves the deal where it is.

    Raises: NOT_FOUND (no such deal); refusals of a stage (FIELD_MISSING, BUDGET_LINE_MISSING,
    EXPENSE_FACTOR_MISSING, SIGNER_NOT_IN_ROLE, CERT_*, SIGNATURE_INVALID) come back in
    `blocked_reason`. Rule: R12, R22, R23."""
    stop = None
    while True:
        with deps.uow() as uow:
            row, _ = _load(uow, tracking_number)
            reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
        stop = (data_of(row).get("terms") or {}).get("stop_at_stage")
        if reg.is_final or reg.stage == stop or not reg.pending_roles():
            return deal_state(deps, tracking_number)
        try:
            require_reviewable(reg.kind, reg.fields)
            _approve_one(deps, row, reg, reg.pending_roles()[0])
        except DomainError as exc:
            record_refusal(deps.sessions, exc, at=deps.clock.now(), actor=ENGINE_ACTOR,
                           action="realestate.stage_refused", entity="contract", entity_id=tracking_number,
                           payload={"stage": reg.stage})
            return deal_state(deps, tracking_number, blocked_reason=exc.reason.value)


def _approve_one(deps: Deps, row: m.Contract, reg: ContractRegistration, role: str) -> None:
    sdef = reg.current
    now = deps.clock.now()
    if role == CONTRACTOR_SIGNATORY:
        nid, unit = str(reg.fields.get("contractor_ceo") or ""), row.contractor_id
        if not nid:
            raise DomainError(Reason.FIELD_MISSING, "contractor_ceo")
    else:
        nid, unit = _approver(deps, reg, role, now), row.unit_id
    signature_ref = None
    if sdef.needs_token_signature:
        signature_ref = sign_contract_document(deps, row, reg, nid, role, unit)
    record_approval(deps, row, reg, Act(nid, role, unit, now, signature_ref), contract_role_check(deps.role_check))


def _approver(deps: Deps, reg: ContractRegistration, role: str, at: datetime) -> str:
    """Who approves for `role` that day: at a co-signed stage the employer's signatory named on the
    deal; otherwise the unit's holder of the role (principals first; for a token stage one whose
    token this process holds). Raises: SIGNER_NOT_IN_ROLE (nobody holds it)."""
    signatories = reg.fields.get("employer_signatories")
    if reg.current.contractor_signs and isinstance(signatories, list) and signatories:
        return str(signatories[0])
    with deps.uow() as uow:
        holders = uow.roles.holders(reg.unit, to_tehran(at).date(), [role])
    principals = [h for h in holders if h.alternate_for is None] or list(holders)
    if reg.current.needs_token_signature:
        principals = [h for h in principals if h.national_id in deps.signers] or principals
    if not principals:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"هیچ‌کس در سمت «{role}» واحد «{reg.unit}» نیست")
    return principals[0].national_id


# --- after final: the real-estate system and publication -----------------------------------------

def publication_data(deps: Deps, tracking_number: str) -> dict[str, Any]:
    """What the transparency site shows for a final deal (the keys of integrations.ocds's
    contract_data, names from the registries) with the `extend_release` hook of
    integrations.ocds_realestate carrying the deal's own fields. Raises: NOT_FOUND."""
    with deps.uow() as uow:
        row, deal = _load(uow, tracking_number)
        data = data_of(row)
        f = data["fields"]
        roles = data.get("commission_roles") or {}
        unit = uow.units.get(row.unit_id)
        company = uow.companies.get(row.contractor_id)

        def name(nid: str | None) -> str:
            person = uow.people.get(nid) if nid else None
            return person.full_name if person else ""

        xml = base64.b64decode(data["document_xml"]) if data.get("document_xml") else None
        documents = []
        if xml:
            documents.append({"title": f"قرارداد امضاشده {row.code}",
                              "url": f"eproc://contracts/{row.code}/contract.xml",
                              "sha256": hashlib.sha256(xml).hexdigest(), "format": "application/xml",
                              "content": xml})
        prop = (json.loads(deal.deal_json or "{}").get("property"))
        d = data.get("deal") or {}
        hook: dict[str, Any] = {
            "contract_type": deal.contract_type, "transaction": deal.transaction, "source": deal.source,
            "commission": {"date": f.get("commission_date"),
                           "votes": [{"name": name(v["national_id"]), "role": v["role"], "vote": v["vote"]}
                                     for v in f.get("commission_votes") or []]},
            "property": None if prop is None else {
                **prop, "plate": d.get("plate"),
                "valuation": {"expert_number": f.get("expert_valuation_number"),
                              "date": f.get("expert_valuation_date"),
                              "amount_rial": f.get("expert_valuation_amount_rial")}},
            "lease": None if row.kind not in LEASE_KINDS else {
                "lessor": str(f.get("lessor")), "months": f.get("lease_period_months"),
                "starts": f.get("lease_start_date"), "ends": f.get("lease_end_date"),
                "monthly_rent_rial": f.get("monthly_rent_rial"), "total_rial": f.get("lease_total_rial")},
            "barter": None if deal.contract_type != "barter" else {
                "kind": f.get("barter_kind"), "subject": f.get("counter_value_description"),
                "valuation_rial": f.get("valuation_amount_rial")},
        }
        return {
            "contract_code": row.code, "title": f.get("subject"), "unit": row.unit_id, "unit_name": unit.name,
            "threshold_class": row.threshold_class, "selection_method": f.get("selection_method"),
            "date_signed": row.concluded_at, "amount_rial": row.amount_rial,
            "budget_line": row.budget_line or "", "expense_factor": row.expense_factor or "",
            "contractor": {"national_id": company.national_id if company else "",
                           "name": company.name if company else "",
                           "economic_code": company.economic_code if company else "",
                           "grade": company.grade if company else None,
                           "ceo_name": name(f.get("contractor_ceo")),
                           "signatories": [name(n) for n in f.get("contractor_signatories") or []]},
            "employer_signatories": [{"name": name(n), "role": roles.get(n, "chair")}
                                     for n in f.get("employer_signatories") or []],
            "commission_members": [{"name": name(n), "role": roles.get(n, "")}
                                   for n in f.get("commission_members") or []],
            "supervisor": {"id": f.get("supervisor"), "name": name(f.get("supervisor"))},
            "documents": documents,
            "extend_release": ocds_realestate.extender(hook),
        }


def publish_deal(deps: Deps, realestate: RealEstateSystem, publisher: TransparencyPublisher,
                 tracking_number: str) -> DealState:
    """A final deal recorded in the real-estate system (its property, by contract code) and published
    on the transparency site; its release checked against the OCDS schema with the extensions used
    (integrations.ocds_realestate) and the outcome kept on the contract and audited. Idempotent.
    Not final: nothing happens (the state says why).

    Raises: NOT_FOUND (no such deal); the site's and the real-estate system's refusals
    (FIELD_MISSING, INVALID_INPUT) are audited and come back in `blocked_reason`. Rule: R21, R22, R23."""
    with deps.uow() as uow:
        row, deal = _load(uow, tracking_number)
    if row.stage != FINAL or row.code is None:
        return deal_state(deps, tracking_number)
    now = deps.clock.now()
    try:
        if deal.plate_key and deal.source == SOURCE_SYSTEM:  # a hand-entered property is not on file there
            realestate.record_deal(row.code, deal.plate_key, deal.transaction or deal.contract_type, now)
        result = publisher.publish(publication_data(deps, tracking_number))
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=now, actor=ENGINE_ACTOR, action="realestate.publication_refused",
                       entity="contract", entity_id=tracking_number, payload={"code": row.code})
        return deal_state(deps, tracking_number, blocked_reason=exc.reason.value)
    release = next((r for r in publisher.releases() if r.get("id") == result.release_id), None)
    errors = ["release not found"] if release is None else ocds_realestate.package_errors(
        ocds_realestate.deal_package([release], now, deps.policy.publication.publisher))
    with deps.uow() as uow:
        stored = reread_contract(uow, row)
        d = data_of(stored)
        d["publication"] = {"status": result.status, "release_id": result.release_id, "ocid": result.ocid,
                            "ocds_valid": not errors, "ocds_errors": errors[:5],
                            "extensions": list(ocds_realestate.EXTENSIONS)}
        stored.data_json = json.dumps(d, ensure_ascii=False, sort_keys=True)
        stored_deal = uow.real_estate.for_contract(stored.id)
        if stored_deal is not None:
            stored_deal.release_id = result.release_id
        uow.record(at=now, actor=ENGINE_ACTOR, action="realestate.published", entity="contract",
                   entity_id=tracking_number, payload={"code": row.code, "release_id": result.release_id,
                                                      "ocds_valid": not errors})
        uow.commit()
    return deal_state(deps, tracking_number)


def release_of(deps: Deps, publisher: TransparencyPublisher, tracking_number: str) -> dict[str, Any] | None:
    """The deal's published release (as the site stored it), or None before publication."""
    state = deal_state(deps, tracking_number)
    if state.release_id is None:
        return None
    return next((r for r in publisher.releases() if r.get("id") == state.release_id), None)

