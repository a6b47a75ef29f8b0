"""Rehearsal benchmark (issue 15 item 1): the whole process of `eproc pilot --json` on the default
scenario, as a newcomer runs it, median of N after a warm-up, against a baseline measured in the same
run: the same command with the people's cached token template switched off (EPROC_PILOT_CACHE=off:
every world makes its CA, SoftHSM tokens and RSA keys from scratch, as before issue 15).

Runs alternate (ours, baseline, ours, ...) so that a change in the machine's load hits both. Both
write the same report byte for byte (checked). The warm-up of "ours" makes the template (cold cache,
printed); the timed runs copy it. Then one more run of ours in a process of its own, instrumented,
splits its wall time: Python imports, world setup (`build_world`), and Prefect's own time (flow and
task engines, the temporary API server, exclusive of the flows' and tasks' own code, plus importing
Prefect, and waiting for Prefect's server, which the CLI starts first: pilot.prefect_api), the rest being
the work.

    .venv/bin/python bench/bench_pilot.py [--runs 3] [--scenario FILE] [--no-split]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPROC = str(Path(sys.executable).parent / "eproc")
GOAL_S = 10.0
GOAL_PREFECT_SHARE = 0.30


def _env(tmp: Path, cache: str) -> dict[str, str]:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_LOGGING_LEVEL": "WARNING", "EPROC_PILOT_CACHE": cache, "TMPDIR": str(tmp)}
    # A Prefect home of the run's own, as on a newcomer's machine (a home that thousands of earlier runs
    # filled answers slower); the warm-up makes its database. BENCH_PREFECT_HOME chooses another.
    env["PREFECT_HOME"] = os.environ.get("BENCH_PREFECT_HOME") or str(tmp / "prefect-home")
    return env


def _pilot(env: dict[str, str], scenario: str | None) -> tuple[float, bytes]:
    cmd = [EPROC, "pilot", "--json"] + (["--scenario", scenario] if scenario else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"eproc pilot failed with status {proc.returncode}")
    return wall, proc.stdout


def _split(env: dict[str, str], scenario: str | None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child-split"] + (["--scenario", scenario] if scenario else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-4000:])
        raise SystemExit("instrumented run failed")
    found = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    found["wall"] = wall
    return found


def child_split(scenario: str | None) -> None:
    """One rehearsal in this process, timed by part (see the module docstring); prints JSON."""
    import threading

    from pilot.prefect_api import start_for_rehearsal

    t_start = time.perf_counter()
    api = start_for_rehearsal(True)  # as `eproc pilot --json` does first (eproc.launch): the server comes up meanwhile
    import prefect  # noqa: F401  (its import time is Prefect's)

    t_prefect = time.perf_counter()
    from prefect import flow_engine, task_engine
    from prefect.flows import Flow
    from prefect.tasks import Task

    from pilot import runner

    t_imports = time.perf_counter()
    local = threading.local()
    spent = {"prefect": 0.0, "user": 0.0, "world": 0.0}

    def frame(kind: str, fn):
        def wrapper(*args, **kwargs):
            stack = local.__dict__.setdefault("stack", [])
            now = time.perf_counter()
            if stack:
                outer, since = stack[-1]
                spent[outer] += now - since
            stack.append([kind, now])
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                kind_, since = stack.pop()
                spent[kind_] += end - since
                if stack:
                    stack[-1][1] = end
        return wrapper

    Flow.__call__ = frame("prefect", Flow.__call__)
    Task.__call__ = frame("prefect", Task.__call__)
    flow_engine.call_with_parameters = frame("user", flow_engine.call_with_parameters)
    task_engine.call_with_parameters = frame("user", task_engine.call_with_parameters)
    build = runner.build_world

    def timed_build(*args, **kwargs):
        t = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            spent["world"] += time.perf_counter() - t

    runner.build_world = timed_build
    if api is not None:  # waiting for Prefect's server is Prefect's time
        api.wait_ready = frame("prefect", api.wait_ready)  # type: ignore[method-assign]
    t0 = time.perf_counter()
    try:
        runner.run_pilot(scenario, prefect_api=api)
    finally:
        if api is not None:
            api.stop()
    t1 = time.perf_counter()
    print(json.dumps({"prefect_import": t_prefect - t_start, "imports": t_imports - t_start,
                      "pilot": t1 - t0, "world": spent["world"], "prefect": spent["prefect"],
                      "flows_own_code": spent["user"]}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--no-split", action="store_true")
    ap.add_argument("--child-split", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_split:
        child_split(args.scenario)
        return
    with tempfile.TemporaryDirectory(prefix="bench-pilot-") as d:
        tmp = Path(d)
        ours_env, base_env = _env(tmp, str(tmp / "templates")), _env(tmp, "off")
        cold, report = _pilot(ours_env, args.scenario)  # warm-up: imports, SoftHSM, makes the template
        _pilot(base_env, args.scenario)  # the baseline's warm-up
        ours, base = [], []
        for _ in range(args.runs):
            for env, into in ((ours_env, ours), (base_env, base)):
                wall, out = _pilot(env, args.scenario)
                if out != report:
                    raise SystemExit("the reports differ between runs")
                into.append(wall)
        m_ours, m_base = statistics.median(ours), statistics.median(base)
        load = os.getloadavg()
        print(f"machine load average (1/5/15 min) at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
        print(f"{'benchmark':66} {'ours':>9} {'baseline':>9} {'ratio':>6}")
        print(f"{'rehearsal, eproc pilot --json, whole process, median of ' + str(args.runs) + ' (s)':66} "
              f"{m_ours:9.2f} {m_base:9.2f} {m_ours / m_base:6.2f}   goal < {GOAL_S:.0f} s: "
              f"{'met' if m_ours < GOAL_S else 'missed'}")
        print(f"{'  runs (s)':66} {' '.join(f'{x:.2f}' for x in ours):>9} | {' '.join(f'{x:.2f}' for x in base)}")
        print(f"{'  first run of ours: template made (cold cache) (s)':66} {cold:9.2f}")
        print("  baseline: EPROC_PILOT_CACHE=off (CA, tokens, RSA keys made for every world); reports identical")
        if not args.no_split:
            s = _split(ours_env, args.scenario)
            prefect = s["prefect"] + s["prefect_import"]
            print(f"{'split of one more run of ours (instrumented, own process) (s)':66} {s['wall']:9.2f}")
            startup = s["wall"] - s["pilot"]
            print(f"{'  interpreter start, imports (Prefect: ' + format(s['prefect_import'], '.2f') + ' s), exit':66} "
                  f"{startup:9.2f} {startup / s['wall']:6.0%}")
            print(f"{'  world setup (build_world: CA, tokens, registries, price list)':66} {s['world']:9.2f} "
                  f"{s['world'] / s['wall']:6.0%}")
            print(f"{'  Prefect engines and server, exclusive of flow and task code':66} {s['prefect']:9.2f} "
                  f"{s['prefect'] / s['wall']:6.0%}")
            print(f"{'  Prefect share incl. its import':66} {prefect:9.2f} {prefect / s['wall']:6.0%}   goal < "
                  f"{GOAL_PREFECT_SHARE:.0%}: {'met' if prefect / s['wall'] < GOAL_PREFECT_SHARE else 'missed'}")
            rest = s["pilot"] - s["world"] - s["prefect"]
            print(f"{'  the rest: flows own code, services, announcement, bids, report':66} {rest:9.2f} "
                  f"{rest / s['wall']:6.0%}")


if __name__ == "__main__":
    main()
