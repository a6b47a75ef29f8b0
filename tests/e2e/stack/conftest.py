"""One production-like stack per test session (`eproc up`, two workers, private PostgreSQL, free
ports on 127.0.0.1) and one world of tokens, CA and registries on its application database."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from eproc.stack.config import StackConfig, default_pg_dir
from eproc.stack.procs import free_port

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "tests" / "artifacts"
PIN = "1357"


@dataclass
class Stack:
    run_dir: Path
    world_dir: Path
    env: dict[str, str]
    up: dict
    scenario: Path

    @property
    def api_url(self) -> str:
        return self.up["api_url"]

    @property
    def transactions_url(self) -> str:
        """The transactions system's own API (`eproc serve`), where members' stations connect."""
        return self.config.transactions_api_url

    @property
    def config(self) -> StackConfig:
        return StackConfig.load(self.run_dir)

    def eproc(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(Path(sys.executable).parent / "eproc"), *args, "--run-dir", str(self.run_dir)],
                              env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    from signing.softhsm import SoftHsm
    from tests.e2e.stack.world import recent_scenario

    base = tmp_path_factory.mktemp("stack")
    world_dir, run_dir = base / "world", base / "run"
    hsm = SoftHsm.for_process(world_dir / "tokens")  # the one this process uses, wherever it lives
    scenario = recent_scenario(base / "scenario.toml", "d12-stack")
    # The workers poll the pool every second (Prefect's default, 10 s, adds up to 10 s to every start
    # and every resume of a run); what the tests prove does not depend on how often they poll.
    env = {**os.environ, "EPROC_DATA_DIR": str(world_dir), "SOFTHSM2_CONF": str(hsm.conf_path),
           "EPROC_TOKEN_PIN": PIN, "EPROC_DECISION_TIMEOUT": "900", "EPROC_DECISION_POLL": "1", "PYTHONPATH": str(ROOT),
           "PREFECT_WORKER_QUERY_SECONDS": "1"}
    s = Stack(run_dir, world_dir, env, {}, scenario)
    pg_dir = default_pg_dir(run_dir)
    shutil.rmtree(pg_dir, ignore_errors=True)  # a cluster left by an earlier run with the same base dir
    out = s.eproc("up", "--json", "--workers", "2", "--port", str(free_port()), "--pg-port", str(free_port()),
                  "--api-port", str(free_port()),
                  "--pg-dir", str(pg_dir), "--crash-after", "60")
    try:
        assert out.returncode == 0, out.stdout + out.stderr
        s.up = json.loads(out.stdout)
        yield s
    finally:
        s.eproc("down")
        shutil.rmtree(pg_dir, ignore_errors=True)  # the private cluster's data lives outside tmp_path


@pytest.fixture(scope="session")
def world(stack):
    """Registries, tokens and CA; tenders are announced per test with `announce(ids)`."""
    from tests.e2e.stack.world import prepare

    return lambda ids: prepare(stack.world_dir, stack.up["app_database_url"], stack.scenario, ids)


@pytest.fixture(scope="session")
def members(stack):
    """`members(world)`: the commission of a prepared world at their own stations (tests/e2e/stack/members).
    Their API, `eproc serve`, starts with the first call: `eproc up` starts it only once a CA exists,
    and the world's CA is made after the stack is up (what an operator does: `eproc ca init`, then
    start the API)."""
    from unittest import mock

    from eproc.stack.lifecycle import API, start_api
    from eproc.stack.procs import PidDir
    from tests.e2e.stack.members import Members

    def of(world) -> Members:
        pids = PidDir(stack.config.pids_dir)
        rec = pids.read(API)
        if rec is None or not rec.alive():
            with mock.patch.dict(os.environ, stack.env):
                start_api(stack.config, pids)
        return Members(stack.transactions_url, world)

    return of


@pytest.fixture(scope="session")
def api(stack):
    from tests.e2e.stack.api import Api

    return Api(stack.api_url)


@pytest.fixture(scope="session")
def schedule(stack):
    """Create a tender's run from the `tender` deployment at its opening time (the production path)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from eproc.stack.schedule import schedule_tender

    def go(tender_id: str, scripted: bool = False, env: dict[str, str] | None = None) -> dict:
        run_env = {**({"EPROC_DECISIONS": f"scripted:{stack.scenario}"} if scripted else {}), **(env or {})}
        jv = {"env": run_env} if run_env else None
        with temporary_settings({PREFECT_API_URL: stack.api_url}):
            return schedule_tender(tender_id, stack.up["app_database_url"], job_variables=jv)

    return go
