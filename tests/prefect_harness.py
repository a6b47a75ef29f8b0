"""Prefect's test harness (a temporary Prefect server for in-process flows) with a bounded teardown.

`prefect.testing.utilities.prefect_test_harness` drains Prefect's API-log and events workers without a
timeout before it stops its server. In fresh-clone runs such a drain held a module's teardown for
238-289 s (tests/integration/reports/test_r15_monthly_flow.py, teardown) while the tests themselves had
passed. `prefect_harness` drains both first, each within `DRAIN_TIMEOUT_S`, so the harness's own drain
finds nothing left to wait for; a worker that does not drain in time is reported on stderr and left
behind (a daemon thread), never waited for."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

DRAIN_TIMEOUT_S = 30.0


@contextmanager
def prefect_harness(startup_timeout: int = 120) -> Iterator[None]:
    """`prefect_test_harness(server_startup_timeout=startup_timeout)` whose exit drains the log and
    events workers within DRAIN_TIMEOUT_S each."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=startup_timeout):
        try:
            yield
        finally:
            for service in (APILogWorker, EventsWorker):
                _, pending = service.drain_all(timeout=DRAIN_TIMEOUT_S, at_exit=False)
                if pending:
                    print(f"prefect_harness: {service.__name__} did not drain within {DRAIN_TIMEOUT_S:.0f} s; "
                          "left behind", file=sys.stderr)
