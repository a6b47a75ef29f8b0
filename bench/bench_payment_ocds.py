"""Payment gate and OCDS export, each against a baseline measured in the same run.

1. The payment gate's decision on a database of N contracts (contract and its registration by code
   through the store, statement, stage and duplicate checks, R28/R29 payment data; a refusal is
   recorded as the financial system must) vs the raw floor: an indexed SELECT of the same contract and
   an INSERT of the refusal in one transaction. SQLite, and PostgreSQL when EPROC_TEST_PG_URL is set.
2. The OCDS export of M contracts streamed to a file vs building the whole package in memory and
   dumping it at once: time and peak memory (tracemalloc).

    .venv/bin/python bench/bench_payment_ocds.py [--contracts 1000000] [--decisions 2000] [--ocds 100000]
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from benchkit import database_kinds, fresh_database_url, int_options, prepared_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# What services/transactions_view.py replaced, the answers its prebuilt reads must give (one copy, in the test).
from tests.integration.contracts.test_r29_gate_reads_store import (  # noqa: E402
    UnitOfWorkReference,
    driver_requests,
)


def bench_gate(kind: str, n: int, decisions: int, tmp: Path) -> None:
    """The financial system's payment gate (FinancialSystemStub.pay, reading contracts, registrations
    and statements from the store: R13, R18, R20, R28, R29) refusing `decisions` payments on a database
    of `n` contracts (2 in 3 final with a complete registration and no approved statement, 1 in 3 at
    `treasurer`), each refusal recorded; vs the raw floor of the same decision: one indexed SELECT of
    the contract and one INSERT of the refusal in one transaction, on the same database. The gate's
    read is one prebuilt statement (contract, registration, statement) on the stub's one connection, in
    the decision's one transaction with its refusal, whose INSERT checks that nothing was paid under
    its key or for its statement; the CPU line is this process's CPU per decision; requests to the
    database are counted by the driver; the last row is the same gate over the unit-of-work reads it replaced."""
    from domain.clock import SystemClock
    from domain.contract.payment import payment_key
    from domain.reasons import DomainError
    from integrations.financial import PaymentRequest
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem
    from store.contract_registries import registries
    from store.db import session_factory
    from store.uow import UnitOfWork

    eng = prepared_engine(fresh_database_url(kind, tmp, "gate", "EPROC_TEST_PG_URL"))
    sessions = session_factory(eng)
    data = json.dumps({"fields": {"budget_allocation_code": "TA-1400-12-0001"}})
    t_setup = time.perf_counter()
    batch = 50_000
    for start in range(0, n, batch):
        with UnitOfWork(sessions) as uow:
            uow.contracts.add_many([{"tracking_number": f"T{i:09d}", "code": f"12-1400-{i:09d}",
                                     "unit_id": "district-12", "kind": "works",
                                     "stage": "final" if i % 3 else "treasurer", "amount_rial": 1_000_000 + i,
                                     "contractor_id": "50752917036", "budget_line": "BL", "expense_factor": "EF",
                                     "data_json": data} for i in range(start, min(n, start + batch))])
            uow.commit()
    with UnitOfWork(sessions) as uow:
        now = datetime.now(timezone.utc)
        kept = registries(uow)
        kept.add_budget_line("district-12", "BL", "G-BL", "bench", now)
        kept.add_expense_factor("EF", "bench", now).approved_at = now
        uow.commit()
    if kind == "postgresql":
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE contracts"))
    setup_s = time.perf_counter() - t_setup
    picks = [random.randrange(n) for _ in range(decisions)]

    def gate(transactions):  # noqa: ANN001, ANN202
        stub = FinancialSystemStub(eng, transactions, SystemClock(), registrations=transactions)

        def run(chosen: list[int]) -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            refused = 0
            for i in chosen:
                code = f"12-1400-{i:09d}"
                try:
                    stub.pay(PaymentRequest(payment_key=payment_key(code, "s1"), contract_code=code,
                                            statement_id=f"T{i:09d}/s1", budget_line="BL", expense_factor="EF",
                                            amount_rial=1, budget_allocation_code="TA-1400-12-0001"))
                except DomainError:
                    refused += 1  # no statement was ever approved, or the contract is not final: refused
            assert refused == len(chosen)
            return time.perf_counter() - t0, time.process_time() - c0
        return run

    select_contract = text("SELECT stage, code FROM contracts WHERE code = :c")
    insert_refusal = text("INSERT INTO ext_fin_refusals (kind, request_key, contract_code, statement_id, amount_rial, "
                          "reason, detail, attempted_at) VALUES ('payment', :k, :c, :s, 1, 'CONTRACT_NOT_FINAL', '', "
                          ":at)")

    def raw(chosen: list[int]) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in chosen:
            code = f"12-1400-{i:09d}"
            with eng.begin() as c:
                c.execute(select_contract, {"c": code}).first()
                c.execute(insert_refusal, {"k": payment_key(code, "s1"), "c": code, "s": f"T{i:09d}/s1",
                                           "at": datetime.now(timezone.utc)})
        return time.perf_counter() - t0, time.process_time() - c0

    def round_trips(run, chosen: list[int]) -> float:  # noqa: ANN001
        """Requests to the database per decision, counted by the driver whatever sends them: on
        PostgreSQL libpq's trace (one ReadyForQuery per request: the pool's ping, BEGIN, each statement,
        COMMIT), on SQLite each statement sqlite3 runs (BEGIN IMMEDIATE, each statement, COMMIT)."""
        return driver_requests(eng, lambda: run(chosen), unprepared=False) / len(chosen)

    store_reader, before = StoreTransactionsSystem(sessions), UnitOfWorkReference(sessions)
    for i in picks[:50] + [n + 1]:  # the prebuilt reads give the unit of work's answers
        assert store_reader.contract_by_code(f"12-1400-{i:09d}") == before.contract_by_code(f"12-1400-{i:09d}")
        assert store_reader.registration(f"12-1400-{i:09d}") == before.registration(f"12-1400-{i:09d}")
        assert store_reader.statement(f"T{i:09d}/s1") == before.statement(f"T{i:09d}/s1")
    # On a shared machine the load drifts over minutes: the gate, the raw floor and the gate over the
    # unit-of-work reads (a quarter of the picks: it is slow) take turns on the same picks in short
    # rounds, after a warm-up of each (pools, prepared statements), so each figure sees the same load.
    ours_run, before_run = gate(store_reader), gate(before)
    warm = [random.randrange(n) for _ in range(100)]
    ours_run(warm), raw(warm), before_run(warm[:25])
    trips = round_trips(ours_run, warm), round_trips(raw, warm)
    rounds = 20
    ours_s = raw_s = before_s = ours_cpu = raw_cpu = 0.0
    before_n = 0
    load = os.getloadavg()[0]
    for k in range(rounds):
        chunk = picks[k::rounds]
        wall, cpu = ours_run(chunk)
        ours_s, ours_cpu = ours_s + wall, ours_cpu + cpu
        wall, cpu = raw(chunk)
        raw_s, raw_cpu = raw_s + wall, raw_cpu + cpu
        before_s += before_run(chunk[: max(1, len(chunk) // 4)])[0]
        before_n += max(1, len(chunk) // 4)
    load = (load + os.getloadavg()[0]) / 2
    ours, floor, over_unit_of_work = ours_s / decisions, raw_s / decisions, before_s / before_n
    eng.dispose()
    print(f"{f'payment gate decision, {n:,} contracts [{kind}] (ms)':58} {ours * 1e3:10.3f} {floor * 1e3:10.3f} "
          f"{ours / floor:7.1f}   (setup {setup_s:.0f} s, load {load:.1f})")
    print(f"{'  its CPU in this process per decision (ms)':58} {ours_cpu / decisions * 1e3:10.3f} "
          f"{raw_cpu / decisions * 1e3:10.3f} {ours_cpu / raw_cpu:7.1f}")
    print(f"{'  requests to the database per decision':58} {trips[0]:10.2f} {trips[1]:10.2f} {trips[0] / trips[1]:7.1f}")
    print(f"{'  the same gate over unit-of-work reads (before) (ms)':58} {over_unit_of_work * 1e3:10.3f} "
          f"{floor * 1e3:10.3f} {over_unit_of_work / floor:7.1f}")


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
        if args.ocds:
            bench_ocds(args.ocds, tmp)


if __name__ == "__main__":
    main()
