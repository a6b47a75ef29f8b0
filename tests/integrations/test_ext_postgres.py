"""The stubs' tables and the at-most-once payment rule on PostgreSQL (scripts/test.sh sets the URL)."""
from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from domain.reasons import DomainError, Reason
from ext_factories import make_contract, make_statement
from integrations.financial import PaymentRequest
from integrations.stubs.financial import FinancialSystemStub
from integrations.stubs.tables import ExtPayment, create_stub_tables
from integrations.transactions_api import InMemoryTransactionsSystem, StatementInfo

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


class _Rendezvous(InMemoryTransactionsSystem):
    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self._barrier = barrier

    def statement(self, statement_id: str) -> StatementInfo | None:
        found = super().statement(statement_id)
        self._barrier.wait(timeout=10)
        return found


def test_r18_concurrent_payments_pay_exactly_once_on_postgres(pg_url, clock):
    engines = [create_engine(pg_url) for _ in range(2)]
    create_stub_tables(engines[0])
    ts = _Rendezvous(threading.Barrier(2))
    ts.put_contract(make_contract())
    ts.put_statement(make_statement())
    stubs = [FinancialSystemStub(e, ts, clock) for e in engines]
    outcomes: list[object] = [None, None]

    def attempt(i: int) -> None:
        req = PaymentRequest(f"p{i}", "C-1400-0001", "s1", "BL-201-05", "EF-12-03", make_statement().payable_rial)
        try:
            outcomes[i] = stubs[i].pay(req)
        except DomainError as err:
            outcomes[i] = err.reason

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(isinstance(o, Reason) for o in outcomes) == [False, True]
    assert Reason.DUPLICATE_PAYMENT in outcomes
    with engines[0].connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExtPayment)) == 1
        stored = conn.scalar(select(ExtPayment.paid_at))
    assert stored.utcoffset().total_seconds() == 0
    for e in engines:
        e.dispose()
