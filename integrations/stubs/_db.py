"""Session plumbing shared by the stubs."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.clock import Clock
from integrations.transactions_api import TransactionsSystem


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Rows are turned into frozen dataclasses before the session closes; no lazy loads after.
    return sessionmaker(engine, expire_on_commit=False)


class StubSystem:
    """What every stub holds: sessions on its own `ext_` tables and the clock it stamps rows with."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._sessions = session_factory(engine)
        self._clock = clock


class TransactionsReadingStub(StubSystem):
    """A stub that trusts no caller and fetches contracts and statements from the transactions system."""

    def __init__(self, engine: Engine, transactions: TransactionsSystem, clock: Clock) -> None:
        super().__init__(engine, clock)
        self._transactions = transactions


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict, set, bytes)):
        return len(value) == 0
    return False


def canonical_json(value: Any) -> str:
    """Stable text for hashing and storage: sorted keys, no whitespace, Persian kept readable."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def inserted(session: Session, row: object) -> bool:
    """Add `row` and commit: True, or False (rolled back) when a unique constraint refused it."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
