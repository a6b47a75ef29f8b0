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
# The longest xdist groups (minutes each: the two halves of the stack tests and the contract-to-payment
# test, each on a stack of its own, and the stations ceremony), sent to the workers first so that they do not end the run alone.
FIRST_GROUPS = ("stack-1", "stack-2", "stack-contract", "stations-ceremony")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook of the same name
def pytest_collection_modifyitems(config, items) -> None:
    """In an xdist worker under `--dist loadgroup` (scripts/test.sh): a test in no xdist group joins its
    module's group, so one worker runs the whole module and builds its module- and session-scoped
    worlds once; FIRST_GROUPS are put first (scripts/test.sh keeps the collection order with
    --no-loadscope-reorder), the rest keeping theirs; and each test's node id gets its group as
    `@group`, which is how the scheduler groups tests. pytest-xdist 3.8 writes that suffix to
    `item._nodeid`, which pytest 9 no longer reads (the id is `item._id`): without this, every group
    was ignored and each test was sent alone (two stacks, two ceremonies, two district-12 rehearsals)."""
    if not getattr(config.option, "loadgroup", False):
        return

    def group(item) -> str:
        return str(item.get_closest_marker("xdist_group").args[0])

    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    items.sort(key=lambda item: FIRST_GROUPS.index(group(item)) if group(item) in FIRST_GROUPS
               else len(FIRST_GROUPS))
    if hasattr(items[0] if items else None, "_id"):  # pytest >= 9; before, xdist's `_nodeid` works
        from _pytest.nodeid import coerce_node_id

        for item in items:
            item._id = coerce_node_id(f"{item.nodeid}@{group(item)}")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One temporary Prefect API per test process (an xdist worker) for every in-process flow that needs
    one (tests/e2e/tender, tests/integration/contracts, the monthly report flow); yields its URL. Each
    such server costs ~8 s of CPU to start: modules used to start their own."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.settings import PREFECT_API_URL

    from tests.prefect_harness import prefect_harness

    with prefect_harness():
        yield PREFECT_API_URL.value()


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
