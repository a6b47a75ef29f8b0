"""Payment gate and OCDS export, each against a baseline measured in the same run.

1. The payment gate's decision on a database of N contracts (contract by code through the store,
   statement, stage and duplicate checks; a refusal is recorded as the financial system must) vs a
   raw indexed SELECT of the same contract. SQLite, and PostgreSQL when EPROC_TEST_PG_URL is set.
2. The OCDS export of M contracts streamed to a file vs building the whole package in memory and
   dumping it at once: time and peak memory (tracemalloc).

    .venv/bin/python bench/bench_payment_ocds.py [--contracts 1000000] [--ocds 100000]
"""
from __future__ import annotations

import hashlib
import json
import random
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from benchkit import database_kinds, fresh_database_url, int_options, prepared_engine


def bench_gate(kind: str, n: int, decisions: int, tmp: Path) -> None:
    from domain.clock import SystemClock
    from domain.contract.payment import payment_key
    from domain.reasons import DomainError
    from integrations.financial import PaymentRequest
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem
    from store.db import session_factory
    from store.uow import UnitOfWork

    eng = prepared_engine(fresh_database_url(kind, tmp, "gate", "EPROC_TEST_PG_URL"))
    sessions = session_factory(eng)
    batch = 50_000
    for start in range(0, n, batch):
        with UnitOfWork(sessions) as uow:
            uow.contracts.add_many([{"tracking_number": f"T{i:09d}", "code": f"12-1400-{i:09d}",
                                     "unit_id": "district-12", "kind": "works",
                                     "stage": "final" if i % 3 else "treasurer", "amount_rial": 1_000_000 + i,
                                     "contractor_id": "50752917036", "budget_line": "BL", "expense_factor": "EF",
                                     "data_json": "{}"} for i in range(start, min(n, start + batch))])
            uow.commit()
    if kind == "postgresql":
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE contracts"))
    stub = FinancialSystemStub(eng, StoreTransactionsSystem(sessions), SystemClock())
    picks = [random.randrange(n) for _ in range(decisions)]
    t0 = time.perf_counter()
    refused = 0
    for i in picks:
        code = f"12-1400-{i:09d}"
        try:
            stub.pay(PaymentRequest(payment_key=payment_key(code, "s1"), contract_code=code,
                                    statement_id=f"T{i:09d}/s1", budget_line="BL", expense_factor="EF",
                                    amount_rial=1))
        except DomainError:
            refused += 1  # no statement was ever approved, or the contract is not final: refused
    ours = (time.perf_counter() - t0) / decisions
    assert refused == decisions
    t0 = time.perf_counter()
    with eng.connect() as c:
        for i in picks:
            c.execute(text("SELECT stage, code FROM contracts WHERE code = :c"), {"c": f"12-1400-{i:09d}"}).first()
    raw = (time.perf_counter() - t0) / decisions
    eng.dispose()
    print(f"{f'payment gate decision, {n:,} contracts [{kind}] (ms)':58} {ours * 1e3:10.3f} {raw * 1e3:10.3f} "
          f"{ours / raw:7.1f}")


def _contract_data(i: int) -> dict:
    doc = f"contract {i}".encode()
    return {
        "contract_code": f"12-1400-{i:06d}", "title": f"قرارداد شمارهٔ {i}", "unit": "district-12",
        "unit_name": "شهرداری منطقهٔ ۱۲", "threshold_class": "medium", "selection_method": "tender",
        "date_signed": datetime(2021, 7, 20, 7, 0, tzinfo=timezone.utc), "amount_rial": 1_000_000_000 + i,
        "budget_line": "BL-201-05", "expense_factor": "EF-12-03",
        "contractor": {"national_id": "50752917036", "name": "شرکت راه‌سازان البرز", "economic_code": "411111111111",
                       "grade": 2, "ceo_name": "مریم احمدی", "signatories": ["مریم احمدی"]},
        "employer_signatories": [{"name": "حسن موسوی", "role": "شهردار منطقه"}],
        "commission_members": [{"name": "حسن موسوی", "role": "chair"}],
        "supervisor": {"id": "SUP-17", "name": "مهندسین مشاور پارس"},
        "documents": [{"title": "متن قرارداد", "url": f"https://shafaf.tehran.ir/docs/{i}.pdf",
                       "sha256": hashlib.sha256(doc).hexdigest(), "format": "application/pdf"}],
    }


def bench_ocds(count: int, tmp: Path) -> None:
    from integrations.ocds import release_for_contract, release_package, write_package

    now = datetime(2021, 9, 1, tzinfo=timezone.utc)
    tracemalloc.start()
    t0 = time.perf_counter()
    with (tmp / "stream.json").open("w", encoding="utf-8") as out:
        write_package(out, (release_for_contract(_contract_data(i)) for i in range(count)), now, "شهرداری تهران",
                      validate=False)
    stream_s = time.perf_counter() - t0
    stream_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    package = release_package([release_for_contract(_contract_data(i)) for i in range(count)], now, "شهرداری تهران")
    (tmp / "whole.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    whole_s = time.perf_counter() - t0
    whole_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = (tmp / "stream.json").stat().st_size
    print(f"{f'OCDS export, {count:,} contracts, {size / 2**20:.0f} MB file (s)':58} {stream_s:10.2f} {whole_s:10.2f} "
          f"{stream_s / whole_s:7.2f}")
    print(f"{'  peak memory streamed vs whole package in memory (MB)':58} {stream_peak / 2**20:10.1f} "
          f"{whole_peak / 2**20:10.1f} {stream_peak / whole_peak:7.3f}")


def main() -> None:
    args = int_options(contracts=1_000_000, decisions=2_000, ocds=100_000)
    print(f"{'benchmark':58} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in database_kinds("EPROC_TEST_PG_URL"):
            bench_gate(kind, args.contracts, args.decisions, tmp)
        bench_ocds(args.ocds, tmp)


if __name__ == "__main__":
    main()
