"""Store benchmark: the repository path against a raw baseline measured in the same run.

1. Insert N contracts through ContractRepository + unit of work vs a raw `executemany` of the
   same rows on the same database.
2. Look one contract up by its code in a table of M contracts through the repository vs a raw
   indexed SELECT.
Runs on SQLite (a temp file) and, when EPROC_BENCH_PG_URL or EPROC_TEST_PG_URL is set, PostgreSQL.

    .venv/bin/python bench/bench_store.py [--insert 100000] [--lookup-table 1000000]
"""
from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

from benchkit import database_kinds, fresh_database_url, int_options, prepared_engine
from store import models as m
from store.db import session_factory
from store.uow import UnitOfWork


def _rows(n: int, start: int = 0):
    for i in range(start, start + n):
        yield {"tracking_number": f"T{i:09d}", "code": f"12-1400-{i:09d}", "unit_id": "district-12",
               "kind": "works", "stage": "final", "amount_rial": 1_000_000 + i, "contractor_id": "50752917036",
               "data_json": "{}"}


def _fresh_engine(kind: str, tmp: Path):
    return prepared_engine(fresh_database_url(kind, tmp, "bench", "EPROC_BENCH_PG_URL", "EPROC_TEST_PG_URL"))


def bench_insert(kind: str, n: int, tmp: Path) -> tuple[float, float, float]:
    eng = _fresh_engine(kind, tmp)
    sessions = session_factory(eng)
    t0 = time.perf_counter()
    batch = 5000
    rows = list(_rows(n))
    for i in range(0, n, batch):
        with UnitOfWork(sessions) as uow:
            for r in rows[i:i + batch]:
                uow.contracts.add(m.Contract(**r))
            uow.commit()
    ours = time.perf_counter() - t0
    eng3 = _fresh_engine(kind, tmp)
    sessions3 = session_factory(eng3)
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        with UnitOfWork(sessions3) as uow:
            uow.contracts.add_many(rows[i:i + batch])
            uow.commit()
    bulk = time.perf_counter() - t0
    eng3.dispose()
    eng2 = _fresh_engine(kind, tmp)
    t0 = time.perf_counter()
    raw_rows = list(_rows(n))
    with eng2.begin() as c:
        for i in range(0, n, batch):
            c.execute(insert(m.Contract), raw_rows[i:i + batch])
    raw = time.perf_counter() - t0
    eng.dispose(), eng2.dispose()
    return ours, bulk, raw


def bench_lookup(kind: str, table_size: int, lookups: int, tmp: Path) -> tuple[float, float]:
    eng = _fresh_engine(kind, tmp)
    with eng.begin() as c:
        for i in range(0, table_size, 50_000):
            c.execute(insert(m.Contract), list(_rows(min(50_000, table_size - i), i)))
    if kind == "postgresql":
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE contracts"))
    codes = [f"12-1400-{random.randrange(table_size):09d}" for _ in range(lookups)]
    sessions = session_factory(eng)
    t0 = time.perf_counter()
    with UnitOfWork(sessions) as uow:
        for code in codes:
            assert uow.contracts.by_code(code) is not None
    ours = (time.perf_counter() - t0) / lookups
    t0 = time.perf_counter()
    with eng.connect() as c:
        for code in codes:
            assert c.execute(text("SELECT id FROM contracts WHERE code = :c"), {"c": code}).first() is not None
    raw = (time.perf_counter() - t0) / lookups
    eng.dispose()
    return ours, raw


def main() -> None:
    args = int_options(insert=100_000, lookup_table=1_000_000, lookups=2_000)
    kinds = database_kinds("EPROC_BENCH_PG_URL", "EPROC_TEST_PG_URL")
    print(f"{'benchmark':46} {'ours':>12} {'baseline':>12} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in kinds:
            ours, bulk, raw = bench_insert(kind, args.insert, tmp)
            print(f"{f'insert {args.insert:,} contracts, add() [{kind}] (s)':46} {ours:12.2f} {raw:12.2f} {ours / raw:7.2f}")
            print(f"{f'insert {args.insert:,} contracts, add_many() [{kind}] (s)':46} {bulk:12.2f} {raw:12.2f} "
                  f"{bulk / raw:7.2f}")
            ours, raw = bench_lookup(kind, args.lookup_table, args.lookups, tmp)
            print(f"{f'lookup by code in {args.lookup_table:,} [{kind}] (µs)':46} {ours * 1e6:12.1f} "
                  f"{raw * 1e6:12.1f} {ours / raw:7.2f}")


if __name__ == "__main__":
    main()
