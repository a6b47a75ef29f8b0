from __future__ import annotations

from datetime import datetime, timezone

import pytest
from ext_factories import make_contract, make_statement
from sqlalchemy import Engine

from domain.clock import SimulatedClock
from integrations.transactions_api import InMemoryTransactionsSystem
from store.stub_tables import create_stub_tables, sqlite_engine


@pytest.fixture
def engine(tmp_path) -> Engine:
    eng = sqlite_engine(tmp_path / "ext.sqlite")
    create_stub_tables(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2021, 9, 1, 6, 30, tzinfo=timezone.utc))


@pytest.fixture
def transactions() -> InMemoryTransactionsSystem:
    ts = InMemoryTransactionsSystem()
    ts.put_contract(make_contract())
    ts.put_statement(make_statement())
    return ts
