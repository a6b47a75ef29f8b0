"""Orchestration benchmark on the production-like stack (`eproc up`: PostgreSQL, Prefect server,
process work pool), each figure against a baseline measured in the same run.

1. Tenders completed per minute with 1 worker vs 2 workers: K tenders (the district-12 scenario,
   announced and with every sealed bid submitted) scheduled at once, scripted decisions, from the
   first schedule to the last run completed.
2. Orchestration overhead per tender: the mean Prefect run time of one tender (the sitting: its key,
   the members' releases at their stations, opening; the minutes signed at the stations; Article 18
   signed by the chair at their station; contract signature) vs the same service steps and scripted
   station actions called directly in this process on a tender of the same world (no Prefect): of the
   K tenders at once (direct on a SQLite world), and of `--alone` more run one at a time on the warm
   worker (their running time, and their wall time from created to seen completed: the worker's poll,
   the process start and loading the flow included), against the same steps called directly on tenders of the
   stack's own PostgreSQL database (issue 15 item 4: Prefect's share of a tender run's wall time,
   worker warm, under 30%).

    .venv/bin/python bench/bench_orchestration.py [--tenders 8] [--alone 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
PIN = "1357"


def run_stack(workers: int, tenders: int, base: Path, hsm, alone: int = 0) -> tuple[
        float, float, list[tuple[float, float]], float | None]:
    """(tenders per minute, mean run time of one tender in seconds, (running time, wall time from created to
    end) of `alone` more tenders run one at a time after the others, the worker warm, and with `alone`
    the median seconds of the same steps called directly on `alone` tenders of the stack's own database
    first)."""
    import httpx
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from benchkit import stack_up
    from eproc.stack.schedule import schedule_tender
    from tests.e2e.stack.world import prepare, recent_scenario

    world_dir, run_dir = base / f"world{workers}", base / f"run{workers}"
    scenario = recent_scenario(base / f"scenario{workers}.toml", f"bench-{workers}w")
    with stack_up(world_dir, run_dir, workers, hsm.conf_path, PIN) as up:
        ids = [f"B{workers}-{i:02d}" for i in range(tenders)]
        solo = [f"A{workers}-{i:02d}" for i in range(alone)]
        direct_ids = [f"D-{i}" for i in range(1, alone + 1)]
        world = prepare(world_dir, up["app_database_url"], scenario, ids + solo + direct_ids)
        on_stack_db = statistics.median([direct_steps(world, scenario, d) for d in direct_ids]) if alone else None
        jv = {"env": {"EPROC_DECISIONS": f"scripted:{scenario}"}}
        t0 = time.perf_counter()
        with temporary_settings({PREFECT_API_URL: up["api_url"]}):
            runs = [schedule_tender(tid, up["app_database_url"], job_variables=jv)["id"] for tid in ids]
        http = httpx.Client(base_url=up["api_url"], timeout=30)
        states = _finished(http, runs, t0)
        wall = time.perf_counter() - t0
        mean_run = sum(r["total_run_time"] for r in states.values()) / len(states)
        alone_runs = []
        for tid in solo:  # one at a time: the worker polls, starts the run's process, and nothing else runs
            t_due = time.perf_counter()  # its opening time is past: the run is due when it is created
            with temporary_settings({PREFECT_API_URL: up["api_url"]}):
                rid = schedule_tender(tid, up["app_database_url"], job_variables=jv)["id"]
            done = _finished(http, [rid], t_due, poll=0.1)[rid]
            # running time (Prefect's total_run_time) and wall time: from creating the run to seeing it
            # completed, with the worker's poll, the process start and loading the flow
            alone_runs.append((done["total_run_time"], time.perf_counter() - t_due))
        return tenders / wall * 60, mean_run, alone_runs, on_stack_db


def _finished(http, runs: list[str], t0: float, poll: float = 0.5) -> dict[str, dict]:
    """Each run of `runs` once it is COMPLETED (polled every `poll` s). Exits when one ends otherwise, or
    after 30 minutes from `t0`."""
    states: dict[str, dict] = {}
    while len(states) < len(runs):
        for rid in runs:
            if rid not in states:
                r = http.get(f"/flow_runs/{rid}").json()
                if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED"):
                    states[rid] = r
        time.sleep(poll)
        if time.perf_counter() - t0 > 1800:
            raise SystemExit("tenders did not finish in 30 minutes")
    failed = [r["name"] for r in states.values() if r["state_type"] != "COMPLETED"]
    if failed:
        raise SystemExit(f"runs not completed: {failed}")
    return states


def direct(base: Path) -> float:
    """The same steps as one tender's run, called directly on a SQLite world (no Prefect): `direct_steps`."""
    from tests.e2e.stack.world import prepare, recent_scenario

    scenario_path = recent_scenario(base / "direct.toml", "bench-direct")
    world = prepare(base / "direct", f"sqlite:///{base / 'direct.db'}", scenario_path, ["D-1"])
    return direct_steps(world, scenario_path, "D-1")


def direct_steps(world, scenario_path: Path, tender: str) -> float:
    """Seconds for the steps of one tender's run on `world`'s database, called directly in this process
    (no Prefect), with the same scripted decisions as the stack's workers (pilot.decisions.ScriptedDecisions
    without a world's stations: the members release and sign at stations on the container's tokens, the
    API in-process)."""
    from pilot.decisions import ScriptedDecisions
    from pilot.scenario import load_scenario
    from services import tender as svc
    from services.deps import use

    world.clock.set(datetime.now(timezone.utc))
    decisions = ScriptedDecisions(load_scenario(scenario_path))
    deps = world.deps
    import api.app  # noqa: F401  (imported before timing: a flow run's process has it from its start)
    import stations.commission  # noqa: F401
    import stations.minutes  # noqa: F401

    with use(deps):
        t0 = time.perf_counter()
        view = svc.load(deps, tender)
        members = {m.id: m.name for m in view.members}
        # flows.tender.tender_session_flow: the sitting's key, the members' releases at their stations,
        # attendance, opening, minutes generated, confirmed and signed at the stations.
        svc.open_sitting(deps, tender, "opening")
        decisions.release_parts(tender, "opening", members, world.clock.now())
        present = svc.accept_attendance(deps, view, "opening",
                                        decisions.attendance(tender, "opening", members, world.clock.now()))
        outcome = svc.opening_session(deps, tender, present)
        svc.draft_minutes(deps, tender, outcome)
        svc.confirm_minutes(deps, tender, decisions.confirm_minutes(tender, svc.award_summary(deps, tender)))
        decisions.minutes_signed(tender, svc.ARTICLE13, outcome.participants)
        minutes = svc.signed_minutes(deps, tender)
        svc.conclude(deps, tender, minutes)
        # flows.tender.contract_signature: the Article 18 notification signed by the chair at their
        # station, sent, and the winner's answer.
        _, award, _ = svc.final_minutes(deps, tender)
        if award.winner is None:
            raise RuntimeError(f"the rehearsal tender {tender} was not awarded: {award}")
        draft = svc.draft_notification(deps, tender, award.winner, 1)
        decisions.minutes_signed(tender, draft.kind, draft.signers)
        svc.notify_winner(deps, tender, award.winner, 1)
        svc.record_signature_answer(deps, tender, award.winner,
                                    decisions.contract_signed(tender, award.winner, world.clock.now()))
        svc.close_signing(deps, tender, set())
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenders", type=int, default=8)
    ap.add_argument("--alone", type=int, default=3, help="tenders run one at a time afterwards (worker warm)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        base = Path(d)
        os.environ["PREFECT_HOME"] = str(base / "prefect-home")
        from signing.softhsm import SoftHsm

        hsm = SoftHsm.for_process(base / "tokens")
        direct_s = direct(base)
        one, run1, alone, direct_pg = run_stack(1, args.tenders, base, hsm, alone=args.alone)
        two, run2, _, _ = run_stack(2, args.tenders, base, hsm)
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'benchmark':58} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    print(f"{f'tenders completed per minute, 2 workers vs 1 ({args.tenders} tenders)':58} {two:10.2f} {one:10.2f} "
          f"{two / one:7.2f}")
    run = (run1 + run2) / 2
    print(f"{'one tender: Prefect run time vs the same steps direct (s)':58} {run:10.2f} {direct_s:10.2f} "
          f"{run / direct_s:7.2f}")
    print(f"{'  orchestration share of a tender run':58} {(run - direct_s) / run:10.0%}")
    if alone and direct_pg is not None:  # issue 15 item 4: "Prefect's share of a tender run's wall time,
        # with the worker warm"; the baseline on the run's own database (the stack's PostgreSQL)
        print(f"{'  (direct below: the same steps on the stack PostgreSQL, median of ' + str(len(alone)) + ')':58}")
        for label, solo in (("running time", statistics.median(r for r, _ in alone)),
                            ("wall time, created to completed", statistics.median(w for _, w in alone))):
            print(f"{f'one tender alone, worker warm, median of {len(alone)}: {label} (s)':58} "
                  f"{solo:10.2f} {direct_pg:10.2f} {solo / direct_pg:7.2f}")
            share = (solo - direct_pg) / solo
            print(f"{f'  orchestration share of its {label} (goal < 30%)':58} {share:10.0%}   "
                  f"{'met' if share < 0.30 else 'missed'}")


if __name__ == "__main__":
    main()
