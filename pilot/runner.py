"""`eproc pilot`: rehearse a whole transaction from a scenario file through the real flows, store,
SoftHSM tokens and signatures, on a simulated clock; return the report of scenario-format.md."""
from __future__ import annotations

import dataclasses
import tempfile
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from config.policy import Policy, load_policy
from config.settings import get_settings
from domain.reasons import DomainError, Reason
from domain.tender.commission import Member, Role
from domain.tender.model import Kind, Procedure, TenderItem, TenderSpec
from pilot import report as pilot_report
from pilot.bidders import envelope_contents
from pilot.contract_world import attach
from pilot.evidence import write_bundle
from pilot.prefect_api import LocalPrefectApi
from pilot.scenario import DEFAULT_SCENARIO, Event, Scenario, load_scenario, tender_file, tender_id_of
from pilot.world import Trainee, World, build_world
from sealing.envelopes import SealedBid
from services.deps import use
from services.pricelists import OPERATOR_ROLE
from services.tender.files import NOTICE_SIGNATORY
from stations import bidder, operator


@dataclass(frozen=True)
class Step:
    at: datetime
    order: int
    kind: str  # submit | event
    who: str
    event: Event | None = None  # the scenario's event, for kind "event"


def tender_spec(world: World) -> TenderSpec:
    sc, d = world.scenario, world.policy.defaults
    t = sc.tender
    return TenderSpec(id=tender_id_of(sc), kind=Kind(t.kind), procedure=Procedure(t.procedure), unit=t.unit, title=t.title,
                      items=tuple(TenderItem(i.code, i.quantity) for i in t.items), guarantee_rial=t.guarantee_rial,
                      guarantee_valid_until=t.guarantee_valid_until, deadline=t.deadline, opening_at=t.opening_at,
                      price_opening_at=t.price_opening_at, required_documents=frozenset(t.required_documents),
                      allowed_grades=frozenset(t.allowed_grades),
                      min_technical_score=None if t.min_technical_score is None else Decimal(t.min_technical_score),
                      min_valid_bids=t.min_valid_bids or d.min_valid_bids,
                      signing_days=t.signing_days or d.signing_days,
                      performance_guarantee_rate=d.performance_guarantee_rate, announce_at=t.announce_at)


def members_of(scenario: Scenario) -> list[Member]:
    return [Member(mm.id, Role(mm.role), mm.national_id, mm.alternate_for, mm.name) for mm in scenario.commission]


def timeline(scenario: Scenario) -> list[Step]:
    steps = [Step(b.submit_at, i, "submit", b.id) for i, b in enumerate(scenario.bidders)]
    steps += [Step(e.at, 1000 + i, "event", e.who, e) for i, e in enumerate(scenario.events)]
    return sorted(steps, key=lambda s: (s.at, s.order))


# --- the world's actions at their simulated times, from the people's own stations (pilot.stations) ----
def announce(world: World) -> str:
    """At the announcement time the contracts officer creates the tender from its tender file and the
    commission's chair (the unit's authorised signatory) signs the notice, both at their stations over
    the API; the engine countersigns and publishes it. Returns the tender id.

    Raises: the API's refusals (INVALID_INPUT, QUORUM_NOT_MET, SECURITY_REP_ABSENT, POLICY_INVALID, ...)."""
    sc = world.scenario
    world.clock.set(sc.tender.announce_at)
    tender_id = tender_id_of(sc)
    if _published(world, tender_id):  # a rerun after a crash: the notice is out already
        return tender_id
    with world.stations.person(world.staff["contracts_officer"], OPERATOR_ROLE, sc.tender.unit) as officer:
        operator.create_tender(officer, tender_file(sc), f"{tender_id}.toml")
    chair = next(mm for mm in sc.commission if mm.role == NOTICE_SIGNATORY and mm.alternate_for is None)
    with world.stations.person(chair.national_id, NOTICE_SIGNATORY, sc.tender.unit) as signatory:
        operator.sign_notice(signatory, tender_id, sc.tender.unit, signatory.ca_pem())
    return tender_id


def _published(world: World, tender_id: str) -> bool:
    with world.stations.public() as api:
        try:
            api.get(f"/v1/tenders/{tender_id}/notice")
        except DomainError as exc:
            if exc.reason is Reason.NOT_FOUND:
                return False
            raise
    return True


def submit(world: World, bidder_id: str, at: datetime, overrides: dict | None = None) -> dict:
    """At `at` the bidder's signatory fetches the published notice, verifies it, seals to its opening
    key and signs on their own token; the bid goes to the API, whose receipt the station verifies.
    Returns {"accepted": bool, "reason": the refusal's reason code or None}."""
    world.clock.set(at)
    b = next(x for x in world.scenario.bidders if x.id == bidder_id)
    fields = {"guarantee": b.guarantee, "documents": b.documents, "grade": b.grade,
              "technical_score": b.technical_score, "price": b.price}
    fields.update({k: v for k, v in (overrides or {}).items() if v is not None})
    tender_id = tender_id_of(world.scenario)
    with world.deps.uow() as uow:  # a rerun after a crash does not submit the same bid again
        done = uow.bids.received_at(tender_id, bidder_id, at)
        if done is not None:
            return {"accepted": done.refused_reason is None, "reason": done.refused_reason}
    nid = world.bidder_signatory[bidder_id]
    with world.stations.public() as api:
        notice_xml, ca_pem = bidder.notice_and_ca(api, tender_id)
    bid, _ = bidder.seal_from_notice(tender_id, bidder_id, b.national_id, envelope_contents(**fields), notice_xml,
                                     ca_pem, world.signer(nid), world.clock)
    try:
        with world.stations.person(nid, None) as signatory:
            bidder.login_as_signatory(signatory, b.national_id)
            bidder.submit(signatory, bid, ca_pem)
    except DomainError as exc:
        if exc.reason in (Reason.STORE_UNREACHABLE, Reason.NOT_AUTHENTICATED):
            raise
        return {"accepted": False, "reason": exc.reason.value}
    return {"accepted": True, "reason": None}


def apply_event(world: World, step: Step) -> None:
    """A scenario event (revocation, tampering, resubmission) at its time, once even across reruns."""
    e = step.event
    if e is None:
        raise DomainError(Reason.INTERNAL_ERROR, f"گام {step.order} سناریو از نوع رویداد است ولی رویدادی ندارد")
    key = f"{tender_id_of(world.scenario)}#event{step.order}"
    with world.deps.uow() as uow:
        if uow.audit.exists("pilot.event", key):
            return
    world.clock.set(max(world.clock.now(), e.at))
    if e.kind == "revoke_certificate":
        nid = world.member_nid.get(e.who) or world.bidder_signatory.get(e.who)
        if nid is None:  # the scenario's loader accepts only members and bidders as `who`
            raise DomainError(Reason.INVALID_INPUT, f"events: «{e.who}» نه عضو کمیسیون است نه پیشنهاددهنده")
        for rec in world.ca.registry.for_person(nid):
            if rec.revoked_at is None:
                world.ca.revoke(rec.serial, "keyCompromise", e.at)
        world.ca.crl(world.clock)
    elif e.kind == "tamper_envelope":
        if e.envelope is None:  # the scenario's loader refuses tamper_envelope without envelope
            raise DomainError(Reason.INVALID_INPUT, "tamper_envelope به envelope نیاز دارد")
        _tamper(world, e.who, e.envelope)
    elif e.kind == "resubmit":
        submit(world, e.who, e.at, {"guarantee": e.guarantee, "documents": e.documents,
                                    "technical_score": e.technical_score, "price": e.price})
    # absent and decline_contract are answers the scripted decisions give at their moment.
    with world.deps.uow() as uow:
        uow.record(at=world.clock.now(), actor="pilot", action="pilot.event", entity="scenario", entity_id=key,
                   payload={"kind": e.kind, "who": e.who})
        uow.commit()


def _tamper(world: World, bidder_id: str, letter: str) -> None:
    """What a database administrator could do: change one byte of a stored ciphertext."""
    tender_id = tender_id_of(world.scenario)
    with world.deps.uow() as uow:
        bid = uow.bids.latest(tender_id, bidder_id)
        if bid is None or bid.refused_reason is not None:
            return
        sealed = SealedBid.from_bytes(bid.sealed)
        envs = []
        for env in sealed.envelopes:
            if env.letter == letter:
                ct = bytearray(env.ciphertext)
                ct[len(ct) // 2] ^= 0x01
                env = type(env)(env.letter, bytes(ct), env.nonce, env.wrapped_key, env.sha256)
            envs.append(env)
        bid.sealed = dataclasses.replace(sealed, envelopes=tuple(envs)).to_bytes()  # the key plan stays
        uow.commit()


def rehearse(world: World) -> dict:
    """The whole rehearsal inside the world's container: notice, bids and events in time order,
    the tender flow, then the contract, its statements and payments with every person at their own
    station (pilot.contract_people); returns the report of scenario-format.md."""
    from flows.tender import tender_flow
    from pilot.contract_people import register_contract, statements_and_payments

    tender_id = tender_id_of(world.scenario)
    announce(world)
    opening = world.scenario.tender.opening_at
    steps = timeline(world.scenario)
    for step in [s for s in steps if s.at < opening]:
        if step.kind == "submit":
            submit(world, step.who, step.at)
        else:
            apply_event(world, step)
    later = [s for s in steps if s.at >= opening and s.kind == "event"]
    _apply_until(world, later, opening)
    if world.scenario.tender.procedure == "two_stage":
        _apply_until(world, later, world.scenario.tender.price_opening_at)
    with run_tags(world.scenario.tender.unit, world.scenario.tender.kind):
        result = tender_flow(tender_id)
        if result.get("contract_bidder") and world.scenario.contract is not None:
            # Each approval, statement and signature at the person's own station (issue 13 part 6).
            contract = register_contract(world, tender_id, result["contract_bidder"])
            if contract.get("code") or world.scenario.status_statements:
                statements_and_payments(world, tender_id)
    return pilot_report.build(world, result)


def run_tags(unit: str, kind: str) -> AbstractContextManager[set[str]]:
    """The tags of a rehearsal's runs, so operators filter them in the Prefect UI like production
    runs: `rehearsal`, the unit and the transaction kind (issue 16 part 3)."""
    from prefect import tags

    return tags("rehearsal", unit, kind)


def _apply_until(world: World, steps: list[Step], until: datetime | None) -> None:
    if until is None:
        return
    for step in list(steps):
        if step.at <= until:
            apply_event(world, step)
            steps.remove(step)


def _warm_prefect() -> threading.Thread | None:
    """In local mode (no PREFECT_API_URL), start Prefect's temporary server in the background; the
    caller joins the thread before the first flow (the server object is shared, and a flow started
    before it answers would find it marked running but not yet up). None with a Prefect server."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    def start() -> None:
        try:
            SubprocessASGIServer().start()
        except Exception:  # noqa: BLE001 - the first flow starts it again and reports the problem
            return

    thread = threading.Thread(target=start, name="prefect-warm", daemon=True)
    thread.start()
    return thread


def run_pilot(scenario_path: Path | str | None = None, out_dir: Path | None = None,
              workdir: Path | None = None, policy: Policy | None = None, database_url: str | None = None,
              trainee: Trainee | None = None, prefect_api: LocalPrefectApi | None = None) -> dict:
    """Build the simulated world of the scenario (in `workdir`, or a new temporary directory) and
    rehearse it; with `out_dir`, write the evidence bundle there. `trainee`: a trainee plays one
    person of a sealed-bid scenario on their own token (pilot.world.Trainee; docs/training.fa.md).
    `prefect_api`: the Prefect server the CLI started (pilot.prefect_api), waited for before the first
    flow; without it, and without a configured Prefect API, Prefect's temporary server is started here.
    Returns the report. Raises: INVALID_INPUT (a trainee in an auction or deal scenario, or nobody of
    the scenario), TOKEN_* (the trainee's token), and what the world and the rehearsal raise."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    # A heartbeat tells Prefect that a worker's process still runs a flow; here the flows run in this
    # very process, and each flow's end waits up to a second for the heartbeat thread's sleep to end.
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return _run_pilot(scenario_path, out_dir, workdir, policy, database_url, trainee, prefect_api)


def _run_pilot(scenario_path: Path | str | None, out_dir: Path | None, workdir: Path | None,
               policy: Policy | None, database_url: str | None, trainee: Trainee | None,
               prefect_api: LocalPrefectApi | None) -> dict:
    from pilot.auction import is_online_auction, run_online_auction
    from pilot.contract_world import is_income_scenario
    from pilot.realestate import is_deal

    path = scenario_path or DEFAULT_SCENARIO
    other_kind = is_online_auction(path) or is_deal(path) or is_income_scenario(path)
    if trainee is not None and other_kind:
        raise DomainError(Reason.INVALID_INPUT, "کارآموز فقط سناریوی مناقصه با قرارداد هزینه‌ای را با توکن خودش اجرا می‌کند")
    if prefect_api is not None and other_kind:
        prefect_api.wait_ready()  # these run their first flow at once
    if is_online_auction(scenario_path or DEFAULT_SCENARIO):  # its own flow and report (issue 14)
        return run_online_auction(scenario_path or DEFAULT_SCENARIO, out_dir, workdir, policy, database_url)
    from pilot.realestate import is_deal, run_deal

    if is_deal(scenario_path or DEFAULT_SCENARIO):  # a real-estate deal or a barter (R22, R23; issue 14)
        return run_deal(scenario_path or DEFAULT_SCENARIO, out_dir, workdir, policy, database_url)
    from pilot.contract_world import is_income_scenario, run_income_pilot

    if is_income_scenario(scenario_path or DEFAULT_SCENARIO):  # an income contract and its receipts (R30)
        return run_income_pilot(scenario_path or DEFAULT_SCENARIO, out_dir, workdir, policy, database_url)
    scenario = load_scenario(scenario_path or DEFAULT_SCENARIO)
    policy = policy or load_policy(get_settings().policy_file)
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="eproc-pilot-"))
    # Prefect's local server starts (or already runs) on the other core while the world is built
    warming = _warm_prefect() if prefect_api is None else None
    world = build_world(scenario, base, policy, database_url, trainee=trainee)
    attach(world)  # the financial, project-control and transparency stubs on the pilot's database
    if warming is not None:
        warming.join()
    if prefect_api is not None:
        prefect_api.wait_ready()
    with use(world.deps):
        report = rehearse(world)
    if out_dir is not None:
        write_bundle(world, Path(out_dir), report)
    return report
