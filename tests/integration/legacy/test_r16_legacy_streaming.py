"""R16 at migration scale: 100,000 legacy rows import in batches without holding the file in memory."""
from __future__ import annotations

import tracemalloc

from legacy_rows import write_bulk_csv
from sqlalchemy import func, select

from domain.clock import SystemClock
from services.legacy import import_contracts
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.models import Contract

ROWS = 100_000


def test_r16_imports_100k_rows_in_bounded_memory(tmp_path, policy):
    engine = make_engine(f"sqlite:///{tmp_path / 'big.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    path = write_bulk_csv(tmp_path / "big.csv", ROWS)
    size = path.stat().st_size
    batches: list[int] = []

    tracemalloc.start()
    try:
        result = import_contracts(path, sessions=sessions, policy=policy, clock=SystemClock(),
                                  progress=batches.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.totals().imported == ROWS and result.totals().to_correct == 0
    assert len(result.units) == 22
    assert sum(batches) == ROWS and max(batches) == 2_000  # written 2,000 rows per transaction
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contract)) == ROWS
    # Holding the rows would take several times the file (Python strings, dicts); streaming stays far below it.
    assert peak < size / 2, (peak, size)
    engine.dispose()
