"""What every command needs: settings, policy, database (migrated), a clock."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from config.policy import Policy, load_policy
from config.settings import Settings, get_settings
from domain.clock import Clock, SystemClock
from store.db import make_engine, session_factory
from store.uow import UnitOfWork


@dataclass
class AppContext:
    settings: Settings
    clock: Clock

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.policy_file)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url())

    @cached_property
    def sessions(self) -> sessionmaker:
        return session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def migrate(self) -> None:
        from store.migrate import upgrade

        upgrade(self.engine)


def app_context() -> AppContext:
    return AppContext(settings=get_settings(), clock=SystemClock())
