"""`eproc pilot` for an online auction (حراج; issue 14 part 1): the scenario of scenario-format.md
"More transaction kinds" (`[tender] kind = "online_auction"`, `window`, `min_increment_rial`, bidders'
`offers`), rehearsed through the real API, tokens, flows and store, and its report.

The auction stands on an announced tender of kind auction (its notice, commission, price list and
estimate = the base price) created at the stations exactly as any tender (pilot.runner.announce);
its deadline is the latest the window can close, extensions included. The contracts officer then
registers the window; each bidder's signatory lodges its guarantee and makes its offers at their
times from its own station; the online-auction flow closes it, the commission signs the minutes and
the chair the Article 18 notification. With a `[contract]` the award then ends in an income contract
(R30: registered with workflow, its contract code at `final`) and the `[[receipts]]` are recorded
against its code at their times (pilot.contract_world, services.contract.receipts)."""
from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.policy import Policy, load_policy
from config.settings import get_settings
from domain.auction.rules import terms_of
from domain.identity import validate_company_id, validate_economic_code
from domain.persian import format_jalali_datetime, parse_amount_rial, parse_int
from domain.reasons import DomainError, Reason
from domain.validation_fa import problems_fa
from pilot import report as pilot_report
from pilot.contract_world import IncomeContractDef, ReceiptDef
from pilot.scenario import (
    BidderDef,
    ContractDef,
    Event,
    Guarantee,
    Member,
    Price,
    PriceListDef,
    Quantity,
    Scenario,
    ScenarioFile,
    ScenarioInfo,
    TenderDef,
    Threshold,
    read_scenario_toml,
)
from services.fields import day, edge, text, when

KIND = "online_auction"
_dt = edge(when, each=False)
_rial = edge(lambda v, n: parse_amount_rial(v, n or "مبلغ"))
_int = edge(lambda v, n: parse_int(v, n or "عدد"))
_text = edge(text, each=False)
# Events an online auction rehearses (sealed envelopes and resubmissions belong to sealed bids).
EVENTS = frozenset({"absent", "revoke_certificate", "decline_contract"})


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_M):
    opens_at: datetime
    closes_at: datetime
    _v = field_validator("opens_at", "closes_at", mode="before")(_dt)

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.closes_at <= self.opens_at:
            raise ValueError("window: پایان حراج باید پس از آغاز آن باشد")
        return self


class OfferDef(_M):
    at: datetime
    amount_rial: int
    _v_dt = field_validator("at", mode="before")(_dt)
    _v_r = field_validator("amount_rial", mode="before")(_rial)


class AuctionTenderDef(_M):
    """`[tender]` of an online auction: the usual keys of a tender that apply (no deadline, opening or
    envelopes B and C: the window says when) plus `window` and the optional `min_increment_rial`."""

    kind: Literal["online_auction"]
    procedure: Literal["one_stage"] = "one_stage"
    unit: str
    title: str
    items: list[Quantity] = Field(min_length=1)
    guarantee_rial: int
    guarantee_valid_until: date
    announce_at: datetime
    window: Window
    min_increment_rial: int | None = Field(default=None, ge=1)
    min_valid_bids: int | None = Field(default=None, ge=1)
    signing_days: int | None = Field(default=None, ge=1)

    _v_dt = field_validator("announce_at", mode="before")(_dt)
    _v_d = field_validator("guarantee_valid_until", mode="before")(edge(day, each=False))
    _v_r = field_validator("guarantee_rial", "min_increment_rial", mode="before")(_rial)
    _v_t = field_validator("title", mode="before")(_text)
    _v_i = field_validator("min_valid_bids", "signing_days", mode="before")(_int)

    @model_validator(mode="after")
    def _order(self) -> AuctionTenderDef:
        if self.window.opens_at <= self.announce_at:
            raise ValueError("window.opens_at: حراج باید پس از انتشار آگهی آغاز شود")
        return self


class AuctionBidderDef(_M):
    """`[[bidders]]` of an online auction: the usual keys (`submit_at`: when the guarantee is lodged;
    `documents`, `technical_score`, `price` are accepted and unused) plus `offers`."""

    id: str
    name: str
    national_id: str
    economic_code: str
    grade: int
    submit_at: datetime
    guarantee: Guarantee | None = None
    documents: list[str] = Field(default_factory=list)
    technical_score: int | None = None
    price: Price | None = None
    offers: list[OfferDef] = Field(default_factory=list)

    _v_n = field_validator("national_id", mode="before")(edge(lambda v, n: validate_company_id(v), each=False))
    _v_e = field_validator("economic_code", mode="before")(edge(lambda v, n: validate_economic_code(v), each=False))
    _v_dt = field_validator("submit_at", mode="before")(_dt)
    _v_t = field_validator("name", mode="before")(_text)
    _v_i = field_validator("grade", "technical_score", mode="before")(_int)


class AuctionScenario(ScenarioFile):
    """An online-auction scenario file (scenario-format.md "More transaction kinds")."""

    scenario: ScenarioInfo
    thresholds: dict[int, Threshold] = Field(default_factory=dict)
    price_list: PriceListDef
    tender: AuctionTenderDef
    commission: list[Member] = Field(min_length=1)
    bidders: list[AuctionBidderDef] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    contract: IncomeContractDef | None = None
    receipts: list[ReceiptDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> AuctionScenario:
        ids = [mm.id for mm in self.commission] + [b.id for b in self.bidders]
        if len(ids) != len(set(ids)):
            raise ValueError("شناسه‌های اعضا و پیشنهاددهندگان باید یکتا باشند")
        codes = {i.code for i in self.price_list.items}
        for q in self.tender.items:
            if q.code not in codes:
                raise ValueError(f"ردیف «{q.code}» در فهرست بها نیست")
        for e in self.events:
            if e.kind not in EVENTS:
                raise ValueError(f"events: رویداد «{e.kind}» در حراج برخط نیست ({', '.join(sorted(EVENTS))})")
            if e.who not in set(ids):
                raise ValueError(f"events: «{e.who}» نه عضو کمیسیون است نه پیشنهاددهنده")
        if self.receipts and self.contract is None:
            raise ValueError("receipts: دریافت بدون بخش [contract] معنا ندارد")
        return self


def is_online_auction(path: Path | str) -> bool:
    """Whether the scenario file at `path` is an online auction (`[tender] kind = "online_auction"`);
    False for anything unreadable (pilot.scenario.load_scenario then says what is wrong). Raises nothing."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    tender = raw.get("tender")
    return isinstance(tender, dict) and tender.get("kind") == KIND


def load_auction_scenario(path: Path | str) -> AuctionScenario:
    """The online-auction scenario at `path`, validated like any scenario (Persian problems naming the
    key; Jalali text times; numbers through domain.persian).

    Raises: INVALID_INPUT naming the file, the key and the problem."""
    path = Path(path)
    raw = read_scenario_toml(path)
    try:
        return AuctionScenario.model_validate(raw)
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: {problems_fa(exc.errors())}") from None


def check_scenario(path: Path | str) -> Any:
    """Validate any scenario file before anything runs: an online auction's here, a real-estate or
    barter deal's (pilot.realestate), an income contract's (pilot.contract_world), others by
    pilot.scenario.load_scenario. Returns the loaded scenario (its kind's model; an income scenario's tender part). Raises: INVALID_INPUT."""
    from pilot.contract_world import is_income_scenario, load_income_scenario
    from pilot.realestate import is_deal, load_deal_scenario
    from pilot.scenario import load_scenario

    if is_online_auction(path):
        return load_auction_scenario(path)
    if is_deal(path):
        return load_deal_scenario(path)
    if is_income_scenario(path):
        return load_income_scenario(path)[0]
    return load_scenario(path)


def latest_close(sc: AuctionScenario, policy: Policy) -> datetime:
    """The latest the window can close (UTC): its close plus every extension the policy allows.
    Raises: POLICY_INVALID."""
    rules = policy.online_auction_rules()
    return sc.tender.window.closes_at + rules.extend_by * rules.max_extensions


def basis_scenario(sc: AuctionScenario, policy: Policy) -> Scenario:
    """The tender the auction stands on, as the rehearsal's world and the tender file see it: kind
    auction, one stage, deadline and opening at the latest close; the bidders as registry entries
    (their sealed-bid keys unused). Built from validated values (no second parsing). Raises nothing."""
    t = sc.tender
    last = latest_close(sc, policy)
    tender = TenderDef.model_construct(
        kind="auction", procedure="one_stage", unit=t.unit, title=t.title, items=t.items,
        guarantee_rial=t.guarantee_rial, guarantee_valid_until=t.guarantee_valid_until, announce_at=t.announce_at,
        deadline=last, opening_at=last, required_documents=[], allowed_grades=[], min_technical_score=None,
        price_opening_at=None, min_valid_bids=t.min_valid_bids, signing_days=t.signing_days)
    bidders = [BidderDef.model_construct(id=b.id, name=b.name, national_id=b.national_id,
                                         economic_code=b.economic_code, grade=b.grade, submit_at=b.submit_at,
                                         guarantee=b.guarantee, documents=b.documents, technical_score=None,
                                         price=Price.model_construct(coefficient=None, amount_rial=1))
               for b in sc.bidders]
    c = sc.contract
    contract = None if c is None else ContractDef.model_construct(
        budget_line=c.budget_line, expense_factor=c.expense_factor, supervisor=c.supervisor,
        stop_at_stage=c.stop_at_stage, deductions=None, service=None, min_vehicles=None, min_workers=None,
        penalty_per_missing_vehicle_rial=0, penalty_per_missing_worker_rial=0)
    return Scenario.model_construct(scenario=sc.scenario, thresholds=sc.thresholds, price_list=sc.price_list,
                                    tender=tender, commission=sc.commission, bidders=bidders, events=sc.events,
                                    contract=contract, status_statements=[], payments=[])


@dataclass(frozen=True)
class Step:
    at: datetime
    order: int
    kind: str  # guarantee | offer | event
    who: str
    payload: Any = None


def timeline(sc: AuctionScenario) -> list[Step]:
    """Guarantees (at each bidder's submit_at), offers and events in time order (ties: file order)."""
    steps = [Step(b.submit_at, i, "guarantee", b.id, b.guarantee) for i, b in enumerate(sc.bidders)
             if b.guarantee is not None]
    n = len(steps)
    for b in sc.bidders:
        for o in b.offers:
            n += 1
            steps.append(Step(o.at, n, "offer", b.id, o))
    steps += [Step(e.at, 10_000 + i, "event", e.who, e) for i, e in enumerate(sc.events)]
    return sorted(steps, key=lambda s: (s.at, s.order))


# Refusals of the API that end a rehearsal rather than count as a refused offer.
FATAL = frozenset({Reason.STORE_UNREACHABLE, Reason.NOT_AUTHENTICATED, Reason.INTERNAL_ERROR})


def _as_signatory(world: Any, bidder_id: str, act: Any) -> None:
    """`act(station, company_id, ca_pem)` at the bidder's signatory's own station, logged in as the
    company's signatory; a refusal of the API is the outcome (stored by the engine), not an error."""
    from services.signers import COMPANY_SIGNATORY

    b = next(x for x in world.scenario.bidders if x.id == bidder_id)
    try:
        with world.stations.person(world.bidder_signatory[bidder_id], COMPANY_SIGNATORY, b.national_id) as st:
            act(st, b.national_id, st.ca_pem())
    except DomainError as exc:
        if exc.reason in FATAL:
            raise


def register(world: Any, sc: AuctionScenario) -> None:
    """At the announcement the unit's contracts officer registers the window (once across reruns).
    Raises: the API's refusals."""
    from services.pricelists import OPERATOR_ROLE
    from stations import auction as station

    tender_id = sc.scenario.name
    with world.stations.public() as api:
        try:
            station.show(api, tender_id)
            return
        except DomainError as exc:
            if exc.reason is not Reason.NOT_FOUND:
                raise
    with world.stations.person(world.staff["contracts_officer"], OPERATOR_ROLE, sc.tender.unit) as officer:
        station.register(officer, tender_id, sc.tender.unit, sc.tender.window.opens_at, sc.tender.window.closes_at,
                         sc.tender.min_increment_rial)


def _done(world: Any, tender_id: str, step: Step) -> bool:
    """Whether the engine already received this step (a rerun after a crash sends nothing twice)."""
    with world.deps.uow() as uow:
        if step.kind == "offer":
            return uow.auctions.offer_received(tender_id, step.who, step.at, step.payload.amount_rial) is not None
        return any(g.bidder_ref == step.who and g.received_at == step.at for g in uow.auctions.guarantees(tender_id))


def act(world: Any, sc: AuctionScenario, step: Step) -> None:
    """One step at its simulated time, from the person's own station. Raises: FATAL refusals."""
    from pilot.runner import Step as TenderStep, apply_event
    from stations import auction as station

    tender_id = sc.scenario.name
    if step.kind == "event":
        apply_event(world, TenderStep(step.at, step.order, "event", step.who, step.payload))
        return
    world.clock.set(max(world.clock.now(), step.at))
    if _done(world, tender_id, step):
        return
    if step.kind == "guarantee":
        g = step.payload
        _as_signatory(world, step.who, lambda st, company, ca: station.lodge_guarantee(
            st, tender_id, step.who, company, g.amount_rial, g.valid_until, ca))
    else:
        amount = step.payload.amount_rial
        _as_signatory(world, step.who, lambda st, company, ca: station.offer(st, tender_id, step.who, company,
                                                                              amount, ca))


def rehearse(world: Any, sc: AuctionScenario) -> dict[str, Any]:
    """Announce, register, guarantees, offers and events in time order, then the online-auction flow;
    with a `[contract]`, the income contract's registration flow and the receipts at their times (R30);
    returns the report of scenario-format.md."""
    from flows.online_auction import online_auction_flow
    from pilot.contract_people import register_contract
    from pilot.contract_world import record_receipts
    from pilot.runner import announce, run_tags

    tender_id = announce(world)
    register(world, sc)
    for step in timeline(sc):
        act(world, sc, step)
    with run_tags(sc.tender.unit, "online_auction"):
        result = online_auction_flow(tender_id)
        if result.get("contract_bidder") and sc.contract is not None:
            register_contract(world, tender_id, result["contract_bidder"])  # approvals at stations
            record_receipts(world, tender_id)
    return build_report(world, sc, result)


def build_report(world: Any, sc: AuctionScenario, result: dict[str, Any]) -> dict[str, Any]:
    """The report of scenario-format.md from what the store holds: the tenders' keys (bids from the
    final minutes, B and C null, `price_rial` the best accepted offer) plus `auction` (the close in
    Jalali Tehran time, extensions, best offer in rials) and `offers` (per bidder: accepted, refused by
    reason code); the income contract's keys (pilot.contract_report.income_report: `contract` with its
    nature and type, `receipts`, `schedule`), null where the scenario does not reach them."""
    from services.auction import auction_state

    base = pilot_report.build(world, result)
    tender_id = sc.scenario.name
    _, state, outcomes = auction_state(world.deps, tender_id)
    bids = {}
    for bidder, row in (base.get("bids") or {}).items():
        bids[bidder] = {**row, "B": None, "C": None}
    with world.deps.uow() as uow:
        for g in uow.auctions.guarantees(tender_id):
            bids.setdefault(g.bidder_ref, {"A": "accepted" if g.accepted else "rejected", "B": None, "C": None,
                                           "price_rial": None, "rank": None, "reason": g.reason})
    offers: dict[str, Any] = {}
    for b in sc.bidders:
        mine = [o for o in outcomes if o.offer.bidder_id == b.id]
        refused = {"OFFER_TOO_LOW": 0, "AUCTION_CLOSED": 0}
        for o in mine:
            if not o.accepted and o.reason is not None:
                refused[o.reason.value] = refused.get(o.reason.value, 0) + 1
        offers[b.id] = {"accepted": sum(1 for o in mine if o.accepted), "refused": refused}
    auction = {"closes_at": format_jalali_datetime(state.closes_at), "extensions": state.extensions,
               "best_rial": state.best_rial}
    from pilot.contract_report import income_report

    report = income_report(world, {**base, "bids": dict(sorted(bids.items())), "auction": auction, "offers": offers})
    order = ["scenario", "tender", "auction", "offers", "bids", "winner", "runner_up", "minutes", "contract",
             "status_statements", "payments", "receipts", "schedule", "publication"]
    return {k: report.get(k) for k in order}


def run_online_auction(scenario_path: Path | str, out_dir: Path | None = None, workdir: Path | None = None,
                       policy: Policy | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Build the world of the online-auction scenario (in `workdir`, or a new temporary directory) and
    rehearse it; with `out_dir`, write the evidence bundle there. Returns the report.

    Raises: INVALID_INPUT (the file), and what the API, stores and flows raise."""
    from pilot.contract_world import attach, income_inputs, use_income_inputs
    from pilot.evidence import write_bundle
    from pilot.world import build_world
    from services.deps import use

    sc = load_auction_scenario(scenario_path)
    policy = policy or load_policy(get_settings().policy_file)
    terms_of(sc.scenario.name, 1, sc.tender.window.opens_at, sc.tender.window.closes_at,
             policy.online_auction_rules(), sc.tender.min_increment_rial)  # the window and policy hold together
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="eproc-pilot-"))
    world = build_world(basis_scenario(sc, policy), base, policy, database_url)
    attach(world)
    if sc.contract is not None:  # the income contract's terms and receipts (R30)
        use_income_inputs(world.deps, sc.scenario.name, income_inputs(None, sc.contract, sc.receipts))
    with use(world.deps):
        report = rehearse(world, sc)
    if out_dir is not None:
        write_bundle(world, Path(out_dir), report)
    return report
