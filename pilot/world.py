"""The simulated world of a pilot: people with real SoftHSM tokens and certificates from a pilot CA,
the registries (units, people, roles, companies), the approved price list and formulas, and the
outside-system stubs, all on one database.

Every simulated person has a token directory and a PIN of their own (`tokens/<label>/`, as on their
own station: signing.softhsm.SoftHsm.person) and acts through the same API as in production
(pilot.stations): the price list is imported by the contracts officer and approved, with the
formulas, on the deputy's token.

The people's tokens, keys and certificates and the pilot CA are made once per scenario and kept in a
cached template (`world_template`: under $XDG_CACHE_HOME/eproc/pilot-templates, 0700/0600, keyed by a
hash of everything that determines them); a new world copies each person's token directory from it,
relabels it as the world's own and changes its PIN to the person's own. Copying a directory costs a
few milliseconds, an RSA key generation on SoftHSM 0.2-0.5 s. The template holds simulated keys only
and serves rehearsals and tests, nothing else. Beside them, an empty store migrated to the code's
head (`schema_template`, keyed by a hash of the migrations): a rehearsal's new SQLite store is a copy
of it. EPROC_PILOT_CACHE=off builds every world from scratch, EPROC_PILOT_CACHE=<dir> keeps the
templates there."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import Engine

from config.policy import Policy, Threshold
from domain.clock import SimulatedClock
from domain.documents.pricelist import PriceItem, PriceListContent, check_domain
from domain.formulas import Formula
from domain.identity import validate_national_id
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from pilot.decisions import ScriptedDecisions
from pilot.scenario import Scenario
from services.certificate_registry import SqlCertificateRegistry
from services.deps import Deps
from services.signers import Signer, Signers
from signing import token as token_module
from signing.ca import MunicipalCA
from signing.keytransport import choose_mechanism
from signing.registry import InMemoryCertificateRegistry
from signing.softhsm import SoftHsm
from signing.token import Token, resolve_pin
from store.db import make_engine, session_factory
from store.uow import UnitOfWork

SO_PIN = "97531"  # simulated tokens only; real tokens take the PIN from the holder (env or prompt)
# The one PIN of a world whose tokens share the process's directory (`shared_tokens`): the stack's
# workers still open the members' tokens themselves until the commission's stations (issue 12).
SHARED_PIN = "1357"
KEY = "sign"
SYSTEM_UNIT = "municipality"
CA_NAME = "مرجع صدور گواهی آزمایشی شهرداری تهران"
CA_KEY_BITS = 2048
CA_VALID_DAYS = 3650
CERT_VALID_DAYS = 730

# The cached template of a world's tokens and CA (rehearsals and tests only).
TEMPLATE_VERSION = 2  # bump when what a template holds or how it is made changes (2: ten-digit PINs)
CACHE_ENV = "EPROC_PILOT_CACHE"  # off | 0 | false | no: no template; a path: the templates' directory
KEEP_TEMPLATES = 32  # templates kept, most recently used first (and any used within the hour)

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
    """A simulated person's own PIN: ten digits from a seed (the person's token label). Two people
    share one with a chance of 1 in 10^10 per pair; with six digits, two worlds' 32 people did once."""
    return str(int(hashlib.sha256(f"pin:{seed}".encode()).hexdigest(), 16))[:10]


def simulated_mobile(seed: str) -> str:
    return "0912" + str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:7]


@dataclass(frozen=True)
class Trainee:
    """A trainee rehearsing with their own token (docs/training.fa.md): `who` is the person they play
    (a staff role such as `treasurer`, `supervisor`, a commission member id or role, a bidder id for
    its signatory, or a national ID of the scenario), `token_label` their token's label in the SoftHSM2
    store of `conf` (default: SOFTHSM2_CONF of the environment), `pin` their PIN (default:
    EPROC_TOKEN_PIN_<LABEL> / EPROC_TOKEN_PIN, else asked)."""

    who: str
    token_label: str
    conf: str | None = None
    pin: str | None = None


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
    template: WorldTemplate | None = None  # the cached template this world's CA and tokens come from
    trainee: Trainee | None = None  # a trainee playing one person on their own token
    trainee_nid: str | None = None  # the national ID of the person the trainee plays

    @property
    def unit(self) -> str:
        return self.scenario.tender.unit

    def signer(self, national_id: str) -> Signer:
        return self.deps.signers.get(national_id)


def build_world(scenario: Scenario, base_dir: Path, policy: Policy, database_url: str | None = None, *,
                shared_tokens: bool = False, trainee: Trainee | None = None) -> World:
    """The scenario's world in `base_dir` (reused when it exists: a rerun after a crash). Each person
    gets a token directory and PIN of their own, unless `shared_tokens` (the process's own directory,
    SHARED_PIN, for stack workers that open members' tokens); the person `trainee` plays is enrolled
    on the trainee's own token instead. Raises: INVALID_INPUT (a trainee who is nobody of the
    scenario), TOKEN_* (the trainee's token), and what the API and stores raise."""
    base_dir.mkdir(parents=True, exist_ok=True)
    if trainee is not None and trainee.conf is None:
        # Read now: opening the simulated people's tokens switches SOFTHSM2_CONF between their stores.
        trainee = dataclasses.replace(trainee, conf=os.environ.get("SOFTHSM2_CONF"))
    if shared_tokens:
        SoftHsm.for_process(base_dir / "tokens")  # before the PKCS#11 module is first loaded
    url = database_url or f"sqlite:///{base_dir / 'eproc.db'}"
    engine = _migrated_store(url, base_dir / "eproc.db" if database_url is None else None)
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
    template = None
    if (ca_dir / "ca-key.pem").exists():
        ca = MunicipalCA.load(ca_dir, registry)
    else:
        root = None if shared_tokens else template_cache_dir()
        template = world_template(people_of(scenario), start, root) if root is not None else None
        ca = MunicipalCA.copy(template.ca_dir, ca_dir, registry) if template is not None \
            else MunicipalCA.init(ca_dir, CA_NAME, clock, registry=registry, key_size=CA_KEY_BITS,
                                  valid_days=CA_VALID_DAYS)
    signers = Signers()
    world = World(scenario, base_dir, engine, clock, policy, ca,
                  Deps(sessions=sessions, clock=clock, policy=policy, ca_cert=ca.certificate, signers=signers,
                       decisions=ScriptedDecisions(scenario, lambda: world.stations)), shared_tokens=shared_tokens,
                  template=template, trainee=trainee)
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
    """The person's own token directory and PIN (created once per world, from the world's template
    when it has one), their key and certificate."""
    if world.trainee is not None and nid == world.trainee_nid:
        return _enroll_trainee(world, world.trainee, nid, name)
    label = token_label(world, nid)
    mechanism = None
    if world.shared_tokens:
        pin, hsm = SHARED_PIN, SoftHsm.for_process(world.base_dir / "tokens")
    else:
        pin, person_dir = simulated_pin(label), world.base_dir / "tokens" / label
        if world.template is not None and nid in world.template.people and not person_dir.exists():
            mechanism = _copy_person(world.template, nid, person_dir, label, pin)
        hsm = SoftHsm.person(person_dir, [label] if mechanism is not None else None)
    if label not in hsm.known:
        hsm.init_token(label, pin, SO_PIN)
    with Token(label, pin=pin) as token:
        existing = [r for r in world.ca.registry.for_person(nid) if r.token_label == label]
        if existing:
            cert = existing[-1].certificate()
        else:
            der = token.certificate(KEY) if token.has_key(KEY) else None
            if der is not None:  # copied from the template, or an enrolment cut short: on the token already
                cert = x509.load_der_x509_certificate(der)
                world.ca.adopt(nid, token, KEY, cert)
            else:
                cert = world.ca.enroll(nid, name, token, KEY, valid_days=CERT_VALID_DAYS, clock=world.clock)
            mechanism = mechanism or choose_mechanism(token, KEY)
            with UnitOfWork(world.deps.sessions) as uow:
                row = uow.certificates.get(cert.serial_number)
                assert row is not None  # saved by the CA just above
                row.key_transport = mechanism
                uow.commit()
    signer = Signer(nid, label, KEY, cert, pin)
    world.deps.signers.add(signer)
    return signer


def trainee_person(world: World, who: str) -> str:
    """The national ID of the person a trainee plays: a staff role (`contracts_officer`, `treasurer`,
    `employer_reviewer`, `deputy`, `supervisor`), a commission member id or its role (the principal),
    a bidder id (its signatory), or a national ID of the scenario's people.

    Raises: INVALID_INPUT (nobody of the scenario)."""
    sc = world.scenario
    if who in world.member_nid:
        return world.member_nid[who]
    if who in world.bidder_signatory:
        return world.bidder_signatory[who]
    if who in world.staff and who != "transactions_system":
        return world.staff[who]
    principal = next((m.national_id for m in sc.commission if m.role == who and m.alternate_for is None), None)
    if principal is not None:
        return principal
    if who in {nid for nid, _ in people_of(sc)}:
        return who
    raise DomainError(Reason.INVALID_INPUT, f"«{who}» در سناریوی «{sc.scenario.name}» نیست: یک سمت (مثلاً treasurer)، "
                                            "شناسهٔ عضو کمیسیون یا پیشنهاددهنده، یا کد ملی یکی از افراد سناریو")


def _enroll_trainee(world: World, trainee: Trainee, nid: str, name: str) -> Signer:
    """The trainee's own token (its store routed in this process, their PIN): their key and this
    world's certificate for it. On a rerun the registered certificate is used again; a key under
    KEY whose certificate this world's CA issued is adopted; else a key is generated on the token
    (under KEY, or `KEY-<world tag>` when KEY holds another CA's certificate) and certified.

    Raises: TOKEN_NOT_FOUND (no store, or no such token), TOKEN_PIN_INVALID, INVALID_INPUT."""
    conf = trainee.conf
    if not conf or not Path(conf).is_file():
        raise DomainError(Reason.TOKEN_NOT_FOUND, "پیکربندی SoftHSM2 کارآموز (SOFTHSM2_CONF) پیدا نشد")
    label = trainee.token_label
    token_module.route_token(label, conf)
    pin = resolve_pin(label, trainee.pin)
    with Token(label, pin=pin) as token:
        existing = [r for r in world.ca.registry.for_person(nid) if r.token_label == label]
        if existing:
            key, cert = existing[-1].key_label, existing[-1].certificate()
        else:
            key = _trainee_key(world, token)
            der = token.certificate(key) if token.has_key(key) else None
            if der is not None:
                cert = x509.load_der_x509_certificate(der)
                world.ca.adopt(nid, token, key, cert)
            else:
                cert = world.ca.enroll(nid, name, token, key, valid_days=CERT_VALID_DAYS, clock=world.clock)
            with UnitOfWork(world.deps.sessions) as uow:
                row = uow.certificates.get(cert.serial_number)
                assert row is not None  # saved by the CA just above
                row.key_transport = choose_mechanism(token, key)
                uow.commit()
    signer = Signer(nid, label, key, cert, pin)
    world.deps.signers.add(signer)
    return signer


def _trainee_key(world: World, token: Token) -> str:
    """The key label the trainee's person signs with on their token (see `_enroll_trainee`)."""
    tag = hashlib.sha256(str(world.base_dir.resolve()).encode()).hexdigest()[:6]
    for key in (KEY, f"{KEY}-{tag}"):
        if not token.has_key(key):
            return key
        der = token.certificate(key)
        if der is not None and x509.load_der_x509_certificate(der).issuer == world.ca.certificate.subject:
            return key
    raise DomainError(Reason.INVALID_INPUT, f"کلیدهای «{KEY}» و «{KEY}-{tag}» توکن «{token.label}» گواهی این "
                                            "آزمایش را ندارند")


def _copy_person(template: WorldTemplate, nid: str, person_dir: Path, label: str, pin: str) -> str:
    """The person's token directory made from the template's copy of their token: staged beside the
    world's tokens, relabelled `label`, its PIN changed to `pin`, then moved into place (a crash leaves
    no half-made directory). Returns the key's tested key-transport mechanism."""
    entry = template.people[nid]
    staging = person_dir.with_name(f".{person_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    SoftHsm.person_copy(staging, template.token_dir(nid), entry["label"], label)
    template_pin = simulated_pin(entry["label"])
    with Token(label, pin=template_pin) as token:
        token.change_pin(template_pin, pin)
    os.rename(staging, person_dir)
    return str(entry["key_transport"])


def people_of(scenario: Scenario) -> list[tuple[str, str]]:
    """Everyone a world of `scenario` enrols, in enrolment order, as (national id, name on the
    certificate): the commission, the staff (named by role), the bidders' signatories. A national id
    listed twice is enrolled once, under its first name."""
    sc = scenario
    people = [(mem.national_id, mem.name) for mem in sc.commission]
    people += [(simulated_national_id(f"{sc.scenario.name}:{role}"), role) for role in STAFF_ROLES]
    if sc.contract is not None:
        people.append((sc.contract.supervisor, "supervisor"))
    people += [(simulated_national_id(f"{sc.scenario.name}:signatory:{b.id}"), f"مدیرعامل {b.name}")
               for b in sc.bidders]
    unique: dict[str, str] = {}
    for nid, name in people:
        unique.setdefault(nid, name)
    return list(unique.items())


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
    if world.trainee is not None:
        world.trainee_nid = trainee_person(world, world.trainee.who)
    for nid, name in people_of(sc):
        _enroll(world, nid, name)


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


def _migrated_store(url: str, sqlite_file: Path | None) -> Engine:
    """The world's store at `url`, migrated to the code's head. A new SQLite file of a rehearsal
    (`sqlite_file`, not there yet) is a copy of the cached empty schema (`schema_template`) when the
    template cache is on; otherwise the migrations run here (Alembic: ~0.5 s with its import)."""
    if sqlite_file is not None and not sqlite_file.exists():
        root = template_cache_dir()
        schema = schema_template(root) if root is not None and _private_dir(root) else None
        if schema is not None:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(schema, sqlite_file)
                return make_engine(url)
            except OSError:  # removed meanwhile (another checkout's cleanup): migrate here instead
                sqlite_file.unlink(missing_ok=True)
    from store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


def schema_template(root: Path) -> Path | None:
    """An empty SQLite store migrated to the head of this code's migrations, under `root` (the
    templates' directory), made once: named by a hash of every file of the `store` package (the
    migrations and the code they call: tables, column types, the audit log's triggers), of the
    migration scripts' directory (`MIGRATIONS`) and of the SQLite, SQLAlchemy and Alembic versions, so
    any change makes a new one. None when it cannot be made whole (its write-ahead log not folded in).

    Raises: what the store raises while migrating."""
    from importlib.metadata import version

    import store
    from store.migrate import MIGRATIONS

    digest = hashlib.sha256(f"{sqlite3.sqlite_version} {version('sqlalchemy')} {version('alembic')}".encode())
    for base in dict.fromkeys([Path(store.__file__).parent, Path(MIGRATIONS)]):
        for source in sorted(base.rglob("*.py")):
            digest.update(str(source.relative_to(base)).encode() + b"\0" + source.read_bytes())
    path = root / f"schema-{digest.hexdigest()[:32]}.db"
    if path.is_file():
        try:
            os.utime(path)  # in use: kept by the other checkouts' cleanup
        except OSError:
            pass
        return path
    from store.migrate import upgrade

    staging = root / f".{path.name}.{os.getpid()}-{time.monotonic_ns()}"
    engine = make_engine(f"sqlite:///{staging}")
    try:
        upgrade(engine)
        raw = engine.raw_connection()  # outside a transaction: fold the log into the file, the copy is the file
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            raw.driver_connection.execute("PRAGMA journal_mode=DELETE")  # type: ignore[union-attr]
        finally:
            raw.close()
    finally:
        engine.dispose()
    for extra in (Path(f"{staging}-wal"), Path(f"{staging}-shm")):
        if extra.exists() and extra.stat().st_size > 0:
            staging.unlink(missing_ok=True)
            return None
        extra.unlink(missing_ok=True)
    os.chmod(staging, 0o600)
    with open(staging, "rb") as staged:  # on disk before it takes its name: never a truncated template
        os.fsync(staged.fileno())
    os.replace(staging, path)  # racing makers: one whole file wins
    now = time.time()
    for old in [*root.glob("schema-*.db"), *root.glob(".schema-*")]:  # other migrations' (not used for an hour)
        try:
            if old != path and now - old.stat().st_mtime > 3600:
                old.unlink()
        except OSError:
            pass
    return path


# --- the cached template ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorldTemplate:
    """A cached template: `dir/ca/` (the pilot CA's key, certificate, metadata) and per person
    `dir/people/<national id>/tokens/<token>/` (a SoftHSM2 token holding their key pair and
    certificate, labelled `people[nid]["label"]`, PIN `simulated_pin(label)`)."""

    dir: Path
    people: dict[str, dict[str, str]]  # national id -> {"label", "token" (directory name), "key_transport"}

    @property
    def ca_dir(self) -> Path:
        return self.dir / "ca"

    def token_dir(self, nid: str) -> Path:
        return self.dir / "people" / nid / "tokens" / self.people[nid]["token"]


def template_cache_dir() -> Path | None:
    """Where the templates live: $EPROC_PILOT_CACHE (a path), else $XDG_CACHE_HOME/eproc/pilot-templates
    (default ~/.cache); None when EPROC_PILOT_CACHE is off, 0, false or no."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in ("off", "0", "false", "no"):
        return None
    if value:
        return Path(value)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "eproc" / "pilot-templates"


def template_inputs(people: list[tuple[str, str]], start: datetime) -> dict[str, Any]:
    """Everything that determines a template's content; its hash names the template, so any change
    (people, names, simulated start, key and certificate parameters, the PKCS#11 module) makes a new one."""
    module = token_module.module_path()
    try:
        st = os.stat(module)
        module_id = [module, st.st_size, st.st_mtime_ns]
    except OSError:
        module_id = [module]
    return {"version": TEMPLATE_VERSION, "people": [list(p) for p in people], "start": start.isoformat(),
            "ca_name": CA_NAME, "ca_key_bits": CA_KEY_BITS, "ca_valid_days": CA_VALID_DAYS,
            "cert_valid_days": CERT_VALID_DAYS, "rsa_bits": token_module.RSA_BITS, "key_label": KEY,
            "so_pin": hashlib.sha256(SO_PIN.encode()).hexdigest(), "module": module_id}


def template_key(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def world_template(people: list[tuple[str, str]], start: datetime, root: Path) -> WorldTemplate | None:
    """The template for `people` enrolled at `start`, from `root` or made there now (once: workers
    racing to make it keep the first). A template whose inputs differ (stale) or that is incomplete is
    made again. None when `root` or the template is not private to this user (owner, modes 0700/0600).

    Raises: what SoftHSM, the token and the CA raise while making it."""
    inputs = template_inputs(people, start)
    key = template_key(inputs)
    if not _private_dir(root):
        return None
    path = root / key
    found = _load_template(path, inputs)
    if found is None and path.exists():
        if not _owned(path):
            return None
        shutil.rmtree(path, ignore_errors=True)  # stale or incomplete: made again below
    if found is None:
        found = _make_template(root, key, inputs, people, start)
        if found is None:
            return None
    try:
        os.utime(found.dir)  # most recently used: kept by _prune
    except OSError:
        pass
    _prune(root, keep=found.dir)
    return found


def _owned(path: Path) -> bool:
    return os.lstat(path).st_uid == os.getuid()


def _private_dir(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.lstat(path)
    if st.st_uid != os.getuid() or not os.path.isdir(path) or os.path.islink(path):
        return False
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return True


def _private_tree(path: Path) -> bool:
    """Every directory 0700 and every file 0600 (no group or other bits), all ours, no symlinks."""
    uid = os.getuid()
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [".", *dirnames, *filenames]:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_uid != uid or st.st_mode & 0o077 or os.path.islink(os.path.join(dirpath, name)):
                return False
    return True


def _load_template(path: Path, inputs: dict[str, Any]) -> WorldTemplate | None:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("inputs") != json.loads(json.dumps(inputs)) or not _private_tree(path):
        return None
    template = WorldTemplate(path, manifest["people"])
    if not (template.ca_dir / "ca-key.pem").exists() or any(
            not (template.token_dir(nid) / "token.object").exists() for nid in template.people):
        return None
    return template


def _make_template(root: Path, key: str, inputs: dict[str, Any], people: list[tuple[str, str]],
                   start: datetime) -> WorldTemplate | None:
    """Enrol `people` as a fresh world would, in a private build directory, then move it into place."""
    build = Path(tempfile.mkdtemp(prefix=f".build-{key[:8]}-", dir=root))  # 0700
    try:
        clock = SimulatedClock(start)
        ca = MunicipalCA.init(build / "ca", CA_NAME, clock, key_size=CA_KEY_BITS, valid_days=CA_VALID_DAYS,
                              registry=InMemoryCertificateRegistry())
        tag = key[:6]
        entries: dict[str, dict[str, str]] = {}
        for nid, name in people:
            label = f"{tag}-{nid}"
            pin = simulated_pin(label)
            hsm = SoftHsm.person(build / "people" / nid)
            hsm.init_token(label, pin, SO_PIN)
            with Token(label, pin=pin) as token:
                ca.enroll(nid, name, token, KEY, valid_days=CERT_VALID_DAYS, clock=clock)
                mechanism = choose_mechanism(token, KEY)
            (token_dir,) = [d for d in hsm.token_dir.iterdir() if d.is_dir()]
            entries[nid] = {"label": label, "token": token_dir.name, "key_transport": mechanism}
        (build / "README").write_text("Simulated rehearsal keys (eproc pilot, tests): never for real "
                                      "signatures. Safe to delete.\n", encoding="utf-8")
        (build / "manifest.json").write_text(json.dumps({"inputs": inputs, "people": entries},
                                                        ensure_ascii=False, indent=1), encoding="utf-8")
        for dirpath, _dirnames, filenames in os.walk(build):
            os.chmod(dirpath, 0o700)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o600)
        try:
            os.rename(build, root / key)
        except OSError:  # another process made it first: theirs is as good
            shutil.rmtree(build, ignore_errors=True)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return _load_template(root / key, inputs)


def _prune(root: Path, keep: Path) -> None:
    """Keep the KEEP_TEMPLATES most recently used templates and any used within the hour; drop builds
    abandoned over an hour ago."""
    try:
        entries = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return
    now = time.time()
    for p in entries:
        if p.name.startswith(".build-") and now - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)
    done = sorted((p for p in entries if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime,
                  reverse=True)
    for p in done[KEEP_TEMPLATES:]:
        # Never one used within the hour: another process (a test worker) may be copying from it.
        if p != keep and now - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)
