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
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.clock import SystemClock
from services.legacy import RowValidator, ValidRow, import_contracts, read_rows
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.uow import UnitOfWork

# The legacy export's headers and valid identifiers: the same generator the R16 tests use.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests/
from tests.integration.legacy.legacy_rows import HEADERS_FA, company_id, national_id  # noqa: E402

HEADERS = [title for key, title in HEADERS_FA.items() if key != "contract_code"]


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
    with UnitOfWork(sessions) as uow:
        for u in policy.units:
            uow.units.add(u.id, u.code, u.name, u.kind)
        import_id = uow.legacy.start_import(path.name, "0" * 64, "bench", clock.now())
        uow.commit()
    t = time.perf_counter()
    for i in range(0, len(prepared), 2_000):
        with UnitOfWork(sessions) as uow:
            uow.legacy.add_contracts(import_id, prepared[i:i + 2_000])
            uow.commit()
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
