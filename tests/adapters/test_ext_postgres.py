"""The stubs' tables and the at-most-once payment rule on PostgreSQL (scripts/test.sh sets the URL)."""
from __future__ import annotations

import os
import uuid

import pytest
from ext_factories import Rendezvous, pay_concurrently
from sqlalchemy import create_engine, func, select, text

from domain.reasons import Reason
from integrations.stubs.financial import FinancialSystemStub
from store.stub_tables import ExtPayment, create_stub_tables

PG_URL = os.environ.get("EPROC_TEST_PG_URL")

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG_URL, reason="EPROC_TEST_PG_URL not set (run scripts/test.sh)")]


@pytest.fixture
def pg_url():
    # A throwaway database, so these tables never meet the store's migrations.
    name = f"ext_stubs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_r18_concurrent_payments_pay_exactly_once_on_postgres(pg_url, clock):
    engines = [create_engine(pg_url) for _ in range(2)]
    create_stub_tables(engines[0])
    ts = Rendezvous()  # one for both: its barrier holds each request until the other has checked too
    stubs = [FinancialSystemStub(e, ts, clock) for e in engines]
    outcomes = pay_concurrently(stubs)
    assert sorted(isinstance(o, Reason) for o in outcomes) == [False, True]
    assert Reason.DUPLICATE_PAYMENT in outcomes
    with engines[0].connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExtPayment)) == 1
        stored = conn.scalar(select(ExtPayment.paid_at))
    assert stored.utcoffset().total_seconds() == 0
    for e in engines:
        e.dispose()
