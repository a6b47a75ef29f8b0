"""Issue 13's done-when test: from the winner's contract to its payment, every party at its own
station, the flows started by events on the stack, the financial system a process of its own.

- The stack is production-like (`eproc up`: private PostgreSQL, Prefect server, one process worker,
  `eproc serve`) with EPROC_INTEGRATIONS=http: the financial, project-control and transparency systems
  are `eproc stub serve …` processes with their own SQLite files, fetching by code from the API.
- The tender is the district-12 rehearsal's, run by the `tender` deployment with scripted answers; its
  `eproc.tender.contracted` event starts the contract's registration flow.
- The contracts officer, each stage's approver, the contractor, the supervisor, the employer's reviewer
  and the treasurer are separate `eproc` processes, each with their own SOFTHSM2_CONF, token and PIN,
  enrolled by the CA office; the engine signs nothing for them.
- Each of their actions emits its event (ids only); the `contract-registration`, `status-statements` and
  `payments` deployments start from them by their triggers. The treasurer's last signature starts the
  payment: the financial service fetches the contract and the statement by code and pays once; a second
  run of the payment (an operator rerunning it) pays nothing more.
- Refused with their codes (R28, R25): a payment for a contract still at the `treasurer` stage
  (NO_CONTRACT_CODE), one that names no budget-allocation code (FIELD_MISSING), and the next statement's
  payment once the contractor is on the blacklist (BLACKLISTED).
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack.conftest import PIN, Stack
from tests.e2e.test_r01_tender_announced_and_bid_from_separate_stations import EPROC, ROOT, Station, _base_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack-contract")]
BUDGET_LINE, GENERAL_CODE, FACTOR, ALLOCATION = "1405-12-30201-034", "G-30201", "EF-12-ROAD", "TA-1405-77"
TID, TID2 = "PAY-1", "PAY-2"
SYSTEMS = ("financial", "project-control", "transparency")


@dataclass
class ContractStack:
    stack: Stack
    services: dict[str, str]  # system -> URL
    service_dbs: dict[str, Path]
    office: dict[str, str]  # the registration office's and CA office's environment (the engine's side)
    tmp: Path


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(log.read_text()[-3000:])
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def contract_stack(tmp_path_factory) -> Iterator[ContractStack]:
    if shutil.which("softhsm2-util") is None or shutil.which("pg_ctl") is None and not _pg_bin():
        pytest.skip("softhsm2-util and PostgreSQL are needed")
    from eproc.stack.config import default_pg_dir
    from eproc.stack.procs import free_port
    from signing.softhsm import SoftHsm
    from tests.e2e.stack.world import recent_scenario

    base = tmp_path_factory.mktemp("contract-stack")
    world_dir, run_dir = base / "world", base / "run"
    hsm = SoftHsm.for_process(world_dir / "tokens")
    scenario = recent_scenario(base / "scenario.toml", "d12-pay")
    api_port = free_port()
    transactions = f"http://127.0.0.1:{api_port}"
    services, dbs, procs = {}, {}, []
    clean = _base_env(base)
    for system in SYSTEMS:  # each outside system: its own process, its own database, no engine data
        port, home = free_port(), base / system
        home.mkdir()
        services[system], dbs[system] = f"http://127.0.0.1:{port}", home / f"{system}.db"
        log = home / "service.log"
        with open(log, "wb") as out:
            procs.append((subprocess.Popen(
                [EPROC, "stub", "serve", system, "--port", str(port), "--db", str(dbs[system]),
                 "--transactions-url", transactions], cwd=home, stdout=out, stderr=subprocess.STDOUT,
                env={**clean, "EPROC_DATA_DIR": str(home / "data")}), log))
    env = {**os.environ, "EPROC_DATA_DIR": str(world_dir), "SOFTHSM2_CONF": str(hsm.conf_path),
           "EPROC_TOKEN_PIN": PIN, "EPROC_DECISION_TIMEOUT": "900", "PYTHONPATH": str(ROOT),
           "EPROC_INTEGRATIONS": "http", "EPROC_FINANCIAL_URL": services["financial"],
           "EPROC_PROJECT_CONTROL_URL": services["project-control"],
           "EPROC_TRANSPARENCY_URL": services["transparency"]}
    s = Stack(run_dir, world_dir, env, {}, scenario)
    pg_dir = default_pg_dir(run_dir)
    shutil.rmtree(pg_dir, ignore_errors=True)
    try:
        for (proc, log), url in zip(procs, services.values()):
            _wait_http(url, proc, log)
        out = s.eproc("up", "--json", "--workers", "1", "--port", str(free_port()), "--pg-port", str(free_port()),
                      "--api-port", str(api_port), "--pg-dir", str(pg_dir), "--crash-after", "60")
        assert out.returncode == 0, out.stdout + out.stderr
        s.up = json.loads(out.stdout)
        office = {**clean, "EPROC_DATA_DIR": str(world_dir), "EPROC_DATABASE_URL": s.up["app_database_url"]}
        yield ContractStack(s, services, dbs, office, base)
    finally:
        s.eproc("down")
        shutil.rmtree(pg_dir, ignore_errors=True)
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=60)
    for _, log in procs:
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _pg_bin() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


def _office(cs: ContractStack, *args: str) -> dict[str, Any]:
    out = subprocess.run([EPROC, *args, "--json"], env=cs.office, cwd=ROOT, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def test_r13_contract_to_payment_with_every_party_at_its_own_station(contract_stack):
    from eproc.stack.lifecycle import API, start_api
    from eproc.stack.procs import PidDir
    from tests.e2e.stack.api import Api
    from tests.e2e.stack.world import prepare

    cs = contract_stack
    stack = cs.stack
    api = Api(stack.api_url)
    world = prepare(stack.world_dir, stack.up["app_database_url"], stack.scenario, [TID, TID2])
    pids = PidDir(stack.config.pids_dir)
    if (rec := pids.read(API)) is None or not rec.alive():  # the API starts once the world's CA exists
        from unittest import mock

        with mock.patch.dict(os.environ, stack.env):
            start_api(stack.config, pids)
    url = stack.transactions_url

    # 1. Both tenders run on the `tender` deployment (scripted answers) to the winner's signature; each
    # run's `eproc.tender.contracted` starts its contract's registration flow.
    for run in [_schedule(stack, tid) for tid in (TID, TID2)]:
        done = api.wait_state(run["id"], {"COMPLETED", "FAILED", "CRASHED"}, timeout=420)
        assert done["state_type"] == "COMPLETED", done["state"]
    for tid in (TID, TID2):
        _triggered(api, "contract-registration", {"tender_id": tid}, 1)

    # 2. Everyone at their own station: a token of their own, enrolled by the CA office.
    scenario = world.scenario
    member = {m.role: m.national_id for m in scenario.commission}
    people = {"officer": (world.staff["contracts_officer"], "contracts_officer"), "legal": (member["legal"], "legal"),
              "finance": (member["finance"], "finance"), "treasurer": (world.staff["treasurer"], "treasurer"),
              "chair": (member["chair"], "chair"), "supervisor": (world.staff["supervisor"], "supervisor"),
              "reviewer": (world.staff["employer_reviewer"], "employer_reviewer")}
    base = _base_env(cs.tmp)
    st = {name: Station(cs.tmp, name, nid, base) for name, (nid, _) in people.items()}

    def enroll(s: Station) -> None:
        out = s.run("ca", "enroll", "--person", s.national_id, "--token", s.label, env={**s.env, **_ca_env(cs)})
        assert out.returncode == 0, out.stdout + out.stderr

    for s in st.values():
        enroll(s)
    _office(cs, "contract", "registry", "budget-line", "--unit", world.unit, "--code", BUDGET_LINE,
            "--general-code", GENERAL_CODE)
    _office(cs, "contract", "registry", "expense-factor", "--code", FACTOR, "--committee-ref", "COM-1405-3")

    def act(name: str, *args: str, unit: str = world.unit, ok: bool = True) -> dict:
        s = st[name]
        full = ("contract", *args, "--server", url, "--token", s.label, "--unit", unit, "--role", people[name][1],
                "--json")
        if ok:
            return s.ok(*full)
        out = s.run(*full)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stdout + out.stderr
        return dict(json.loads(out.stdout)["error"])

    # 3. The contract's stages, each approved on its holder's token; every approval emits its event.
    for tid in (TID, TID2):
        opened = act("officer", "open", "--tender", tid)
        terms = act("officer", "terms", "--tender", tid, "--budget-line", BUDGET_LINE, "--expense-factor", FACTOR,
                    "--budget-allocation", ALLOCATION, "--supervisor", people["supervisor"][0])
        assert act("officer", "approve", "--tender", tid, "--sha256", terms["contract_sha256"])["stage"] == "legal_review"
        assert act("legal", "approve", "--tender", tid)["stage"] == "budget"
        assert act("finance", "approve", "--tender", tid)["stage"] == "treasurer"
    bidder = opened["bidder"]  # both tenders are the same rehearsal: the same winner
    company = next(b.national_id for b in scenario.bidders if b.id == bidder)
    people["contractor"] = (world.bidder_signatory[bidder], "company_signatory")
    st["contractor"] = Station(cs.tmp, "contractor", people["contractor"][0], base)
    enroll(st["contractor"])
    # PAY-2 stays at the treasurer's stage: no code, so nothing can be paid for it.
    assert act("treasurer", "approve", "--tender", TID)["stage"] == "signing"
    assert act("chair", "approve", "--tender", TID)["stage"] == "signing"
    final = act("contractor", "approve", "--tender", TID, unit=company)
    assert final["stage"] == "final" and final["code"], final
    code = final["code"]
    # the run the last approval started publishes it (R21) and registers it in project control (R14)
    api.wait(lambda: (code,) in _rows(cs, "transparency", "SELECT contract_code FROM ext_tp_releases"), 240,
             "the contract's release on the transparency site")
    _triggered(api, "contract-registration", {"tender_id": TID}, 7)  # contracted + 6 approvals, all by events

    # 4. The contractor's statement, signed in turn; each step starts the statements flow by its event.
    s1 = act("contractor", "statement", "submit", "--tender", TID, "--ref", "s1", "--item", "010101=۳۰۰۰",
             "--item", "020305=1500", unit=company)
    assert s1["next_role"] == "supervisor" and s1["contract_code"] == code
    _triggered(api, "status-statements", {"tender_id": TID, "ref": "s1"}, 1)
    assert act("supervisor", "statement", "sign", "--tender", TID, "--ref", "s1")["next_role"] == "employer_reviewer"
    assert act("reviewer", "statement", "sign", "--tender", TID, "--ref", "s1")["next_role"] == "treasurer"
    done = act("treasurer", "statement", "sign", "--tender", TID, "--ref", "s1")
    assert done["result"] == "approved" and done["payable_rial"] > 0

    # 5. The approval's event starts the payment; the financial service fetches by code and pays once.
    statement_id = f"{final['tracking_number']}/s1"
    paid = [(statement_id, done["payable_rial"])]
    api.wait(lambda: _rows(cs, "financial", "SELECT statement_id, amount_rial FROM ext_fin_payments") == paid,
             240, "the statement's payment in the financial system")
    runs = _triggered(api, "payments", {"tender_id": TID, "ref": "s1"}, 1)  # started by payment-requested
    # The operator runs the payment again from the UI (as after a crash): the store says it is paid.
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: stack.api_url}):
        again = run_deployment("payment/payments", parameters=dict(runs[0]["parameters"]), timeout=0,
                               as_subflow=False)
    rerun = api.wait_state(str(again.id), {"COMPLETED", "FAILED", "CRASHED"}, timeout=300)
    assert rerun["state_type"] == "COMPLETED", rerun["state"]
    assert _rows(cs, "financial", "SELECT statement_id, amount_rial FROM ext_fin_payments") == paid

    # 6. Refused with their codes (R28): a payment for the contract still at the treasurer's stage (no
    # code yet) and one that names no budget-allocation code, by the financial service itself.
    from domain.reasons import DomainError
    from integrations.financial import PaymentRequest
    from integrations.http.financial import HttpFinancialSystem

    def refused(call) -> str:
        with pytest.raises(DomainError) as caught:
            call()
        return caught.value.reason.value

    fin = HttpFinancialSystem(cs.services["financial"])
    try:
        pending = _tracking(stack, TID2)
        assert refused(lambda: fin.pay(PaymentRequest(
            payment_key="k-pending", contract_code=pending, statement_id=f"{pending}/s1", budget_line=BUDGET_LINE,
            expense_factor=FACTOR, amount_rial=1_000_000))) == "NO_CONTRACT_CODE"
        assert refused(lambda: fin.pay(PaymentRequest(
            payment_key="k-noalloc", contract_code=code, statement_id=statement_id, budget_line=BUDGET_LINE,
            expense_factor=FACTOR, amount_rial=done["payable_rial"], budget_allocation_code=""))) == "FIELD_MISSING"
    finally:
        fin.close()

    # 7. R25: the contractor put on the blacklist is not paid for its next statement; the refusal is the
    # engine's, recorded with its code, and the financial system is not asked.
    from domain.persian import format_jalali_date

    today = format_jalali_date(datetime.now(timezone.utc))
    _office(cs, "stub", "blacklist", "--company", company, "--from", today, "--reason", "تخلف در اجرای قرارداد",
            "--reference", "COM-1405-99")
    act("contractor", "statement", "submit", "--tender", TID, "--ref", "s2", "--item", "010101=۴۰۰۰",
        "--item", "020305=1500", unit=company)
    for name in ("supervisor", "reviewer", "treasurer"):
        last = act(name, "statement", "sign", "--tender", TID, "--ref", "s2")
    assert last["result"] == "approved"
    api.wait(lambda: _engine_rows(stack, "SELECT p.result, p.reason FROM payments p JOIN status_statements s ON "
                                         "p.statement_id = s.id WHERE s.ref = 's2'") == [("refused", "BLACKLISTED")],
             240, "the refused payment of s2")
    assert _rows(cs, "financial", "SELECT statement_id, amount_rial FROM ext_fin_payments") == paid


def _ca_env(cs: ContractStack) -> dict[str, str]:
    return {"EPROC_DATA_DIR": cs.office["EPROC_DATA_DIR"], "EPROC_DATABASE_URL": cs.office["EPROC_DATABASE_URL"]}


def _schedule(stack: Stack, tender_id: str) -> dict:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from eproc.stack.schedule import schedule_tender

    with temporary_settings({PREFECT_API_URL: stack.api_url}):
        return schedule_tender(tender_id, stack.up["app_database_url"],
                               job_variables={"env": {"EPROC_DECISIONS": f"scripted:{stack.scenario}"}})


def _deployment_id(api, name: str) -> str:
    found = [d for d in api.http.post("/deployments/filter", json={}).json() if d["name"] == name]
    assert found, name
    return str(found[0]["id"])


def _by_automation(api, run: dict) -> None:
    assert run["state_type"] == "COMPLETED", run["state"]
    assert run["created_by"] is not None and run["created_by"]["type"] == "AUTOMATION", run["created_by"]


def _triggered(api, deployment: str, parameters: dict[str, Any], count: int, timeout: float = 300) -> list[dict]:
    """At least `count` runs of `deployment` with exactly `parameters`, each started by its trigger (an
    automation, not a schedule or a person), each COMPLETED."""
    dep = _deployment_id(api, deployment)

    def found() -> list[dict] | None:
        runs = [r for r in api.runs(deployment_id={"any_": [dep]})
                if {k: r["parameters"].get(k) for k in parameters} == parameters]
        finished = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED")]
        return finished if len(finished) >= count else None

    runs = api.wait(found, timeout, f"{count} run(s) of {deployment} with {parameters}")
    for run in runs:
        _by_automation(api, run)
    return list(runs)


def _rows(cs: ContractStack, system: str, sql: str) -> list[tuple]:
    """Rows of an outside system's own database (read as the auditor would: the file, not its API)."""
    with sqlite3.connect(cs.service_dbs[system]) as db:
        return list(db.execute(sql).fetchall())


def _engine_rows(stack: Stack, sql: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    eng = create_engine(stack.up["app_database_url"])
    try:
        with eng.connect() as c:
            return [tuple(r) for r in c.execute(text(sql))]
    finally:
        eng.dispose()


def _tracking(stack: Stack, tender_id: str) -> str:
    from sqlalchemy import create_engine, text

    eng = create_engine(stack.up["app_database_url"])
    try:
        with eng.connect() as c:
            row = c.execute(text("SELECT tracking_number FROM contracts WHERE tender_id = :t"), {"t": tender_id}).scalar()
    finally:
        eng.dispose()
    assert row, tender_id
    return str(row)
