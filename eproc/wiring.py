"""The composition root: the one place that builds the dependency container of a production
process (worker, API, CLI) from its settings.

A worker finds its world through its settings (config/settings.py, `EPROC_*`):
- the application database (`EPROC_DATABASE_URL`, or the SQLite file under `EPROC_DATA_DIR`);
- the municipal CA's certificate, `EPROC_DATA_DIR/ca/ca-cert.pem` (the trust anchor);
- the tokens (`SOFTHSM2_CONF` / `EPROC_PKCS11_MODULE`), looked up in the certificate registry;
- the engine's own signer: `EPROC_SYSTEM_NATIONAL_ID`, else whoever holds the `transactions_system`
  role with a valid certificate;
- `EPROC_INTEGRATIONS`: `stub` (the rule-enforcing stubs on the application database), `http` (the
  financial, project-control and transparency services over HTTP: `_attach_http`) or `none`;
- `EPROC_DECISIONS`: `forms` (Prefect UI forms) or `scripted:/path/scenario.toml` (rehearsals on
  the stack); `EPROC_DECISION_TIMEOUT`: seconds a paused run waits for an operator.

Rehearsals build their own container (pilot.world); tests build theirs in fixtures.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from cryptography import x509
from sqlalchemy.orm import sessionmaker

from config.policy import load_policy
from config.settings import Settings, get_settings
from domain.clock import Clock, SystemClock
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from services.deps import Deps, active, use
from services.ports import Decisions, Orchestrator
from services.signers import ENGINE_ROLE, ENGINE_UNIT, Signer, Signers, current_certificate
from store.db import make_engine, session_factory
from store.uow import UnitOfWork


def production(settings: Settings | None = None, database_url: str | None = None) -> Deps:
    """The container of a production process: database and CA from settings, the system clock,
    signers from the certificate registry, outside-system stubs and decisions as configured.

    Raises: INVALID_INPUT when the CA certificate is missing or a setting is malformed."""
    settings = settings or get_settings()
    engine = make_engine(database_url or settings.resolved_database_url())
    sessions = session_factory(engine)
    ca_path = settings.data_dir / "ca" / "ca-cert.pem"
    if not ca_path.exists():
        raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع صدور گواهی یافت نشد: {ca_path}")
    clock = SystemClock()
    signers = RegistrySigners(sessions, clock)
    deps = Deps(sessions=sessions, clock=clock, policy=load_policy(settings.policy_file),
                ca_cert=x509.load_pem_x509_certificate(ca_path.read_bytes()), signers=signers,
                decisions=decisions_from(settings))
    system_nid = settings.system_national_id or system_national_id(sessions, clock.now())
    if system_nid and system_nid in signers:
        deps.engine_signer = signers.get(system_nid)
    if settings.integrations == "stub":
        _attach_stubs(deps, engine, clock)
    elif settings.integrations == "http":
        _attach_http(deps, engine, clock, settings)
    deps.orchestrator = orchestrator_for(deps, settings)
    scenario = getattr(deps.decisions, "scenario", None)
    if scenario is not None and scenario.contract is not None:
        from pilot.contract_world import inputs_from_scenario

        deps.contract_inputs = lambda tender_id: inputs_from_scenario(scenario)
    return deps


@contextmanager
def scope(database_url: str | None = None) -> Iterator[Deps]:
    """Enter the production container unless the caller already entered one (a rehearsal, a test)."""
    existing = active()
    if existing is not None:
        yield existing
        return
    deps = production(database_url=database_url)
    with use(deps):
        yield deps


def _attach_stubs(deps: Deps, engine, clock: Clock) -> None:
    from integrations.stubs.announcement import AnnouncementPortalStub
    from integrations.stubs.contractor_registry import ContractorRegistryStub
    from integrations.stubs.financial import FinancialSystemStub
    from integrations.stubs.notifications import SmsOutboxStub
    from integrations.stubs.project_control import ProjectControlStub
    from integrations.stubs.transparency import TransparencyPublisherStub
    from services.transactions_view import StoreTransactionsSystem
    from store.stub_tables import create_stub_tables

    create_stub_tables(engine)
    transactions = StoreTransactionsSystem(deps.sessions)
    deps.portal = AnnouncementPortalStub(engine, clock)
    deps.notifier = SmsOutboxStub(engine, clock)
    deps.contractors = ContractorRegistryStub(engine, clock)
    deps.financial = FinancialSystemStub(engine, transactions, clock, registrations=transactions)  # R28 in full
    deps.project_control = ProjectControlStub(engine, transactions, clock)
    deps.publisher = TransparencyPublisherStub(engine, clock, publication_cutoff=deps.policy.publication.cutoff,
                                               publisher_name=deps.policy.publication.publisher)


def _attach_http(deps: Deps, engine, clock: Clock, settings: Settings) -> None:
    """The financial, project-control and transparency systems as their own services over HTTP
    (`eproc stub serve ...`, integrations/http) at EPROC_FINANCIAL_URL, EPROC_PROJECT_CONTROL_URL and
    EPROC_TRANSPARENCY_URL; the announcement portal and the SMS outbox stay the in-process stubs.

    Raises: INVALID_INPUT when one of the three URLs is not set."""
    from integrations.http.financial import HttpFinancialSystem
    from integrations.http.project_control import HttpProjectControlSystem
    from integrations.http.transparency import HttpTransparencyPublisher
    from integrations.stubs.announcement import AnnouncementPortalStub
    from integrations.stubs.contractor_registry import ContractorRegistryStub
    from integrations.stubs.notifications import SmsOutboxStub
    from store.stub_tables import create_stub_tables

    missing = [name for name, url in (("EPROC_FINANCIAL_URL", settings.financial_url),
                                      ("EPROC_PROJECT_CONTROL_URL", settings.project_control_url),
                                      ("EPROC_TRANSPARENCY_URL", settings.transparency_url)) if not url]
    if missing:
        raise DomainError(Reason.INVALID_INPUT, "با EPROC_INTEGRATIONS=http این نشانی‌ها لازم‌اند: " + "، ".join(missing))
    create_stub_tables(engine)
    deps.portal = AnnouncementPortalStub(engine, clock)
    deps.notifier = SmsOutboxStub(engine, clock)
    deps.contractors = ContractorRegistryStub(engine, clock)  # the registry's stub on the application database
    deps.financial = HttpFinancialSystem(settings.financial_url or "")
    deps.project_control = HttpProjectControlSystem(settings.project_control_url or "")
    deps.publisher = HttpTransparencyPublisher(settings.transparency_url or "")


def orchestrator_for(deps: Deps, settings: Settings) -> Orchestrator | None:
    """Prefect at EPROC_PREFECT_API_URL, else at Prefect's own PREFECT_API_URL; None when neither is
    set (local mode: nothing is scheduled or resumed by the API, flows started in-process poll)."""
    from prefect.settings import PREFECT_API_URL

    url = settings.prefect_api_url or PREFECT_API_URL.value()
    if not url:
        return None
    from eproc.stack.orchestrator import PrefectOrchestrator

    return PrefectOrchestrator(deps, url)


def decisions_from(settings: Settings) -> Decisions:
    """Prefect UI forms, or a scenario's scripted answers (`scripted:PATH`) for rehearsals on the
    stack, whose contract inputs then come from the same scenario.

    Raises: INVALID_INPUT for any other value."""
    mode = settings.decisions
    if mode.startswith("scripted:"):
        from pilot.decisions import ScriptedDecisions
        from pilot.scenario import load_scenario

        return ScriptedDecisions(load_scenario(mode.split(":", 1)[1]))
    if mode != "forms":
        raise DomainError(Reason.INVALID_INPUT, f"EPROC_DECISIONS نامعتبر است: «{mode}» (forms یا scripted:مسیر)")
    from flows.decisions import FormDecisions

    return FormDecisions(timeout=settings.decision_timeout, poll_seconds=settings.decision_poll)


def system_national_id(sessions: sessionmaker, at: datetime) -> str | None:
    """The engine signs as the holder of the transactions-system role on that day."""
    day = to_tehran(at).date()
    with UnitOfWork(sessions) as uow:
        holders = uow.roles.holders(ENGINE_UNIT, day, [ENGINE_ROLE])
        return holders[0].national_id if holders else None


class RegistrySigners(Signers):
    """A person's signer from their newest valid certificate in the registry (token label, key
    label); the token's PIN comes from the settings. Looked up when needed, because certificates
    are issued, renewed and revoked while workers run (R05)."""

    def __init__(self, sessions: sessionmaker, clock: Clock) -> None:
        super().__init__()
        self._sessions, self._clock = sessions, clock

    def _lookup(self, national_id: str) -> Signer | None:
        found = current_certificate(self._sessions, national_id, self._clock.now())
        if found is None:
            return None
        cert = found[0]
        with UnitOfWork(self._sessions) as uow:
            row = uow.certificates.get(cert.serial_number)
            if row is None:
                return None
            return Signer(national_id, row.token_label, row.key_label, cert)

    def get(self, national_id: str) -> Signer:
        return self._lookup(national_id) or super().get(national_id)

    def __contains__(self, national_id: str) -> bool:
        return self._lookup(national_id) is not None or super().__contains__(national_id)
