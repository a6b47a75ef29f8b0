"""The process's dependencies for flows: set by the pilot or tests, else built from settings.

Flows take only JSON-able parameters (ids), so a worker on another machine can run them; what
they need beyond that comes from here."""
from __future__ import annotations

from typing import Any

_current: Any = None


def set_current(deps: Any) -> None:
    global _current
    _current = deps


def current() -> Any:
    if _current is None:
        set_current(from_settings())
    return _current


def from_settings() -> Any:
    """Production wiring: database and CA from settings, the system clock, stubs as configured."""
    from cryptography import x509

    from config.policy import load_policy
    from config.settings import get_settings
    from domain.clock import SystemClock
    from services.signers import Signer, Signers, current_certificate
    from services.tender import Deps
    from store.db import make_engine, session_factory

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    sessions = session_factory(engine)
    ca_cert = x509.load_pem_x509_certificate((settings.data_dir / "ca" / "ca-cert.pem").read_bytes())
    clock = SystemClock()
    signers = Signers()
    deps = Deps(sessions=sessions, clock=clock, policy=load_policy(settings.policy_file), ca_cert=ca_cert,
                signers=signers, engine_signer=None)  # type: ignore[arg-type]
    system_nid = settings.model_extra.get("system_national_id") if settings.model_extra else None
    if system_nid:
        found = current_certificate(sessions, system_nid, clock.now())
        if found:
            deps.engine_signer = Signer(system_nid, f"p{system_nid}", "sign", found[0])
    return deps


_decisions: Any = None


def set_decisions(decisions: Any) -> None:
    global _decisions
    _decisions = decisions


def decisions() -> Any:
    """Scripted in pilots and tests; Prefect UI forms otherwise."""
    global _decisions
    if _decisions is None:
        from flows.decisions import FormDecisions

        _decisions = FormDecisions()
    return _decisions
