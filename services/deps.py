"""The one dependency container of the application steps, and the scope that makes it current.

Everything a service step needs beyond its ids lives in one typed `Deps`, built in exactly one
place per kind of process: `eproc.wiring.production()` for workers, API and CLI, `pilot.world`
for rehearsals, fixtures in tests. Prefect flows take only ids as parameters, so the process
that starts a flow enters the container with `use(deps)` and flows and tasks read it with
`current()`. The container is held in a `ContextVar`, so two rehearsals in one process (or two
threads) never see each other's world, and leaving the scope restores the previous one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from sqlalchemy.orm import sessionmaker

from config.policy import Policy
from domain.clock import Clock
from domain.reasons import DomainError, Reason
from services.ports import Decisions, Orchestrator
from services.signers import RoleCheck, Signer, Signers, role_checker
from store.uow import UnitOfWork

if TYPE_CHECKING:
    from integrations.announcement import AnnouncementPortal
    from integrations.contractor_registry import ContractorRegistry
    from integrations.financial import FinancialSystem
    from integrations.notifications import Notifier
    from integrations.project_control import ProjectControlSystem
    from integrations.transparency import TransparencyPublisher
    from services.contract.inputs import ContractInputs


@dataclass
class Deps:
    """Store, clock, policy, trust anchor, signers, outside systems and human decisions.

    `contract_inputs(tender_id)` gives the terms, status statements and payment orders of a
    tender's contract (scenario files in rehearsals); None where nothing supplies them yet."""

    sessions: sessionmaker
    clock: Clock
    policy: Policy
    ca_cert: x509.Certificate
    signers: Signers
    engine_signer: Signer | None = None
    portal: AnnouncementPortal | None = None
    notifier: Notifier | None = None
    contacts: dict[str, str] = field(default_factory=dict)  # recipient id -> mobile (rehearsals' people)
    contractors: ContractorRegistry | None = None  # companies, contacts, the blacklist (R25, R26)
    decisions: Decisions | None = None
    contract_inputs: Callable[[str], ContractInputs] | None = None
    financial: FinancialSystem | None = None
    project_control: ProjectControlSystem | None = None
    publisher: TransparencyPublisher | None = None
    orchestrator: Orchestrator | None = None  # Prefect in production (eproc.wiring); None in rehearsals

    def uow(self) -> UnitOfWork:
        """A new unit of work on the application database."""
        return UnitOfWork(self.sessions)

    @property
    def role_check(self) -> RoleCheck:
        """The registry's answer to "does this person hold this role in this unit at this time"."""
        return role_checker(self.sessions)

    def engine(self) -> Signer:
        """The transactions system's own signer (receipts, checkpoints).

        Raises: TOKEN_NOT_FOUND when no valid certificate of the transactions-system role exists."""
        if self.engine_signer is None:
            raise DomainError(Reason.TOKEN_NOT_FOUND, "امضاکنندهٔ سامانهٔ معاملات تعیین نشده است")
        return self.engine_signer

    def human(self) -> Decisions:
        """Where operators' decisions come from (Prefect UI forms, or a rehearsal's script).

        Raises: INVALID_INPUT when the process was wired without a decisions source."""
        if self.decisions is None:
            raise DomainError(Reason.INVALID_INPUT, "منبع تصمیم‌های کاربران برای این فرایند تنظیم نشده است")
        return self.decisions


_active: ContextVar[Deps | None] = ContextVar("eproc_deps", default=None)


@contextmanager
def use(deps: Deps) -> Iterator[Deps]:
    """Make `deps` the current container for the block (flows and tasks started in it see it)."""
    token = _active.set(deps)
    try:
        yield deps
    finally:
        _active.reset(token)


def active() -> Deps | None:
    """The current container, or None outside any `use()` block."""
    return _active.get()


def current() -> Deps:
    """The current container.

    Raises: INVALID_INPUT outside a `use()` block (a flow started without its process's wiring)."""
    deps = _active.get()
    if deps is None:
        raise DomainError(Reason.INVALID_INPUT, "وابستگی‌های فرایند تنظیم نشده است (eproc.wiring)")
    return deps
