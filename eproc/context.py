"""What every command needs: settings, policy, database (migrated), a clock.

The store, the policy and SQLAlchemy are imported when a command first asks for them, not when the
CLI starts: a station's commands (`eproc contract`, `eproc session`, `eproc minutes`, ...) never open
the local database, and importing it cost each of them ~0.4 s."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from domain.clock import Clock, SystemClock

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import sessionmaker

    from config.policy import Policy
    from config.settings import Settings
    from store.uow import UnitOfWork


@dataclass
class AppContext:
    settings: Settings
    clock: Clock

    @cached_property
    def policy(self) -> Policy:
        from config.policy import load_policy

        return load_policy(self.settings.policy_file)

    @cached_property
    def engine(self) -> Engine:
        from store.db import make_engine

        return make_engine(self.settings.resolved_database_url())

    @cached_property
    def sessions(self) -> sessionmaker:
        from store.db import session_factory

        return session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        from store.uow import UnitOfWork

        return UnitOfWork(self.sessions)

    def migrate(self) -> None:
        from store.migrate import upgrade

        upgrade(self.engine)


def app_context() -> AppContext:
    from config.settings import get_settings

    return AppContext(settings=get_settings(), clock=SystemClock())
