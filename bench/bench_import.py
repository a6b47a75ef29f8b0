"""Legacy import benchmark (R16): the full import against a raw baseline measured in the same run.

1. `import_contracts` on a generated CSV of N rows (stream, validate, batch, idempotency checks).
2. Baseline: a raw `executemany` of the same prepared rows (already validated) on a fresh database.
3. Peak memory of the import under tracemalloc, next to the file size (streaming keeps it flat).
Runs on SQLite (a temp file).

    .venv/bin/python bench/bench_import.py [--rows 100000] [--no-memory]
"""
from __future__ import annotations

import argparse
import csv
import tempfile
import time
import tracemalloc
from pathlib import Path

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.clock import SystemClock
from services.legacy_import import (CONTRACT_COLUMNS, PROVENANCE_COLUMNS, RowValidator, ValidRow, bulk_insert,
                                    import_contracts, read_rows)
from store.db import make_engine, session_factory
from store.legacy_models import LegacyContract, LegacyImport, ensure_tables
from store.migrate import upgrade
from store.models import Contract, Unit

HEADERS = ["شناسه قرارداد قدیمی", "واحد", "موضوع قرارداد", "شناسه ملی پیمانکار", "کد اقتصادی پیمانکار", "رتبه",
           "مدیرعامل پیمانکار", "امضاکنندگان پیمانکار", "تاریخ قرارداد", "مبلغ قرارداد", "روش انتخاب پیمانکار",
           "ناظر", "امضاکنندگان کارفرما", "اعضای کمیسیون معاملات", "ردیف بودجه", "عامل هزینه", "وضعیت"]
_W = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def national_id(seed: int) -> str:
    body = f"{(seed * 7919 + 10_000_019) % 1_000_000_000:09d}"
    total = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(total if total < 2 else 11 - total)


def company_id(seed: int) -> str:
    body = f"{(seed * 104_729 + 1_000_000_007) % 10_000_000_000:010d}"
    total = sum((int(body[9]) + 2 + int(body[i])) * _W[i] for i in range(10)) % 11
    return body + str(0 if total == 10 else total)


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        for n in range(rows):
            p = [national_id(n % 60 + k) for k in range(8)]
            w.writerow([f"B{n}", f"district-{n % 22 + 1}", f"نگهداری فضای سبز بوستان شمارهٔ {n}", company_id(n % 300),
                        f"4111{n % 300:08d}", str(n % 5 + 1), p[0], f"{p[0]}؛{p[1]}",
                        f"1400/{n % 12 + 1:02d}/{n % 28 + 1:02d}", f"{(n % 40 + 1) * 250_000_000:,}",
                        "مناقصهٔ عمومی", p[2], f"{p[3]}، {p[4]}", f"{p[5]};{p[6]};{p[7]}", "1030201", "EF-07",
                        "نهایی" if n % 3 == 0 else "در جریان"])
    return path


def fresh(tmp: Path, name: str):
    engine = make_engine(f"sqlite:///{tmp / name}")
    upgrade(engine)
    ensure_tables(engine)
    return engine, session_factory(engine)


def run_import(tmp: Path, path: Path, policy, name: str) -> tuple[float, int]:
    engine, sessions = fresh(tmp, name)
    t = time.perf_counter()
    result = import_contracts(path, sessions=sessions, policy=policy, clock=SystemClock())
    elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, result.totals().imported


def run_raw(tmp: Path, path: Path, policy) -> tuple[float, int]:
    """The same rows, validated beforehand, written with executemany in the same 2,000-row transactions."""
    validator = RowValidator(policy)
    prepared = [v for n, row in read_rows(path) if isinstance(v := validator.validate(n, row), ValidRow)]
    engine, sessions = fresh(tmp, "raw.db")
    clock = SystemClock()
    with sessions() as s:
        s.add_all(Unit(id=u.id, code=u.code, name=u.name, kind=u.kind) for u in policy.units)
        s.add(LegacyImport(id=1, file_name=path.name, file_sha256="0" * 64, actor="bench", started_at=clock.now()))
        s.commit()
    t = time.perf_counter()
    for i in range(0, len(prepared), 2_000):
        batch = prepared[i:i + 2_000]
        with sessions() as s:
            bulk_insert(s, Contract.__table__, CONTRACT_COLUMNS, [
                (g.tracking_number, g.code, None, g.unit_id, "general", g.stage, g.threshold_class, g.amount_rial,
                 g.contractor_id, g.budget_line, g.expense_factor, g.concluded_at, g.data_json) for g in batch])
            bulk_insert(s, LegacyContract.__table__, PROVENANCE_COLUMNS, [
                (g.tracking_number, 1, g.unit_id, g.legacy_id, g.row_number, g.row_sha256) for g in batch])
            s.commit()
    elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, len(prepared)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-memory", action="store_true", help="skip the (slower) tracemalloc pass")
    args = parser.parse_args()
    policy = load_policy(BUNDLED_POLICY)
    with tempfile.TemporaryDirectory(prefix="eproc-bench-import-") as d:
        tmp = Path(d)
        path = write_csv(tmp / "legacy.csv", args.rows)
        size = path.stat().st_size
        print(f"legacy import, SQLite, {args.rows:,} rows, file {size / 1e6:.1f} MB")
        t_imp, n_imp = run_import(tmp, path, policy, "import.db")
        t_raw, n_raw = run_raw(tmp, path, policy)
        print(f"  import_contracts      {n_imp / t_imp:>10,.0f} rows/s  ({t_imp:.2f} s, {n_imp:,} contracts)")
        print(f"  raw executemany       {n_raw / t_raw:>10,.0f} rows/s  ({t_raw:.2f} s, same prepared rows)")
        print(f"  ratio import/raw      {t_imp / t_raw:>10.1f} x slower (reading, validation, idempotency checks)")
        if not args.no_memory:
            tracemalloc.start()
            try:
                run_import(tmp, path, policy, "memory.db")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            print(f"  peak memory (tracemalloc) {peak / 1e6:.1f} MB = {peak / size:.2f} x file size")


if __name__ == "__main__":
    main()
