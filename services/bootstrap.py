"""The process's dependencies for flows: set by the pilot or tests, else built from settings.

Flows take only JSON-able parameters (ids), so a worker on another machine can run them; what
they need beyond that comes from here. A worker finds its world through its environment:

- EPROC_DATABASE_URL (or EPROC_DATA_DIR's SQLite file): the application database;
- EPROC_DATA_DIR/ca/ca-cert.pem: the municipal CA's certificate (trust anchor);
- SOFTHSM2_CONF / EPROC_PKCS11_MODULE: the tokens; EPROC_TOKEN_PIN_<LABEL> or EPROC_TOKEN_PIN: PINs;
- EPROC_SYSTEM_NATIONAL_ID: the engine's own signer (default: whoever holds the
  `transactions_system` role with a valid certificate);
- EPROC_INTEGRATIONS: `stub` (default: the rule-enforcing stubs on the application database) or `none`;
- EPROC_DECISIONS: `forms` (default: Prefect UI forms) or `scripted:/path/scenario.toml`;
  EPROC_DECISION_TIMEOUT: seconds a paused run waits for an operator (default 3600)."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from services.signers import Signer, Signers, current_certificate

_current: Any = None

SYSTEM_ROLE = "transactions_system"
SYSTEM_UNIT = "municipality"


def set_current(deps: Any) -> None:
    global _current
    _current = deps


def current() -> Any:
    if _current is None:
        set_current(from_settings())
    return _current


def from_settings() -> Any:
    """Production wiring: database and CA from settings, the system clock, tokens from the
    certificate registry, stubs as configured."""
    from cryptography import x509

    from config.policy import load_policy
    from config.settings import get_settings
    from domain.clock import SystemClock
    from domain.reasons import DomainError, Reason
    from services.tender import Deps
    from store.db import make_engine, session_factory

    settings = get_settings()
    engine = make_engine(os.environ.get("EPROC_DATABASE_URL") or settings.resolved_database_url())
    sessions = session_factory(engine)
    ca_path = settings.data_dir / "ca" / "ca-cert.pem"
    if not ca_path.exists():
        raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع صدور گواهی یافت نشد: {ca_path}")
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    clock = SystemClock()
    signers = RegistrySigners(sessions, clock)
    deps = Deps(sessions=sessions, clock=clock, policy=load_policy(settings.policy_file), ca_cert=ca_cert,
                signers=signers, engine_signer=None)  # type: ignore[arg-type]
    system_nid = os.environ.get("EPROC_SYSTEM_NATIONAL_ID") or system_national_id(sessions, clock.now())
    if system_nid and system_nid in signers:
        deps.engine_signer = signers.get(system_nid)
    if os.environ.get("EPROC_INTEGRATIONS", "stub") == "stub":
        from integrations.stubs.announcement import AnnouncementPortalStub
        from integrations.stubs.notifications import SmsOutboxStub
        from integrations.stubs.tables import create_stub_tables

        create_stub_tables(engine)
        deps.portal = AnnouncementPortalStub(engine, clock)
        deps.notifier = SmsOutboxStub(engine, clock)
    return deps


def system_national_id(sessions, at: datetime) -> str | None:
    """The engine signs as the holder of the transactions-system role on that day."""
    from sqlalchemy import select

    from domain.persian import to_tehran
    from store.models import RoleAssignment
    from store.uow import UnitOfWork

    day = to_tehran(at).date()
    with UnitOfWork(sessions) as uow:
        rows = uow.session.scalars(select(RoleAssignment).where(RoleAssignment.role == SYSTEM_ROLE,
                                                                RoleAssignment.unit_id == SYSTEM_UNIT)).all()
        for r in rows:
            if r.valid_from <= day and (r.valid_until is None or day < r.valid_until):
                return r.national_id
    return None


class RegistrySigners(Signers):
    """A person's signer from their newest valid certificate in the registry (token label, key
    label); the token's PIN comes from the environment. Looked up when needed, because
    certificates are issued, renewed and revoked while workers run (R05)."""

    def __init__(self, sessions, clock) -> None:
        super().__init__()
        self._sessions, self._clock = sessions, clock

    def _lookup(self, national_id: str) -> Signer | None:
        from store.models import CertificateRow
        from store.uow import UnitOfWork

        found = current_certificate(self._sessions, national_id, self._clock.now())
        if found is None:
            return None
        cert = found[0]
        with UnitOfWork(self._sessions) as uow:
            row = uow.session.get(CertificateRow, str(cert.serial_number))
            return Signer(national_id, row.token_label, row.key_label, cert)

    def get(self, national_id: str) -> Signer:
        return self._lookup(national_id) or super().get(national_id)

    def __contains__(self, national_id: str) -> bool:
        return self._lookup(national_id) is not None or super().__contains__(national_id)


_decisions: Any = None


def set_decisions(decisions: Any) -> None:
    global _decisions
    _decisions = decisions


def decisions() -> Any:
    """Scripted in pilots and tests; Prefect UI forms otherwise."""
    global _decisions
    if _decisions is None:
        _decisions = decisions_from_settings()
    return _decisions


def decisions_from_settings() -> Any:
    from domain.reasons import DomainError, Reason

    mode = os.environ.get("EPROC_DECISIONS", "forms")
    if mode.startswith("scripted:"):
        from pilot.decisions import ScriptedDecisions
        from pilot.scenario import load_scenario

        return ScriptedDecisions(load_scenario(mode.split(":", 1)[1]))
    if mode != "forms":
        raise DomainError(Reason.INVALID_INPUT, f"EPROC_DECISIONS نامعتبر است: «{mode}» (forms یا scripted:مسیر)")
    from flows.decisions import FormDecisions

    return FormDecisions(timeout=int(os.environ.get("EPROC_DECISION_TIMEOUT", "3600")))
