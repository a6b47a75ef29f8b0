"""Event → result latency on the production-like stack (issue 13 benchmark, issue 15 item 4), next to
the same step called directly in the same run.

`eproc up` (PostgreSQL, Prefect server, one process worker) is brought up once; a tender is announced
on its database. Then, one after another, N `eproc.statement.submitted` events are emitted exactly
as the API emits them (`PrefectOrchestrator.emit`, ids only). Each starts the `status-statements`
deployment by its trigger (prefect.yaml); the latency of one event is from `emit` to its run's
result being visible (state COMPLETED in the Prefect API, as an operator or the API would read it),
split into: automation (event → run created), queue (created → running: the worker polls and
starts a process) and run (running → completed). The statement named by each event does not exist,
so the flow's own work is two reads of the store: what remains is what orchestration costs.

Baseline, same run: the flow's two steps (`tasks.contract.statement_state`, `statement_outcomes`)
called directly on the same database, without Prefect.

    .venv/bin/python bench/bench_events.py [--events 12]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
PIN = "1357"
TID = "EVB-1"


def _ts(value: str | None) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else float("nan")


def _p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def measure(events: int, base: Path) -> tuple[dict[str, list[float]], float]:
    """({"total"|"automation"|"queue"|"run": seconds per event}, direct seconds per step)."""
    import httpx

    from benchkit import stack_up
    from eproc.stack.orchestrator import PrefectOrchestrator
    from services.contract import events as ev
    from signing.softhsm import SoftHsm
    from tests.e2e.stack.world import prepare, recent_scenario

    hsm = SoftHsm.for_process(base / "tokens")
    world_dir, run_dir = base / "world", base / "run"
    with stack_up(world_dir, run_dir, 1, hsm.conf_path, PIN) as up:
        world = prepare(world_dir, up["app_database_url"], recent_scenario(base / "s.toml", "bench-events"), [TID])
        direct = _direct(world.deps, events)
        http = httpx.Client(base_url=up["api_url"], timeout=30)
        port = PrefectOrchestrator(world.deps, up["api_url"])
        parts: dict[str, list[float]] = {"total": [], "automation": [], "queue": [], "run": []}
        for i in range(events + 1):  # the first one warms the worker's pool and the server up
            ref = f"s{i}"
            e = ev.statement_submitted(TID, f"TRK-{TID}", None, ref)
            t0 = time.time()
            port.emit(e.event, e.resource_id, e.ids)
            run = _wait_completed(http, {"tender_id": TID, "ref": ref}, t0 + 300)
            done = time.time()
            if i == 0:
                continue
            created, started, ended = _ts(run["created"]), _ts(run["start_time"]), _ts(run["end_time"])
            parts["total"].append(done - t0)
            parts["automation"].append(created - t0)
            parts["queue"].append(started - created)
            parts["run"].append(ended - started)
        return parts, direct


def _wait_completed(http, parameters: dict, deadline: float) -> dict:
    while time.time() < deadline:
        runs = http.post("/flow_runs/filter", json={"sort": "EXPECTED_START_TIME_DESC", "limit": 20}).json()
        for r in runs:
            if r["parameters"] == parameters and r["state_type"] in ("COMPLETED", "FAILED", "CRASHED"):
                if r["state_type"] != "COMPLETED":
                    logs = http.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [r["id"]]}},
                                                           "limit": 30}).json()
                    lines = "\n".join(x["message"][-600:] for x in logs)
                    raise SystemExit(f"run {r['name']} ended {r['state_type']}: {r['state']['message']}\n{lines}")
                return dict(r)
        time.sleep(0.1)
    raise SystemExit(f"no completed run for {parameters} in time")


def _direct(deps, events: int) -> float:
    from services.deps import use
    from tasks.contract import statement_outcomes, statement_state

    with use(deps):
        statement_state.fn(TID, "warm")
        t0 = time.perf_counter()
        for i in range(events):
            statement_state.fn(TID, f"s{i}")
            statement_outcomes.fn(TID)
        return (time.perf_counter() - t0) / events


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=12)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        base = Path(d)
        os.environ["PREFECT_HOME"] = str(base / "prefect-home")
        parts, direct = measure(args.events, base)
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'benchmark':62} {'ours':>9} {'baseline':>9} {'ratio':>8}")
    for q, label in ((0.5, "p50"), (0.95, "p95")):
        total = _p(parts["total"], q)
        print(f"{f'statement submitted → its result visible, {label} (s)':62} {total:9.2f} {direct:9.4f} "
              f"{total / direct:8.0f}")
    for name in ("automation", "queue", "run"):
        print(f"{f'  of which {name}, median (s)':62} {statistics.median(parts[name]):9.2f}")
    print(f"{'  goal (issue 15 item 4): p95 under 5 s':62} {'met' if _p(parts['total'], 0.95) < 5 else 'not met':>9}")


if __name__ == "__main__":
    main()
