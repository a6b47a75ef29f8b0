"""The simulated world of a pilot: people with real SoftHSM tokens and certificates from a pilot CA,
the registries (units, people, roles, companies), the approved price list and formulas, and the
outside-system stubs, all on one database.

Every simulated person has a token directory and a PIN of their own (`tokens/<label>/`, as on their
own station: signing.softhsm.SoftHsm.person) and acts through the same API as in production
(pilot.stations): the price list is imported by the contracts officer and approved, with the
formulas, on the deputy's token."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config.policy import Policy, Threshold
from domain.clock import SimulatedClock
from domain.documents.pricelist import PriceItem, PriceListContent, check_domain
from domain.formulas import Formula
from domain.identity import validate_national_id
from domain.persian import to_tehran
from pilot.decisions import ScriptedDecisions
from pilot.scenario import Scenario
from services.certificate_registry import SqlCertificateRegistry
from services.deps import Deps
from services.signers import Signer, Signers
from signing.ca import MunicipalCA
from signing.keytransport import choose_mechanism
from signing.softhsm import SoftHsm
from signing.token import Token
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.uow import UnitOfWork

SO_PIN = "97531"  # simulated tokens only; real tokens take the PIN from the holder (env or prompt)
# The one PIN of a world whose tokens share the process's directory (`shared_tokens`): the stack's
# workers still open the members' tokens themselves until the commission's stations (issue 12).
SHARED_PIN = "1357"
KEY = "sign"
SYSTEM_UNIT = "municipality"

# Staff the contract and statement workflows need besides the commission (simulated people).
STAFF_ROLES = ("contracts_officer", "treasurer", "employer_reviewer", "deputy", "transactions_system")


def simulated_national_id(seed: str) -> str:
    """A valid national ID derived from a seed, so pilots are reproducible."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:9]
    if len(set(digits)) == 1:
        digits = "1" + digits[1:]
    total = sum(int(digits[i]) * (10 - i) for i in range(9)) % 11
    return validate_national_id(digits + str(total if total < 2 else 11 - total))


def simulated_pin(seed: str) -> str:
    """A simulated person's own PIN (six digits from a seed): no two people share one."""
    return str(int(hashlib.sha256(f"pin:{seed}".encode()).hexdigest(), 16))[:6]


def simulated_mobile(seed: str) -> str:
    return "0912" + str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:7]


@dataclass
class World:
    scenario: Scenario
    base_dir: Path
    engine: Engine
    clock: SimulatedClock
    policy: Policy
    ca: MunicipalCA
    deps: Deps
    member_nid: dict[str, str] = field(default_factory=dict)       # member id -> national id
    bidder_signatory: dict[str, str] = field(default_factory=dict)  # bidder id -> signatory national id
    staff: dict[str, str] = field(default_factory=dict)             # role -> national id
    stubs: dict[str, object] = field(default_factory=dict)
    stations: Any = None  # pilot.stations.PilotStations: the people's clients of the API
    shared_tokens: bool = False  # every token in the process's own SoftHSM directory, one PIN

    @property
    def unit(self) -> str:
        return self.scenario.tender.unit

    def signer(self, national_id: str) -> Signer:
        return self.deps.signers.get(national_id)


def build_world(scenario: Scenario, base_dir: Path, policy: Policy, database_url: str | None = None, *,
                shared_tokens: bool = False) -> World:
    """The scenario's world in `base_dir` (reused when it exists: a rerun after a crash). Each person
    gets a token directory and PIN of their own, unless `shared_tokens` (the process's own directory,
    SHARED_PIN, for stack workers that open members' tokens). Raises: what the API and stores raise."""
    base_dir.mkdir(parents=True, exist_ok=True)
    if shared_tokens:
        SoftHsm.for_process(base_dir / "tokens")  # before the PKCS#11 module is first loaded
    url = database_url or f"sqlite:///{base_dir / 'eproc.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    start = scenario.tender.announce_at - timedelta(days=60)
    clock = SimulatedClock(start)
    if scenario.thresholds:
        merged = dict(policy.thresholds)
        merged.update({y: Threshold(small_max=t.small_max, medium_max=t.medium_max)
                       for y, t in scenario.thresholds.items()})
        policy = policy.model_copy(update={"thresholds": merged})
    policy.unit(scenario.tender.unit)

    registry = SqlCertificateRegistry(sessions)
    ca_dir = base_dir / "ca"
    ca = MunicipalCA.load(ca_dir, registry) if (ca_dir / "ca-key.pem").exists() \
        else MunicipalCA.init(ca_dir, "مرجع صدور گواهی آزمایشی شهرداری تهران", clock, registry=registry,
                              key_size=2048)
    signers = Signers()
    world = World(scenario, base_dir, engine, clock, policy, ca,
                  Deps(sessions=sessions, clock=clock, policy=policy, ca_cert=ca.certificate, signers=signers,
                       decisions=ScriptedDecisions(scenario, lambda: world.stations)), shared_tokens=shared_tokens)
    _registries(world)
    _people_and_tokens(world)
    world.deps.engine_signer = signers.get(world.staff["transactions_system"])
    _stubs(world)
    from pilot.stations import PilotStations

    world.stations = PilotStations(world)
    _price_list_and_formulas(world)
    return world


def _registries(world: World) -> None:
    with UnitOfWork(world.deps.sessions) as uow:
        for u in world.policy.units:
            if not uow.units.exists(u.id):
                uow.units.add(u.id, u.code, u.name, u.kind)
        uow.commit()


def token_label(world: World, nid: str) -> str:
    """Per-world labels: several pilots (tests) can share one process's SoftHSM token directory."""
    tag = hashlib.sha256(str(world.base_dir.resolve()).encode()).hexdigest()[:6]
    return f"{tag}-{nid}"


def _enroll(world: World, nid: str, name: str) -> Signer:
    """The person's own token directory and PIN (created once per world), their key and certificate."""
    label = token_label(world, nid)
    if world.shared_tokens:
        pin, hsm = SHARED_PIN, SoftHsm.for_process(world.base_dir / "tokens")
    else:
        pin, hsm = simulated_pin(label), SoftHsm.person(world.base_dir / "tokens" / label)
    if label not in hsm.known:
        hsm.init_token(label, pin, SO_PIN)
    with Token(label, pin=pin) as token:
        existing = [r for r in world.ca.registry.for_person(nid) if r.token_label == label]
        if existing:
            cert = existing[-1].certificate()
        else:
            cert = world.ca.enroll(nid, name, token, KEY, valid_days=730, clock=world.clock)
            mechanism = choose_mechanism(token, KEY)
            with UnitOfWork(world.deps.sessions) as uow:
                uow.certificates.get(cert.serial_number).key_transport = mechanism
                uow.commit()
    signer = Signer(nid, label, KEY, cert, pin)
    world.deps.signers.add(signer)
    return signer


def _people_and_tokens(world: World) -> None:
    sc = world.scenario
    unit = sc.tender.unit
    since = to_tehran(world.clock.now()).date() - timedelta(days=365)
    now = world.clock.now()
    contacts = world.deps.contacts
    with UnitOfWork(world.deps.sessions) as uow:
        for mem in sc.commission:
            uow.people.add(mem.national_id, mem.name, simulated_mobile(mem.national_id))
            if not uow.roles.holds(mem.national_id, mem.role, unit, since + timedelta(days=1)):
                uow.roles.assign(mem.national_id, mem.role, unit, since,
                                 alternate_for=_nid_of(sc, mem.alternate_for))
            world.member_nid[mem.id] = mem.national_id
            contacts[mem.id] = simulated_mobile(mem.national_id)
        staff_names = {"contracts_officer": "کارشناس قراردادها", "treasurer": "ذی‌حساب منطقه",
                       "employer_reviewer": "کارشناس رسیدگی کارفرما", "deputy": "معاون منطقه",
                       "transactions_system": "سامانهٔ معاملات شهرداری تهران"}
        for role in STAFF_ROLES:
            nid = simulated_national_id(f"{sc.scenario.name}:{role}")
            world.staff[role] = nid
            uow.people.add(nid, staff_names[role])
            role_unit = SYSTEM_UNIT if role == "transactions_system" else unit
            if not uow.roles.holds(nid, role, role_unit, since + timedelta(days=1)):
                uow.roles.assign(nid, role, role_unit, since)
        # The commission's finance and legal members also approve their workflow stages.
        if sc.contract is not None:
            world.staff["supervisor"] = sc.contract.supervisor
            uow.people.add(sc.contract.supervisor, "ناظر قرارداد")
            if not uow.roles.holds(sc.contract.supervisor, "supervisor", unit, since + timedelta(days=1)):
                uow.roles.assign(sc.contract.supervisor, "supervisor", unit, since)
        for b in sc.bidders:
            signatory = simulated_national_id(f"{sc.scenario.name}:signatory:{b.id}")
            world.bidder_signatory[b.id] = signatory
            uow.people.add(signatory, f"مدیرعامل {b.name}", simulated_mobile(signatory))
            uow.companies.add(b.national_id, b.name, b.economic_code, b.grade, ceo_national_id=signatory)
            contacts[b.id] = simulated_mobile(signatory)
        uow.record(at=now, actor="pilot", action="pilot.registries", entity="unit", entity_id=unit,
                   payload={"members": len(sc.commission), "bidders": len(sc.bidders)})
        uow.commit()
    for mem in sc.commission:
        _enroll(world, mem.national_id, mem.name)
    for role, nid in world.staff.items():
        _enroll(world, nid, role)
    for b in sc.bidders:
        _enroll(world, world.bidder_signatory[b.id], f"مدیرعامل {b.name}")


def _nid_of(sc: Scenario, member_id: str | None) -> str | None:
    if member_id is None:
        return None
    return next(mm.national_id for mm in sc.commission if mm.id == member_id)


def _price_list_and_formulas(world: World) -> None:
    """The scenario's price list imported at the contracts officer's station and approved, with the
    policy's formulas, at the deputy's (R09), through the API. The formula rows carry the technical
    council's approval as the policy records it; the deputy's token signature is the approval R09
    asks for."""
    pl = world.scenario.price_list
    now = world.clock.now()
    with UnitOfWork(world.deps.sessions) as uow:
        for f in world.policy.formulas:
            uow.formulas.add(f.id, f.version, f.expression, f.approved_by,
                             datetime.combine(f.approved_at, datetime.min.time(), tzinfo=now.tzinfo),
                             f.technical_council_ref)
        uow.commit()
    world.stations.approve_price_list_and_formulas(
        PriceListContent(pl.id, 1, check_domain(pl.id.split("/")[0]),
                         tuple(PriceItem(i.code, i.unit, i.unit_price) for i in pl.items)),
        technical_council_ref="TC-PILOT")


def formulas_of(world: World) -> dict[str, Formula]:
    """The tender's approved formulas by name, from the policy (config.policy.FormulaDef.to_formula)."""
    return {name: world.policy.formula(name).to_formula() for name in ("estimate", "abnormally-low", "guarantee")}


def _stubs(world: World) -> None:
    from integrations.stubs.announcement import AnnouncementPortalStub
    from integrations.stubs.notifications import SmsOutboxStub
    from store.stub_tables import create_stub_tables

    create_stub_tables(world.engine)
    world.deps.portal = AnnouncementPortalStub(world.engine, world.clock)
    world.deps.notifier = SmsOutboxStub(world.engine, world.clock)
    world.stubs["portal"] = world.deps.portal
    world.stubs["notifier"] = world.deps.notifier
