"""`eproc up` / `eproc down`, operators' forms in the Prefect UI, scale-out over two workers, and
failures (a worker killed mid-session, PostgreSQL restarted mid-run). Tests run in file order, in two
xdist groups (a stack each under scripts/test.sh, one stack without xdist); the last one brings its
stack down."""
from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from eproc.stack.config import POOL
from eproc.stack.postgres import Cluster
from eproc.stack.procs import PidDir, descendants, listening, parent_of, stop
from tests.e2e.stack.conftest import ARTIFACTS

# Two xdist groups, each on one worker with a stack of its own (the `stack` fixture is per process): the
# stack tests take minutes, so they are shared out (stack-2 also holds test_r13_triggers, which runs
# first, and test_up, which must run before any test starts the transactions API).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack-1")]
STACK_2 = pytest.mark.xdist_group("stack-2")
CHROMIUM = "/usr/bin/chromium"
CHAIR = "5260181591"  # the district-12 chair's national ID (pilot/scenarios/district-12-asphalt.toml)


# Members are switched on one by one (nothing is prefilled); the chair confirms and is chosen, from the
# chair and the chair's alternates (one switch each: the district-12 chair has none), as who answers.
FULL_ATTENDANCE = {**{f"member_{i}": True for i in range(5)}, "confirmed": True, "answered_by_0": True}




@STACK_2
def test_up_starts_every_process_bound_to_localhost_with_deployments(stack, api):
    cfg = stack.config
    records = {r.name: r for r in PidDir(cfg.pids_dir).records()}
    assert set(records) == {"postgres", "prefect-server", "worker-1", "worker-2"}
    assert all(r.alive() for r in records.values())
    for port in (cfg.port, cfg.pg_port):
        assert listening(port) == ["0100007F"], port  # 127.0.0.1 only
    deployments = {d["name"]: d for d in api.http.post("/deployments/filter", json={}).json()}
    assert {"tender", "monthly-reports"} <= set(deployments)
    assert all(d["work_pool_name"] == POOL for d in deployments.values())
    settings = api.http.get("/admin/settings").json()
    assert settings["server"]["analytics_enabled"] is False
    workers = api.http.post(f"/work_pools/{POOL}/workers/filter", json={}).json()
    assert {w["name"] for w in workers} == {"eproc-worker-1", "eproc-worker-2"}


def _every_form_field_has_its_persian_title(api, run_id: str) -> None:
    import json

    from flows.decisions import AttendanceForm

    keys = api.http.post(f"/flow_runs/{run_id}/input/filter", json={"prefix": "paused"}).json()
    schema = next(k for k in keys if k["key"].endswith("schema"))
    props = json.loads(schema["value"])["properties"]
    for name, field in AttendanceForm.model_fields.items():
        assert props[name].get("title") == field.title, name


def _rendered_words(locator, phrase: str) -> tuple[dict, dict]:
    """The on-screen boxes (left, right, top, height in CSS pixels) of the first and the last word of
    `phrase`, at its first occurrence in one text node within `locator`: where the browser drew them."""
    boxes = locator.evaluate("""(root, phrase) => {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        const words = phrase.split(" ");
        const last = words[words.length - 1];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(phrase);
            if (at < 0) continue;
            const box = (start, length) => {
                const range = document.createRange();
                range.setStart(node, start);
                range.setEnd(node, start + length);
                const b = range.getBoundingClientRect();
                return {left: b.left, right: b.right, top: b.top, height: b.height};
            };
            return [box(at, words[0].length), box(at + phrase.length - last.length, last.length)];
        }
        return null;
    }""", phrase)
    assert boxes, f"«{phrase}» is not in the form"
    return boxes[0], boxes[1]


def test_operator_answers_the_persian_attendance_form_in_the_ui_and_the_run_continues(stack, world, api, schedule,
                                                                                        members):
    from playwright.sync_api import sync_playwright

    commission = members(world(["UI-1"]))
    parent = schedule("UI-1")
    assert "district-12" in parent["tags"]
    # the flow opened the sitting; the members release their parts from their own stations
    assert {j.member_id for j in commission.release("UI-1")} == {"m1", "m2", "m3", "m5"}  # the seats
    paused = api.paused_session(parent["id"], timeout=180)
    _every_form_field_has_its_persian_title(api, paused["id"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{stack.up['ui_url']}/runs/flow-run/{paused['id']}")
            page.get_by_role("button", name="Resume").first.click()
            form = page.locator(".p-modal__card")
            form.get_by_text("تأیید رئیس جلسه").wait_for(timeout=60_000)  # the form, once its schema loaded
            assert "حضور در جلسهٔ" in form.inner_text() and "UI-1" in form.inner_text()
            assert form.get_by_text("تأیید رئیس جلسه").count() == 1
            assert form.get_by_text("رئیس جلسه حضور اعضا و نمایندهٔ حراست را تأیید می‌کند").count() == 1
            switches = form.get_by_role("switch")
            # a switch per member, one for the chair as who answers, then the chair's confirmation
            assert switches.count() == 7
            for i in range(7):
                assert switches.nth(i).get_attribute("aria-checked") != "true"  # nothing decided in advance
                switches.nth(i).click()
            assert form.get_by_text("رئیس کمیسیون").count() >= 2  # members by name and role; the chair chosen
            assert form.get_by_text("پاسخ‌دهنده:").count() == 1
            assert form.get_by_role("textbox").count() == 0  # nothing to type
            description = form.inner_text()
            assert "\u2067حضور در جلسهٔ" in description  # the sentence is isolated right-to-left
            # ... and the browser lays it out right to left: of two words on one line, the one read
            # first stands further right (measured on the rendered glyphs, not the source text)
            for phrase in ("حضور در جلسهٔ", "تأیید رئیس جلسه"):
                first, last = _rendered_words(form, phrase)
                assert abs(first["top"] - last["top"]) < first["height"] / 2, (phrase, first, last)  # one line
                assert first["left"] > last["right"] - 1, (phrase, first, last)
            form.screenshot(path=str(ARTIFACTS / "attendance-form.png"))
            with page.expect_response(lambda r: r.url.endswith("/resume"), timeout=60_000) as sent:
                form.get_by_role("button", name="Submit").click()
            assert sent.value.ok, sent.value.status
        finally:
            browser.close()
    # the session went on: envelopes opened, then the generated minutes await confirmation
    api.finish_tender(parent["id"], paused["state"]["state_details"]["pause_key"],
                      lambda kind: commission.sign("UI-1", kind))
    with create_engine(stack.up["app_database_url"]).connect() as db:
        row = db.execute(text("SELECT status FROM tenders WHERE id = 'UI-1'")).one()
        session = db.execute(text("SELECT attendees_json FROM sessions WHERE tender_id = 'UI-1'")).scalar()
        answered = db.execute(text("SELECT actor FROM audit_log WHERE action = 'session.attendance' "
                                   "AND entity_id = 'UI-1'")).scalars().all()
    assert row.status == "contracted"
    assert "m5" in session
    assert answered == [CHAIR]  # who confirmed the attendance is on record
    assert (ARTIFACTS / "attendance-form.png").stat().st_size > 10_000


def test_twenty_tenders_on_two_workers_complete_once_without_duplicates(stack, world, api, schedule):
    ids = [f"SC-{i:02d}" for i in range(20)]
    world(ids)
    runs = {tid: schedule(tid, scripted=True) for tid in ids}
    again = schedule(ids[0], scripted=True)
    assert again["id"] == runs[ids[0]]["id"]  # one run per tender, even if scheduled twice
    for run in runs.values():
        api.wait_state(run["id"], {"COMPLETED", "FAILED", "CRASHED"}, timeout=300)
    assert {tid: api.run(r["id"])["state_type"] for tid, r in runs.items()} == {tid: "COMPLETED" for tid in ids}
    eng = create_engine(stack.up["app_database_url"])
    with eng.connect() as db:
        statuses = dict(db.execute(text("SELECT id, status FROM tenders WHERE id LIKE 'SC-%'")).all())
        opened = Counter(db.execute(text("SELECT entity_id || ':' || payload_json FROM audit_log "
                                         "WHERE action = 'envelope.opened' AND entity_id LIKE 'SC-%'")).scalars())
        minutes = Counter(db.execute(text("SELECT tender_id || ':' || kind || ':' || version FROM minutes "
                                          "WHERE tender_id LIKE 'SC-%'")).scalars())
        payments = db.execute(text("SELECT count(*) - count(DISTINCT id) FROM payments")).scalar()
    assert statuses == {tid: "contracted" for tid in ids}
    assert {k.split(":")[0] for k in opened} == set(ids)
    assert all(n == 1 for n in opened.values())  # no envelope of any bid opened twice
    assert {k.split(":")[0] for k in minutes} == set(ids)
    assert all(n == 1 for n in minutes.values())
    assert payments == 0
    from sqlalchemy.orm import Session

    from store.audit import iter_entries, verify_chain

    with Session(eng) as s:
        report = verify_chain(iter_entries(s))
    assert report.ok, report
    logs = [(stack.config.logs_dir / f"worker-{n}.log").read_text() for n in (1, 2)]
    # Both workers may try to claim a run; Prefect lets one win and the other logs "Aborted submission".
    took = [sum((f"submitting flow run '{r['id']}'" in log) - (f"Aborted submission of flow run '{r['id']}'" in log)
                for r in runs.values()) for log in logs]
    assert sum(took) == len(ids) and all(took), took  # both workers ran tenders, each run exactly once


def _worker_of(stack, run: dict):
    """The worker that started the run's flow process."""
    pid = int(str(run["infrastructure_pid"]).rsplit(":", 1)[-1])
    parent = parent_of(pid)
    return next(r for r in PidDir(stack.config.pids_dir).records() if r.name.startswith("worker") and r.pid == parent)


@STACK_2
def test_worker_killed_in_the_opening_session_is_crashed_and_rerun_gives_the_same_result(stack, world, api, schedule,
                                                                                          members):
    commission = members(world(["KILL-1", "REF-1"]))
    parent = schedule("KILL-1")
    commission.release("KILL-1")  # the releases are stored: the rerun asks nobody to release again
    paused = api.paused_session(parent["id"], timeout=180)
    rec = _worker_of(stack, api.run(parent["id"]))
    stop(rec, signal.SIGKILL, timeout=5)  # the worker and the flow processes it started, as if its machine died
    # until Prefect notices the silence (no heartbeat for --crash-after seconds), the reference tender,
    # with the same bids, runs from start to end on the worker left
    reference = schedule("REF-1")
    commission.release("REF-1")
    ref_paused = api.paused_session(reference["id"], timeout=180)
    api.finish_tender(reference["id"], api.answer(ref_paused["id"], FULL_ATTENDANCE),
                      lambda kind: commission.sign("REF-1", kind))
    api.wait_state(parent["id"], {"CRASHED"}, timeout=180)
    from unittest import mock

    from eproc.stack.lifecycle import start_worker

    with mock.patch.dict(os.environ, stack.env):  # the operator restarts it with the same settings
        start_worker(stack.config, PidDir(stack.config.pids_dir), int(rec.name.split("-")[1]))
    api.set_state(parent["id"], "SCHEDULED")  # what the UI's "Retry" does
    # the rerun starts over from the store: the sitting's releases are there, so it asks the attendance again
    key = api.answer(parent["id"], FULL_ATTENDANCE, timeout=180, after=paused["state"]["state_details"]["pause_key"])
    api.finish_tender(parent["id"], key, lambda kind: commission.sign("KILL-1", kind))
    from domain.documents.minutes import award_of
    from domain.xmlsafe import parse_untrusted
    from signing.xmldsig import signed_document_root

    with create_engine(stack.up["app_database_url"]).connect() as db:
        got = db.execute(text("SELECT id, status FROM tenders WHERE id IN ('KILL-1', 'REF-1') ORDER BY id")).all()
        minutes = db.execute(text("SELECT tender_id, xml FROM minutes WHERE tender_id IN ('KILL-1', 'REF-1') "
                                  "AND kind = 'article13' AND final")).all()
        opened = dict(db.execute(text("SELECT entity_id, count(*) FROM audit_log WHERE action = 'envelope.opened' "
                                      "AND entity_id IN ('KILL-1', 'REF-1') GROUP BY entity_id")).all())
    assert [s for _i, s in got] == ["contracted", "contracted"]
    assert sorted(t for t, _x in minutes) == ["KILL-1", "REF-1"]  # exactly one final minutes each
    awards = {t: award_of(signed_document_root(parse_untrusted(bytes(x)))) for t, x in minutes}
    same = ("status", "winner", "runner_up", "prices")
    assert {k: getattr(awards["KILL-1"], k) for k in same} == {k: getattr(awards["REF-1"], k) for k in same}
    assert opened["KILL-1"] == opened["REF-1"]  # the rerun opened no envelope twice


def test_r08_nobody_releases_the_run_waits_suspended_holding_no_worker_and_ends_blocked_at_its_deadline(
        stack, world, api, schedule, members):
    members(world(["WAIT-1"]))  # the transactions API is up; nobody joins the sitting
    parent = schedule("WAIT-1", env={"EPROC_DECISION_TIMEOUT": "25"})
    api.wait(lambda: api.suspended(parent["id"]), 180, "the run suspending while it waits for the members")
    # suspended, it holds no worker: no process of this run is left under any worker (other tests' runs
    # may still be finishing on the shared stack)
    workers = [r for r in PidDir(stack.config.pids_dir).records() if r.name.startswith("worker")]
    assert workers
    api.wait(lambda: not _processes_of_run(workers, parent["id"]) or None, 60, "the run's process exiting")
    assert api.suspended(parent["id"])  # still waiting: nobody has released
    # the run's wake-up at the end of the wait is a run of the `tender-wake` deployment, with ids only
    wake = api.wait(lambda: next(iter(api.runs(name={"any_": ["wake-WAIT-1"]})), None), 60, "the wake-up run")
    assert wake["parameters"] == {"tender_id": "WAIT-1"}
    done = api.wait_state(parent["id"], {"COMPLETED", "FAILED", "CRASHED"}, timeout=240)
    assert done["state_type"] == "COMPLETED", done["state"]
    with create_engine(stack.up["app_database_url"]).connect() as db:
        row = db.execute(text("SELECT status, reason FROM tenders WHERE id = 'WAIT-1'")).one()
        opened = db.execute(text("SELECT count(*) FROM audit_log WHERE action = 'envelope.opened' "
                                 "AND entity_id = 'WAIT-1'")).scalar()
    assert (row.status, row.reason) == ("blocked", "SECURITY_REP_ABSENT")  # no part released: the seats' first check
    assert opened == 0


@STACK_2
def test_postgresql_restarted_during_a_run_the_run_completes(stack, world, api, schedule, members):
    commission = members(world(["PG-1"]))
    parent = schedule("PG-1")
    commission.release("PG-1")
    paused = api.paused_session(parent["id"], timeout=180)
    cfg = stack.config
    pids = PidDir(cfg.pids_dir)
    cluster = Cluster(cfg.pg_dir, cfg.pg_port)
    assert cluster.stop(pids)
    cluster.start(pids)
    api.wait(lambda: _healthy(stack.api_url), 60, "server healthy after the restart")
    api.wait(lambda: _resumed(api, paused["id"]), 60, "resume accepted after the restart")
    # the members' stations reach the API, which reconnects to the restarted PostgreSQL
    api.finish_tender(parent["id"], paused["state"]["state_details"]["pause_key"],
                      lambda kind: commission.sign("PG-1", kind))
    with create_engine(stack.up["app_database_url"]).connect() as db:
        assert db.execute(text("SELECT status FROM tenders WHERE id = 'PG-1'")).scalar() == "contracted"


def _processes_of_run(workers, run_id: str) -> list[int]:
    """The processes under `workers` that run the flow run `run_id` (the worker gives each its id)."""
    found = []
    for rec in workers:
        for pid in descendants(rec.pid):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if f"PREFECT__FLOW_RUN_ID={run_id}".encode() in environ.split(b"\0"):
                found.append(pid)
    return found


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _resumed(api, run_id: str) -> bool:
    try:
        api.resume(run_id, FULL_ATTENDANCE)
        return True
    except (httpx.HTTPError, AssertionError):
        return False


def test_r15_monthly_reports_deployment_publishes_a_persian_table(stack, api):
    import jdatetime

    today = jdatetime.date.today()
    dep = next(d for d in api.http.post("/deployments/filter", json={}).json() if d["name"] == "monthly-reports")
    assert dep["schedules"] and dep["schedules"][0]["schedule"]["timezone"] == "Asia/Tehran"
    run = api.http.post(f"/deployments/{dep['id']}/create_flow_run",
                        json={"parameters": {"year": today.year, "month": today.month}}).json()
    api.wait_state(run["id"], {"COMPLETED"}, timeout=120)
    key = f"monthly-contracts-{today.year}-{today.month:02d}"
    arts = api.http.post("/artifacts/filter", json={"artifacts": {"key": {"any_": [key]}}}).json()
    assert len(arts) == 1 and arts[0]["type"] == "markdown"
    data = arts[0]["data"]
    assert f"گزارش ماهانهٔ قراردادها — {today.year}/{today.month:02d}" in data and "|---|" in data
    assert "منطقه" in data  # one row per unit and class, the district named in Persian


@STACK_2
def test_zz_down_stops_every_process_it_started(stack):
    records = PidDir(stack.config.pids_dir).records()
    out = stack.eproc("down", "--json")
    assert out.returncode == 0, out.stderr
    assert set(__import__("json").loads(out.stdout)["stopped"]) == {r.name for r in records}
    assert not any(r.alive() for r in records)
    assert PidDir(stack.config.pids_dir).records() == []
