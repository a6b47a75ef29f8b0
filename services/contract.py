"""Contract registration with workflow (R12, R13, R21), as the transactions system runs it.

The contract is created from the award: amount, contractor and commission come from the final
Article 13 minutes, people and companies from the registries. It then walks the unit's policy
stages; each stage is approved by whoever holds its role in that unit on that day, the stages
that need it are e-signed with tokens on one canonical contract document, and the contract code
is issued only on reaching `final`. Every step reads the store first, so a re-run continues
where the last one stopped and never approves twice.

Scenario-specific inputs (budget line, supervisor, statements, payments) and the outside
systems come from a `ContractContext` set by whoever runs the flows (the pilot, or production
wiring); flows pass only ids.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from lxml import etree

from domain.contract.code import make_contract_code
from domain.contract.fields import GENERAL
from domain.contract.roles import Act
from domain.contract.statement import WasteTerms
from domain.contract.workflow import (CONTRACTOR_SIGNATORY, FINAL, ContractRegistration, StageDef, StageEvent,
                                      stages_from_policy)
from domain.documents.xmlcommon import new_document, sub
from domain.money import apply_rate
from domain.persian import jalali_year, to_tehran
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services import tender as tender_svc
from services.signers import COMPANY_SIGNATORY, RoleCheck, trust_store
from signing.verify import verify_document
from signing.xmldsig import signature_elements, signed_document_root
from store import models as m
from store.uow import UnitOfWork, record_refusal

NS = "urn:tehran:eproc:contract:1"
DOC_KIND = "contract"
ENGINE_ACTOR = "engine"
MINUTES_NS = "{urn:tehran:eproc:minutes:1}"
# The widest coefficient a bidder writes; more places than this is a lump sum, not a coefficient.
MAX_COEFFICIENT_PLACES = 6


# --- inputs and outside systems -------------------------------------------------------------------
@dataclass(frozen=True)
class ContractTerms:
    budget_line: str
    expense_factor: str
    supervisor: str                              # registry national ID of the supervisor
    stop_at_stage: str | None = None             # rehearsals: stop before this stage
    deductions: dict[str, Decimal] = field(default_factory=dict)  # overrides of the policy defaults
    waste: WasteTerms | None = None


@dataclass(frozen=True)
class StatementRequest:
    ref: str
    at: datetime
    items: tuple[tuple[str, Decimal], ...]       # cumulative quantities to date
    vehicles: int | None = None
    workers: int | None = None
    signed_by_contractor: bool = True


@dataclass(frozen=True)
class PaymentOrder:
    ref: str
    statement_ref: str
    at: datetime
    contract_code: str = "from-award"            # "from-award" | "" | a literal code


@dataclass(frozen=True)
class ContractInputs:
    terms: ContractTerms
    statements: tuple[StatementRequest, ...] = ()
    payments: tuple[PaymentOrder, ...] = ()


@dataclass
class ContractContext:
    """What the contract flows need beyond the store: the inputs per tender and the outside systems."""

    inputs: Callable[[str], ContractInputs]
    financial: Any
    project_control: Any
    publisher: Any
    deps: Any = None  # the dependencies this context was made for (None: any)


_context: ContractContext | None = None


def set_context(ctx: ContractContext | None) -> None:
    global _context
    _context = ctx


def context() -> ContractContext:
    """The context set for the current dependencies; in a scripted rehearsal whose runner set none,
    one made from the rehearsed scenario with the rule-enforcing stubs on the same database."""
    from services import bootstrap

    deps = bootstrap.current()
    if _context is None or (_context.deps is not None and _context.deps is not deps):
        scenario = getattr(bootstrap.decisions(), "scenario", None)
        if scenario is not None and getattr(scenario, "contract", None) is not None:
            set_context(stub_context(deps, scenario))
    if _context is None or (_context.deps is not None and _context.deps is not deps):
        raise DomainError(Reason.INVALID_INPUT, "ورودی‌های قرارداد و سامانه‌های بیرونی برای این فرایند تنظیم نشده است")
    return _context


def inputs_from_scenario(scenario: Any) -> ContractInputs:
    """A rehearsal scenario's [contract], [[status_statements]] and [[payments]] (pilot.scenario.Scenario)."""
    c = scenario.contract
    if c is None:
        raise DomainError(Reason.INVALID_INPUT, f"سناریوی «{scenario.scenario.name}» بخش [contract] ندارد")
    deductions = {}
    if c.deductions is not None:
        deductions = {k: Decimal(str(v)) for k, v in c.deductions.model_dump().items() if v is not None}
    waste = None
    if c.service == "waste":
        if c.min_vehicles is None or c.min_workers is None:
            raise DomainError(Reason.INVALID_INPUT, "قرارداد پسماند min_vehicles و min_workers لازم دارد")
        waste = WasteTerms(c.min_vehicles, c.min_workers, c.penalty_per_missing_vehicle_rial,
                           c.penalty_per_missing_worker_rial)
    terms = ContractTerms(budget_line=c.budget_line, expense_factor=c.expense_factor, supervisor=c.supervisor,
                          stop_at_stage=c.stop_at_stage, deductions=deductions, waste=waste)
    statements = tuple(StatementRequest(s.id, s.at, tuple((i.code, i.quantity) for i in s.items), s.vehicles,
                                        s.workers, s.signed_by_contractor) for s in scenario.status_statements)
    payments = tuple(PaymentOrder(p.id, p.statement, p.at, p.contract_code) for p in scenario.payments)
    return ContractInputs(terms, statements, payments)


def stub_context(deps: Any, scenario: Any, stubs: dict[str, Any] | None = None) -> ContractContext:
    """The rule-enforcing stubs on the application database, fetching from the store-backed
    transactions system; inputs from the scenario (its name is the tender id)."""
    from integrations.stubs.financial import FinancialSystemStub
    from integrations.stubs.project_control import ProjectControlStub
    from integrations.stubs.tables import create_stub_tables
    from integrations.stubs.transparency import TransparencyPublisherStub
    from services.transactions_view import StoreTransactionsSystem

    stubs = {} if stubs is None else stubs
    if "financial" not in stubs:
        engine = deps.sessions.kw["bind"]
        create_stub_tables(engine)
        transactions = StoreTransactionsSystem(deps.sessions)
        stubs["transactions"] = transactions
        stubs["financial"] = FinancialSystemStub(engine, transactions, deps.clock)
        stubs["project_control"] = ProjectControlStub(engine, transactions, deps.clock)
        stubs["publisher"] = TransparencyPublisherStub(engine, deps.clock)
    tender_id = scenario.scenario.name

    def inputs(requested: str) -> ContractInputs:
        if requested != tender_id:
            raise DomainError(Reason.INVALID_INPUT, f"ورودی‌های قرارداد مناقصهٔ «{requested}» در این آزمایش نیست")
        return inputs_from_scenario(scenario)

    return ContractContext(inputs=inputs, financial=stubs["financial"], project_control=stubs["project_control"],
                           publisher=stubs["publisher"], deps=deps)


# --- reading the award -----------------------------------------------------------------------------
def coefficient_from_prices(estimate_rial: int, price_rial: int) -> Decimal | None:
    """The bidder's coefficient as the minutes imply it: the shortest decimal whose price, rounded once,
    is the stated price. None when no short decimal gives it (a lump-sum bid)."""
    if estimate_rial <= 0 or price_rial <= 0:
        return None
    ratio = Decimal(price_rial) / Decimal(estimate_rial)
    for places in range(MAX_COEFFICIENT_PLACES + 1):
        q = ratio.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if q > 0 and apply_rate(estimate_rial, q) == price_rial:
            return q.normalize() if q == q.to_integral_value() else q
    return None


@dataclass(frozen=True)
class Award:
    tender_id: str
    unit: str
    title: str
    kind: str
    bidder: str
    company_id: str
    amount_rial: int
    estimate_rial: int
    coefficient: Decimal | None
    chair_nid: str
    commission_nids: tuple[str, ...]


def award_for(deps: tender_svc.Deps, tender_id: str, bidder: str) -> Award:
    """Amount, contractor and commission as the final Article 13 minutes state them."""
    xml, award, signer_ids = tender_svc.final_minutes(deps, tender_id)
    if bidder not in award["prices"]:
        raise DomainError(Reason.INVALID_INPUT, f"پیشنهاددهندهٔ «{bidder}» در رتبه‌بندی صورتجلسه نیست")
    view = tender_svc.load(deps, tender_id)
    body = signed_document_root(parse_untrusted(xml)).find(f"{MINUTES_NS}Body")
    estimate = int(body.find(f"{MINUTES_NS}Estimate").get("total_rial"))
    price = int(award["prices"][bidder])
    with deps.uow() as uow:
        bid = uow.bids.latest(tender_id, bidder)
        if bid is None:
            raise DomainError(Reason.INVALID_INPUT, f"پیشنهاد «{bidder}» ثبت نشده است")
        company_id = bid.company_id
    chair = tender_svc._chair(view, signer_ids)
    by_id = {mm.id: mm for mm in view.members}
    return Award(tender_id, view.spec.unit, view.spec.title, view.spec.kind.value, bidder, company_id, price,
                 estimate, coefficient_from_prices(estimate, price), chair.national_id,
                 tuple(by_id[s].national_id for s in signer_ids if s in by_id))


# --- the contract in the store -----------------------------------------------------------------------
@dataclass(frozen=True)
class ContractState:
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


def data_of(row: m.Contract) -> dict[str, Any]:
    return json.loads(row.data_json or "{}")


def stages_for(deps: tender_svc.Deps, unit: str) -> tuple[StageDef, ...]:
    return stages_from_policy(deps.policy.stages(unit))


def state(deps: tender_svc.Deps, tender_id: str, blocked_reason: str | None = None) -> ContractState:
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"برای مناقصهٔ «{tender_id}» قراردادی ثبت نشده است")
    data = data_of(row)
    stages = tuple(s.name for s in stages_for(deps, row.unit_id))
    stop = data.get("terms", {}).get("stop_at_stage")
    return ContractState(tender_id, row.tracking_number, row.code, row.stage, row.amount_rial, data.get("bidder", ""),
                         stages, stop if stop == row.stage else None, blocked_reason)


def open_contract(deps: tender_svc.Deps, tender_id: str, bidder: str, terms: ContractTerms) -> ContractState:
    """The contract as the award states it, at the first stage with a tracking number."""
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
        supervisor = uow.people.get(terms.supervisor)
        if company is None or supervisor is None:
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
            "supervisor": supervisor.national_id,
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
        uow.contracts.add(m.Contract(tracking_number=reg.tracking_number, code=None, tender_id=tender_id,
                                     unit_id=award.unit, kind=GENERAL, stage=reg.stage, threshold_class=threshold,
                                     amount_rial=award.amount_rial, contractor_id=company.national_id,
                                     budget_line=terms.budget_line or None,
                                     expense_factor=terms.expense_factor or None,
                                     data_json=json.dumps(data, ensure_ascii=False, sort_keys=True)))
        uow.record(at=now, actor=ENGINE_ACTOR, action="contract.opened", entity="contract",
                   entity_id=reg.tracking_number,
                   payload={"tender_id": tender_id, "bidder": award.bidder, "amount_rial": award.amount_rial,
                            "threshold_class": threshold, "stage": reg.stage})
        uow.commit()
    return state(deps, tender_id)


def _tracking_number(uow: UnitOfWork, unit_code: str, unit: str, now: datetime) -> str:
    year = jalali_year(now)
    prefix = f"TRK-{unit_code}-{year}-"
    taken = uow.session.query(m.Contract).filter(m.Contract.tracking_number.like(f"{prefix}%")).count()
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


# --- the workflow ---------------------------------------------------------------------------------
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


def registration_of(deps: tender_svc.Deps, row: m.Contract, approvals: list[m.ContractApproval]) -> ContractRegistration:
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
    return stage if role == stage_role else f"{stage}/{role}"


def approve_stage(deps: tender_svc.Deps, tender_id: str, stage: str) -> ContractState:
    """Every approval the stage still waits for, in order; the contract then moves on.

    Idempotent: a stage already passed is left alone. A refusal (a missing budget line, a signer
    out of role) is audited and leaves the contract where it is."""
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"برای مناقصهٔ «{tender_id}» قراردادی ثبت نشده است")
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
                row = uow.contracts.for_tender(tender_id)
                reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
            if reg.stage != stage or not reg.pending_roles():
                break
            _approve_one(deps, row, reg, reg.pending_roles()[0])
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor=ENGINE_ACTOR, action="contract.stage_refused",
                       entity="contract", entity_id=row.tracking_number, payload={"stage": stage})
        return state(deps, tender_id, blocked_reason=exc.reason.value)
    return state(deps, tender_id)


def _approve_one(deps: tender_svc.Deps, row: m.Contract, reg: ContractRegistration, role: str) -> None:
    sdef = reg.current
    now = deps.clock.now()
    role_check = contract_role_check(deps.role_check)
    if role == CONTRACTOR_SIGNATORY:
        nid, unit = reg.fields["contractor_ceo"], row.contractor_id
    else:
        nid, unit = _approver(deps, reg, sdef, role, now), row.unit_id
    signature_ref = None
    if sdef.needs_token_signature:
        signature_ref = _sign_contract_document(deps, row, reg, nid, role, unit)
    act = Act(nid, role, unit, now, signature_ref)
    # Asked before the write transaction: SQLite serialises writers and the registry read needs its own.
    role_check = answered(role_check, [(nid, role, unit, now)])
    before = reg.stage
    with deps.uow() as uow:
        row = uow.contracts.for_tender(row.tender_id)

        def next_code(unit_id: str, at: datetime) -> str:
            # Per unit and Jalali year, counted in the store inside this transaction.
            unit_code = deps.policy.unit(unit_id).code
            year = jalali_year(at)
            taken = uow.contracts.count_for_unit_year(unit_id, f"{unit_code}-{year}-")
            return make_contract_code(unit_code, year, taken + 1)

        reg.approve(sdef.name, act, role_check, next_code)
        event = reg.history[-1]
        uow.session.add(m.ContractApproval(contract_id=row.id, stage=approval_key(sdef.name, role, sdef.role),
                                           approver_national_id=event.national_id, role=role, approved_at=now,
                                           signature_ref=signature_ref))
        uow.record(at=now, actor=event.national_id, action="contract.approved", entity="contract",
                   entity_id=row.tracking_number,
                   payload={"stage": sdef.name, "role": role, "unit": unit, "signature_ref": signature_ref})
        if reg.stage != before:
            row.stage = reg.stage
            uow.record(at=now, actor=ENGINE_ACTOR, action="contract.stage", entity="contract",
                       entity_id=row.tracking_number, payload={"from": before, "to": reg.stage})
        if reg.code is not None and row.code is None:
            row.code = reg.code
            row.concluded_at = now
            uow.record(at=now, actor=ENGINE_ACTOR, action="contract.final", entity="contract",
                       entity_id=row.tracking_number, payload={"code": reg.code})
        uow.commit()


def _approver(deps: tender_svc.Deps, reg: ContractRegistration, sdef: StageDef, role: str, at: datetime) -> str:
    """The person who holds the role in the unit that day; at signing the employer's signatory named
    on the contract signs for the employer."""
    day = to_tehran(at).date()
    if sdef.contractor_signs and reg.fields.get("employer_signatories"):
        return str(reg.fields["employer_signatories"][0])
    with deps.uow() as uow:
        holders = uow.roles.holders(reg.unit, day, [role])
    principals = [h for h in holders if h.alternate_for is None] or list(holders)
    if sdef.needs_token_signature:
        principals = [h for h in principals if h.national_id in deps.signers] or principals
    if not principals:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"هیچ‌کس در سمت «{role}» واحد «{reg.unit}» نیست")
    return principals[0].national_id


# --- the signed contract document ------------------------------------------------------------------
def contract_document(row: m.Contract, fields: dict[str, Any], data: dict[str, Any]) -> etree._Element:
    """The canonical contract: what the treasurer, the employer and the contractor sign."""
    root, body = new_document(NS, "Contract", 1)
    c = sub(body, "Registration", tracking_number=row.tracking_number, tender_id=row.tender_id, unit=row.unit_id,
            kind=row.kind, threshold_class=fields["threshold_class"], selection_method=fields["selection_method"])
    sub(c, "Subject", str(fields["subject"]))
    price = data.get("price", {})
    sub(body, "Amount", rial=row.amount_rial, coefficient=price.get("coefficient"),
        estimate_rial=price.get("estimate_rial"))
    sub(body, "Budget", budget_line=fields.get("budget_line") or "", expense_factor=fields.get("expense_factor") or "")
    sub(body, "Contractor", national_id=fields["contractor_national_id"],
        economic_code=fields["contractor_economic_code"], grade=fields["contractor_grade"],
        ceo=fields["contractor_ceo"])
    for nid in fields["contractor_signatories"]:
        sub(body, "ContractorSignatory", national_id=nid)
    for nid in fields["employer_signatories"]:
        sub(body, "EmployerSignatory", national_id=nid)
    for nid in fields["commission_members"]:
        sub(body, "CommissionMember", national_id=nid)
    sub(body, "Supervisor", national_id=fields["supervisor"])
    sub(body, "ContractDate", fields["contract_date"])
    return root


def signed_xml(row: m.Contract) -> bytes | None:
    b64 = data_of(row).get("document_xml")
    return base64.b64decode(b64) if b64 else None


def _sign_contract_document(deps: tender_svc.Deps, row: m.Contract, reg: ContractRegistration, nid: str, role: str,
                            unit: str) -> str:
    data = data_of(row)
    existing = signed_xml(row)
    doc = parse_untrusted(existing) if existing else contract_document(row, reg.fields, data)
    claimed = COMPANY_SIGNATORY if role == CONTRACTOR_SIGNATORY else role
    doc = deps.signers.get(nid).sign(doc, deps.clock, claimed, unit)
    xml = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
    checks = verify_document(xml, trust_store(deps.ca_cert, deps.sessions), deps.role_check, [(claimed, unit)]
                             + _signed_pairs(existing))
    last = checks[-1] if checks else None
    if last is None or not last.valid:
        raise DomainError(last.reason if last else Reason.SIGNATURE_INVALID, f"امضای قرارداد {row.tracking_number}")
    sig_id = signature_elements(doc)[-1].get("Id")
    with deps.uow() as uow:
        stored = uow.contracts.for_tender(row.tender_id)
        d = data_of(stored)
        d["document_xml"] = base64.b64encode(xml).decode("ascii")
        d["document_sha256"] = hashlib.sha256(xml).hexdigest()
        stored.data_json = json.dumps(d, ensure_ascii=False, sort_keys=True)
        tender_svc._signature_row(uow, DOC_KIND, row.tracking_number, last)
        uow.record(at=deps.clock.now(), actor=nid, action="contract.signed", entity="contract",
                   entity_id=row.tracking_number, payload={"role": claimed, "unit": unit, "signature": sig_id,
                                                           "cert_serial": str(last.cert_serial)})
        uow.commit()
    return f"{DOC_KIND}:{row.tracking_number}#{sig_id}"


def _signed_pairs(existing: bytes | None) -> list[tuple[str, str]]:
    if not existing:
        return []
    from signing.verify import split_signer_ref
    from signing.xmldsig import signatures

    return [split_signer_ref(s.signer_ref) for s in signatures(parse_untrusted(existing))]


# --- registration without workflow ---------------------------------------------------------------------
def register_without_workflow(deps: tender_svc.Deps, tender_id: str, bidder: str, terms: ContractTerms) -> ContractState:
    """Straight to final: only where the policy calendar still allows it for the unit and date (R12)."""
    view = tender_svc.load(deps, tender_id)
    now = deps.clock.now()
    day = to_tehran(now).date()
    if deps.policy.rule("registration_without_workflow_disabled", view.spec.unit, day):
        exc = DomainError(Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED, f"واحد «{view.spec.unit}»، {day.isoformat()}")
        record_refusal(deps.sessions, exc, at=now, actor=ENGINE_ACTOR, action="contract.registration_refused",
                       entity="tender", entity_id=tender_id, payload={"bidder": bidder})
        raise exc
    opened = open_contract(deps, tender_id, bidder, terms)
    stages = stages_for(deps, view.spec.unit)
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        reg = registration_of(deps, row, list(uow.contracts.approvals(row.id)))
    if row.stage == FINAL:
        return state(deps, tender_id)
    officer = _approver(deps, reg, stages[-1], stages[-1].role, now)
    role_check = answered(deps.role_check, [(officer, stages[-1].role, row.unit_id, now)])
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        unit_code = deps.policy.unit(row.unit_id).code
        year = jalali_year(now)
        taken = uow.contracts.count_for_unit_year(row.unit_id, f"{unit_code}-{year}-")
        direct = ContractRegistration.register_without_workflow(
            opened.tracking_number, row.unit_id, row.kind, reg.fields, Act(officer, stages[-1].role, row.unit_id, now),
            role_check, lambda u, at: make_contract_code(unit_code, year, taken + 1), True, stages)
        row.stage, row.code, row.concluded_at = direct.stage, direct.code, now
        uow.session.add(m.ContractApproval(contract_id=row.id, stage=FINAL, approver_national_id=officer,
                                           role=stages[-1].role, approved_at=now, signature_ref=None))
        uow.record(at=now, actor=officer, action="contract.registered_without_workflow", entity="contract",
                   entity_id=row.tracking_number, payload={"code": direct.code})
        uow.commit()
    return state(deps, tender_id)


# --- publication (R21) --------------------------------------------------------------------------------
def publication_data(deps: tender_svc.Deps, tender_id: str) -> dict[str, Any]:
    """What the transparency site shows, names and identifiers taken from the registries."""
    view = tender_svc.load(deps, tender_id)
    roles = {mm.national_id: mm.role.value for mm in view.members}
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        data = data_of(row)
        f = data["fields"]
        unit = uow.units.get(row.unit_id)
        company = uow.companies.get(row.contractor_id)

        def name(nid: str | None) -> str:
            person = uow.people.get(nid) if nid else None
            return person.full_name if person else ""

        xml = signed_xml(row)
        documents = []
        if xml:
            documents.append({"title": f"قرارداد امضاشده {row.code}", "url": f"eproc://contracts/{row.code}/contract.xml",
                              "sha256": hashlib.sha256(xml).hexdigest(), "format": "application/xml",
                              "content": xml})
        return {
            "contract_code": row.code, "tender_id": tender_id, "title": f.get("subject"), "unit": row.unit_id,
            "unit_name": unit.name, "threshold_class": row.threshold_class,
            "selection_method": f.get("selection_method"), "date_signed": row.concluded_at,
            "amount_rial": row.amount_rial, "budget_line": row.budget_line or "",
            "expense_factor": row.expense_factor or "",
            "contractor": {"national_id": company.national_id if company else "", "name": company.name if company else "",
                           "economic_code": company.economic_code if company else "",
                           "grade": company.grade if company else None,
                           "ceo_name": name(f.get("contractor_ceo")),
                           "signatories": [name(n) for n in f.get("contractor_signatories") or []]},
            "employer_signatories": [{"name": name(n), "role": roles.get(n, "chair")}
                                     for n in f.get("employer_signatories") or []],
            "commission_members": [{"name": name(n), "role": roles.get(n, "")} for n in f.get("commission_members") or []],
            "supervisor": {"id": f.get("supervisor"), "name": name(f.get("supervisor"))},
            "documents": documents,
        }


def publish_contract(deps: tender_svc.Deps, tender_id: str, publisher: Any) -> dict[str, Any]:
    """Publish a final contract once; the outcome (and any missing field) is kept on the contract."""
    from integrations.stubs.transparency import missing_fields as shown_missing

    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    if row is None or row.stage != FINAL:
        return {"status": "not_final"}
    stored = data_of(row).get("publication")
    if stored is not None:
        return stored
    contract_data = publication_data(deps, tender_id)
    missing = shown_missing(contract_data)
    now = deps.clock.now()
    try:
        result = publisher.publish(contract_data)
        outcome = {"status": result.status, "release_id": result.release_id, "ocid": result.ocid,
                   "missing_fields": missing, "reason": None}
    except DomainError as exc:
        outcome = {"status": "refused", "release_id": None, "ocid": None, "missing_fields": missing,
                   "reason": exc.reason.value}
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        d = data_of(row)
        d["publication"] = outcome
        row.data_json = json.dumps(d, ensure_ascii=False, sort_keys=True)
        uow.record(at=now, actor=ENGINE_ACTOR, action="contract.published" if outcome["reason"] is None
                   else "contract.publication_refused", entity="contract", entity_id=row.tracking_number,
                   reason=Reason(outcome["reason"]) if outcome["reason"] else None,
                   payload={k: v for k, v in outcome.items() if k != "reason"})
        uow.commit()
    return outcome


def register_in_project_control(deps: tender_svc.Deps, tender_id: str, project_control: Any) -> dict[str, Any]:
    """Project control fetches the contract by its code from this system (R14)."""
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    code = row.code if row is not None else None
    try:
        registered = project_control.register_contract(code or "")
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor="project_control",
                       action="project_control.refused", entity="contract",
                       entity_id=row.tracking_number if row else tender_id, payload={"contract_code": code or ""})
        return {"registered": False, "reason": exc.reason.value}
    return {"registered": True, "contract_code": registered.contract_code, "reason": None}


def approvals(deps: tender_svc.Deps, tender_id: str) -> list[dict[str, Any]]:
    """Stage approvals in order, with who approved and their signature (for artifacts and reports)."""
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        if row is None:
            return []
        return [{"stage": a.stage, "role": a.role, "national_id": a.approver_national_id,
                 "at": a.approved_at, "signature_ref": a.signature_ref}
                for a in uow.contracts.approvals(row.id)]

