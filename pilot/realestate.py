"""`eproc pilot` for a real-estate transaction (R22) or a barter (R23) (issue 14 part 3): a scenario of
scenario-format.md "More transaction kinds" whose `[contract] type` is `real_estate` or `barter`.

The deal stands on the commission's decision, not on sealed bids: `[tender]` gives the unit, the
title, the procedure that chose the counterparty (`kind`, the selection method), `announce_at` and
`opening_at` (the commission's session); `[[commission]]` the members (an `absent` event keeps one
out); `[[bidders]]` the counterparty from the contractor registry (`price.amount_rial`: the agreed
price). `[contract]` carries `type`, `nature`, `real_estate` / `barter` and the usual terms. The
rehearsal builds the world (people with their own tokens, registries, the real-estate system stub
holding the property unless the deal is a district deal under 100 m², which is entered by hand),
opens the deal, runs its workflow (review, final approval with token signatures, code), records it in
the real-estate system and publishes it (transparency stub, OCDS with the Location extension), and
prints the report of scenario-format.md (sealed-bid keys null)."""
from __future__ import annotations

import tempfile
import tomllib
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.policy import Policy, load_policy
from config.settings import get_settings
from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import jalali_year, parse_amount_rial, parse_decimal, parse_int
from domain.realestate.rules import (
    SOURCE_HAND,
    check_plate,
    contract_kind,
    entry_source_for,
)
from domain.reasons import DomainError, Reason
from domain.validation_fa import problems_fa
from pilot.scenario import Member, ScenarioFile, read_scenario_toml
from services.fields import day, edge, text, when

CONTRACT_TYPES = ("real_estate", "barter")
_dt = edge(when, each=False)
_d = edge(day, each=False)
_rial = edge(lambda v, n: parse_amount_rial(v, n or "مبلغ"))
_int = edge(lambda v, n: parse_int(v, n or "عدد"))
_dec = edge(lambda v, n: parse_decimal(v, n or "عدد"))
_text = edge(text, each=False)
VOTING_ROLES = ("chair", "finance", "technical")


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Loose(BaseModel):
    # Keys of the usual tables a deal does not use (guarantee, documents, ...) are accepted and ignored.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ScenarioInfo(_M):
    name: str


class Threshold(_M):
    small_max: int
    medium_max: int
    _v = field_validator("small_max", "medium_max", mode="before")(_rial)


class DealTender(_Loose):
    kind: Literal["tender", "auction", "price_inquiry", "online_auction"]
    unit: str
    title: str
    announce_at: datetime
    opening_at: datetime
    _v_dt = field_validator("announce_at", "opening_at", mode="before")(_dt)
    _v_t = field_validator("title", mode="before")(_text)

    @model_validator(mode="after")
    def _order(self) -> DealTender:
        if self.opening_at <= self.announce_at:
            raise ValueError("opening_at: جلسهٔ کمیسیون باید پس از announce_at باشد")
        return self


class DealPrice(_Loose):
    amount_rial: int | None = None
    _v = field_validator("amount_rial", mode="before")(_rial)


class Counterparty(_Loose):
    id: str
    name: str
    national_id: str
    economic_code: str
    grade: int
    price: DealPrice | None = None
    _v_n = field_validator("national_id", mode="before")(edge(lambda v, n: validate_company_id(v), each=False))
    _v_e = field_validator("economic_code", mode="before")(edge(lambda v, n: validate_economic_code(v), each=False))
    _v_t = field_validator("name", mode="before")(_text)
    _v_i = field_validator("grade", mode="before")(_int)


class DealEvent(_Loose):
    at: datetime
    kind: Literal["absent"]
    who: str
    _v = field_validator("at", mode="before")(_dt)


class PlateDef(_M):
    main: str = ""
    sub: str = ""
    section: str = ""
    _v = field_validator("main", "sub", "section", mode="before")(_text)


Day = date  # a field below is named `date`


class ValuationDef(_M):
    expert_number: str = ""
    date: Day | None = None
    amount_rial: int | None = None
    _v_t = field_validator("expert_number", mode="before")(_text)
    _v_d = field_validator("date", mode="before")(_d)
    _v_r = field_validator("amount_rial", mode="before")(_rial)


class LeaseDef(_M):
    lessee: str = ""
    months: int
    starts: date
    monthly_rent_rial: int
    _v_i = field_validator("months", mode="before")(_int)
    _v_d = field_validator("starts", mode="before")(_d)
    _v_r = field_validator("monthly_rent_rial", mode="before")(_rial)


class RealEstateDef(_M):
    transaction: Literal["sale", "acquisition", "lease", "rent_out"] = "sale"
    property_type: str = ""
    area_m2: Decimal
    location: str = ""
    plate: PlateDef
    address: str = ""
    valuation: ValuationDef | None = None
    lease: LeaseDef | None = None
    _v_a = field_validator("area_m2", mode="before")(_dec)
    _v_t = field_validator("property_type", "location", "address", mode="before")(_text)


class BarterDef(_M):
    kind: Literal["property", "joint_project_shares", "hologram"]
    counterparty: str
    subject: str
    valuation_rial: int
    _v_t = field_validator("subject", mode="before")(_text)
    _v_r = field_validator("valuation_rial", mode="before")(_rial)


class DealContract(_M):
    nature: Literal["expense", "income"] | None = None
    type: Literal["real_estate", "barter"]
    real_estate: RealEstateDef | None = None
    barter: BarterDef | None = None
    budget_line: str = ""
    expense_factor: str = ""
    supervisor: str
    stop_at_stage: str | None = None
    _v_s = field_validator("supervisor", mode="before")(edge(lambda v, n: validate_national_id(v), each=False))

    @model_validator(mode="after")
    def _parts(self) -> DealContract:
        if self.type == "real_estate" and self.real_estate is None:
            raise ValueError("contract.real_estate: معاملهٔ ملکی این بخش را لازم دارد")
        if self.type == "barter" and self.barter is None:
            raise ValueError("contract.barter: تهاتر این بخش را لازم دارد")
        re = self.real_estate
        if re is not None and re.transaction in ("lease", "rent_out") and re.lease is None:
            raise ValueError("contract.real_estate.lease: اجاره این بخش را لازم دارد")
        return self


class DealScenario(ScenarioFile):
    """A real-estate or barter scenario file (scenario-format.md "More transaction kinds")."""

    scenario: ScenarioInfo
    thresholds: dict[int, Threshold] = Field(default_factory=dict)
    price_list: dict[str, Any] | None = None  # accepted, unused: a deal has no estimate
    tender: DealTender
    commission: list[Member] = Field(min_length=1)
    bidders: list[Counterparty] = Field(min_length=1)
    events: list[DealEvent] = Field(default_factory=list)
    contract: DealContract

    @model_validator(mode="after")
    def _references(self) -> DealScenario:
        bidders = {b.id for b in self.bidders}
        members = {mm.id for mm in self.commission}
        if bidders & members:
            raise ValueError("شناسه‌های اعضا و طرف‌های معامله باید یکتا باشند")
        who = self.counterparty_id
        if who not in bidders:
            raise ValueError(f"طرف معامله «{who}» در [[bidders]] نیست")
        for e in self.events:
            if e.who not in members:
                raise ValueError(f"events: «{e.who}» عضو کمیسیون نیست")
        return self

    @property
    def counterparty_id(self) -> str:
        c = self.contract
        if c.barter is not None:
            return c.barter.counterparty
        if c.real_estate is not None and c.real_estate.lease is not None and c.real_estate.lease.lessee:
            return c.real_estate.lease.lessee
        return self.bidders[0].id


def is_deal(path: Path | str) -> bool:
    """Whether the scenario at `path` is a real-estate or barter deal (`[contract] type`); False for
    anything unreadable. Raises nothing."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    contract = raw.get("contract")
    return isinstance(contract, dict) and contract.get("type") in CONTRACT_TYPES


def load_deal_scenario(path: Path | str) -> DealScenario:
    """The deal scenario at `path`, validated (Persian problems naming the key).

    Raises: INVALID_INPUT naming the file, the key and the problem."""
    path = Path(path)
    raw = read_scenario_toml(path)
    try:
        sc = DealScenario.model_validate(raw)
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: {problems_fa(exc.errors())}") from None
    re = sc.contract.real_estate
    contract_kind(sc.contract.type, re.transaction if re is not None else None)
    return sc


def basis_scenario(sc: DealScenario) -> Any:
    """The world's scenario (pilot.scenario.Scenario) for a deal: the unit, commission, counterparties,
    supervisor; a one-line price list (the world approves one; a deal uses none). Raises nothing."""
    from pilot.scenario import (
        BidderDef,
        ContractDef,
        Price,
        PriceItem,
        PriceListDef,
        Scenario,
        ScenarioInfo as Info,
        TenderDef,
        Threshold as Th,
    )

    t = sc.tender
    price_list = PriceListDef.model_construct(
        id=f"urban-services/{jalali_year(t.announce_at)}",
        items=[PriceItem.model_construct(code="RE-0000", unit="m2", unit_price=1)])
    tender = TenderDef.model_construct(
        kind="auction" if t.kind == "online_auction" else t.kind, procedure="one_stage", unit=t.unit, title=t.title,
        items=[], guarantee_rial=0, guarantee_valid_until=t.opening_at.date(), announce_at=t.announce_at,
        deadline=t.opening_at, opening_at=t.opening_at, required_documents=[], allowed_grades=[],
        min_technical_score=None, price_opening_at=None, min_valid_bids=None, signing_days=None)
    bidders = [BidderDef.model_construct(id=b.id, name=b.name, national_id=b.national_id,
                                         economic_code=b.economic_code, grade=b.grade, submit_at=t.announce_at,
                                         guarantee=None, documents=[], technical_score=None,
                                         price=Price.model_construct(coefficient=None, amount_rial=1))
               for b in sc.bidders]
    c = sc.contract
    contract = ContractDef.model_construct(budget_line=c.budget_line, expense_factor=c.expense_factor,
                                           supervisor=c.supervisor, stop_at_stage=c.stop_at_stage, deductions=None,
                                           service=None, min_vehicles=None, min_workers=None,
                                           penalty_per_missing_vehicle_rial=0, penalty_per_missing_worker_rial=0)
    return Scenario.model_construct(
        scenario=Info.model_construct(name=sc.scenario.name),
        thresholds={y: Th.model_construct(small_max=v.small_max, medium_max=v.medium_max)
                    for y, v in sc.thresholds.items()},
        price_list=price_list, tender=tender, commission=sc.commission, bidders=bidders, events=[],
        contract=contract, status_statements=[], payments=[])


def _votes(world: Any, sc: DealScenario) -> tuple[tuple[str, str, str], ...]:
    """Members taking part in the commission's session (an `absent` event keeps one out), each with
    their vote: the voting members approve, the others attend."""
    absent = {e.who for e in sc.events if e.at <= sc.tender.opening_at}
    return tuple((mm.national_id, mm.role, "approve" if mm.role in VOTING_ROLES else "attend")
                 for mm in sc.commission if mm.id not in absent and mm.alternate_for is None)


def request_of(world: Any, sc: DealScenario, policy: Policy) -> Any:
    """The deal as the contracts officer opens it; a deal the rule sends to the real-estate system
    has its property filed there (the world's copy of the real system) and nothing typed.
    Raises: INVALID_INPUT (the stub's rules)."""
    from integrations.realestate import PropertyRecord, Valuation
    from services.realestate import BarterInput, DealRequest, LeaseInput, PropertyInput, ValuationInput

    c, t = sc.contract, sc.tender
    counterparty = next(b for b in sc.bidders if b.id == sc.counterparty_id)
    re = c.real_estate
    plate = hand = lease = None
    if re is not None:
        plate = check_plate(re.plate.main, re.plate.sub, re.plate.section)
        v = re.valuation
        source = entry_source_for(policy.unit(t.unit).kind, re.area_m2)
        if source == SOURCE_HAND:
            hand = PropertyInput(re.property_type, re.area_m2, re.location, re.address,
                                 None if v is None else ValuationInput(v.expert_number, v.date, v.amount_rial))
        else:
            complete = v is not None and v.expert_number and v.date is not None and v.amount_rial
            valuation = Valuation(v.expert_number, v.date, v.amount_rial) if complete and v and v.date and \
                v.amount_rial else None
            world.stubs["realestate"].file_property(PropertyRecord(plate.key, re.property_type, re.area_m2,
                                                                   re.location, re.address, valuation))
        if re.lease is not None:
            lease = LeaseInput(re.lease.months, re.lease.starts, re.lease.monthly_rent_rial)
    barter = None if c.barter is None else BarterInput(c.barter.kind, c.barter.subject, c.barter.valuation_rial)
    amount = (counterparty.price.amount_rial if counterparty.price and counterparty.price.amount_rial else None)
    if amount is None:
        amount = c.barter.valuation_rial if c.barter is not None else (
            re.valuation.amount_rial if re is not None and re.valuation and re.valuation.amount_rial else 0)
    transaction = re.transaction if re is not None else None
    nature = c.nature or ("income" if transaction in ("sale", "rent_out") else "expense")
    return DealRequest(unit=t.unit, title=t.title, contract_type=c.type, transaction=transaction,
                       counterparty=counterparty.national_id, amount_rial=amount, selection_method=t.kind,
                       commission_at=t.opening_at, votes=_votes(world, sc), supervisor=c.supervisor,
                       budget_line=c.budget_line, expense_factor=c.expense_factor, plate=plate, hand=hand,
                       lease=lease, barter=barter, nature=nature, stop_at_stage=c.stop_at_stage)


def rehearse(world: Any, sc: DealScenario) -> dict[str, Any]:
    """Commission, opening, workflow, real-estate system and publication at their simulated times;
    returns the report."""
    from services.realestate import open_deal, publish_deal, run_workflow

    stub, publisher = world.stubs["realestate"], world.deps.publisher
    world.clock.set(max(world.clock.now(), sc.tender.opening_at + timedelta(hours=2)))
    req = request_of(world, sc, world.policy)
    state = open_deal(world.deps, stub, req, actor=world.staff["contracts_officer"], tracking_hint=sc.scenario.name)
    world.clock.set(max(world.clock.now(), sc.tender.opening_at + timedelta(days=1)))
    state = run_workflow(world.deps, state.tracking_number)
    blocked = state.blocked_reason
    if state.code is not None:
        state = publish_deal(world.deps, stub, publisher, state.tracking_number)
        blocked = state.blocked_reason or blocked
    return build_report(sc, state, blocked)


def build_report(sc: DealScenario, state: Any, blocked: str | None) -> dict[str, Any]:
    """The report of scenario-format.md for a deal: the contract (code, stage, amount, counterparty,
    nature, type), the publication (OCDS validity, the dotted names of the empty mandatory fields);
    the sealed-bid, auction, statement, payment and receipt keys null."""
    contract = {"code": state.code, "status": state.stage, "amount_rial": state.amount_rial,
                "bidder": sc.counterparty_id, "nature": state.nature, "type": state.contract_type}
    return {
        "scenario": sc.scenario.name,
        "tender": {"status": "awarded", "reason": blocked, "estimate_rial": None},
        "auction": None, "offers": None, "bids": None,
        "winner": sc.counterparty_id, "runner_up": None, "minutes": None,
        "contract": contract, "status_statements": None, "payments": None, "receipts": None,
        "publication": {"ocds_valid": state.ocds_valid, "missing_fields": list(state.missing_fields)},
    }


def run_deal(scenario_path: Path | str, out_dir: Path | None = None, workdir: Path | None = None,
             policy: Policy | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Build the deal's world (in `workdir`, or a new temporary directory) and rehearse it; with
    `out_dir`, write the evidence bundle there. Returns the report.

    Raises: INVALID_INPUT (the file), and what the stores, stubs and services raise."""
    from integrations.stubs.realestate import RealEstateSystemStub
    from pilot.contract_world import attach
    from pilot.evidence import write_bundle
    from pilot.world import build_world
    from services.deps import use

    sc = load_deal_scenario(scenario_path)
    policy = policy or load_policy(get_settings().policy_file)
    if sc.thresholds:
        from config.policy import Threshold as PolicyThreshold

        merged = dict(policy.thresholds)
        merged.update({y: PolicyThreshold(small_max=t.small_max, medium_max=t.medium_max)
                       for y, t in sc.thresholds.items()})
        policy = policy.model_copy(update={"thresholds": merged})
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="eproc-pilot-"))
    world = build_world(basis_scenario(sc), base, policy, database_url)
    attach(world)
    world.stubs.setdefault("realestate", RealEstateSystemStub(world.engine, world.clock))
    with use(world.deps):
        report = rehearse(world, sc)
    if out_dir is not None:
        write_bundle(world, Path(out_dir), report)
    return report
