"""Shared fixtures. Store tests run on SQLite and on the PostgreSQL cluster scripts/test.sh starts."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from domain.clock import SimulatedClock
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.uow import UnitOfWork

PG_URL = os.environ.get("EPROC_TEST_PG_URL")


def _pg_required() -> None:
    if PG_URL:
        return
    if os.environ.get("CI"):
        pytest.fail("EPROC_TEST_PG_URL is not set: run the suite through scripts/test.sh")
    pytest.skip("PostgreSQL not started: run the suite through scripts/test.sh")


def fresh_database_url(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'eproc-{uuid.uuid4().hex[:8]}.db'}"
    _pg_required()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request) -> str:
    return request.param


@pytest.fixture
def engine(db_kind, tmp_path):
    url = fresh_database_url(db_kind, tmp_path)
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def uow(sessions):
    return lambda: UnitOfWork(sessions)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2021, 7, 11, 6, 30, tzinfo=timezone.utc))
