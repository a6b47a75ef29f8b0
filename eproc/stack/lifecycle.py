"""`eproc up` and `eproc down`: start and stop the stack in order, every process by its pid file.

up:   PostgreSQL (private cluster unless an existing server is given) → the Prefect server on 127.0.0.1
      with its database on PostgreSQL, booting while the application database is migrated by its owner
      and the engine's own role made (eproc.stack.postgres.ensure_app_role) → the process work pool → the
      zombie-run automation → N workers, starting while the deployments from prefect.yaml are registered
      → the transactions API (`eproc serve` on 127.0.0.1:api_port, once the CA exists).
down: workers and the API → server → PostgreSQL (only the cluster `up` started)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from domain.reasons import DomainError, Reason
from eproc.stack.config import POOL, ROOT, RUN_PYTHON, StackConfig
from eproc.stack.postgres import PID_NAME as PG_PID, Cluster, ensure_app_role, ensure_database
from eproc.stack.procs import PidDir, spawn, stop

SERVER = "prefect-server"
API = "transactions-api"  # `eproc serve`
PREFECT = [sys.executable, "-m", "prefect"]


@dataclass(frozen=True)
class UpResult:
    ui_url: str
    api_url: str
    app_database_url: str
    deployments: list[str]
    skipped: list[str]
    pids: dict[str, int]
    transactions_api_url: str | None = None  # None: not started (no CA yet)

    def to_dict(self) -> dict:
        return {"ui_url": self.ui_url, "api_url": self.api_url, "app_database_url": self.app_database_url,
                "deployments": self.deployments, "skipped": self.skipped, "pids": self.pids,
                "transactions_api_url": self.transactions_api_url}


def worker_name(i: int) -> str:
    return f"worker-{i}"


def up(cfg: StackConfig, say: Callable[[str], None] = lambda _m: None) -> UpResult:
    pids = PidDir(cfg.pids_dir)
    if any(r.alive() for r in pids.records()):
        raise DomainError(Reason.INVALID_INPUT, f"پشته از پیش در حال اجراست؛ نخست «eproc down» را اجرا کنید ({cfg.run_dir})")
    cfg = cfg.with_secrets()
    cfg.save()
    try:
        if cfg.pg_url is None:
            say("PostgreSQL")
            cluster = Cluster(cfg.pg_dir, cfg.pg_port)
            cluster.init()
            cluster.start(pids)
            cluster.set_password("postgres", str(cfg.pg_password))
        owner_url = ensure_database(cfg.admin_url, cfg.app_db)
        ensure_database(cfg.admin_url, cfg.prefect_db)
        say("Prefect server")
        start_server(cfg, pids, wait=False)  # it boots (and migrates its own database) meanwhile
        _migrate(owner_url)  # as the owner of the tables; the engine's processes connect as app_role
        app_url = ensure_app_role(cfg.admin_url, cfg.app_db, cfg.app_role, str(cfg.app_password))
        wait_healthy(cfg, pids)
        say("work pool, automation")
        create_pool(cfg)
        _zombie_automation(cfg)
        say(f"{cfg.workers} worker(s), deployments")
        for i in range(1, cfg.workers + 1):  # they start and poll the pool while the deployments are registered
            start_worker(cfg, pids, i)
        deployed, skipped = deploy(cfg)
        wait_workers(cfg, {f"eproc-{worker_name(i)}" for i in range(1, cfg.workers + 1)})
        transactions_api = None
        if ca_present():
            say("transactions API (eproc serve)")
            start_api(cfg, pids)
            transactions_api = cfg.transactions_api_url
        else:
            say("transactions API not started: no CA yet («eproc ca init», then «eproc down» and «eproc up»)")
    except BaseException:
        down(cfg)
        raise
    return UpResult(cfg.ui_url, cfg.api_url, app_url, deployed, skipped,
                    {r.name: r.pid for r in pids.records()}, transactions_api)


def down(cfg: StackConfig) -> list[str]:
    """Stop workers and the transactions API, then the server, then PostgreSQL; return the names of
    processes stopped."""
    pids = PidDir(cfg.pids_dir)
    stopped = []
    records = pids.records()
    order = sorted(records, key=lambda r: (r.name == PG_PID, r.name == SERVER))
    for rec in order:
        if rec.name == PG_PID:
            if Cluster(cfg.pg_dir, cfg.pg_port).stop(pids):
                stopped.append(rec.name)
            continue
        if stop(rec):
            stopped.append(rec.name)
        pids.remove(rec.name)
    return stopped


def server_argv(cfg: StackConfig) -> list[str]:
    """`prefect server start` bound to 127.0.0.1 on the stack's port."""
    return PREFECT + ["server", "start", "--host", "127.0.0.1", "--port", str(cfg.port)]


def start_server(cfg: StackConfig, pids: PidDir, wait: bool = True) -> None:
    """Start the Prefect server; with `wait`, return once it answers its health check (`wait_healthy`)."""
    env = {**os.environ, **cfg.server_env()}
    spawn(pids, SERVER, server_argv(cfg), env, cfg.logs_dir / "server.log", ROOT)
    if wait:
        wait_healthy(cfg, pids)


def _wait_http(pids: PidDir, name: str, url: str, what_fa: str, log: Path, timeout: float, pause: float) -> None:
    """Wait until `url` answers 200 while the process `name` lives; refuse (INVALID_INPUT, with the log's
    path) when it dies or does not answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = pids.read(name)
        if rec is None or not rec.alive():
            raise DomainError(Reason.INVALID_INPUT, f"{what_fa} اجرا نشد؛ گزارش: {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(pause)
    raise DomainError(Reason.INVALID_INPUT, f"{what_fa} در {int(timeout)} ثانیه آماده نشد")


def wait_healthy(cfg: StackConfig, pids: PidDir, timeout: float = 180.0) -> None:
    """The Prefect server answers its health check."""
    _wait_http(pids, SERVER, f"{cfg.api_url}/health", "سرور Prefect", cfg.logs_dir / "server.log", timeout, 0.5)


def ca_present() -> bool:
    """Whether the CA certificate `eproc serve` needs exists (EPROC_DATA_DIR/ca/ca-cert.pem): the
    transactions API trusts nothing else, so it starts only once `eproc ca init` has run."""
    from config.settings import get_settings

    return (get_settings().data_dir / "ca" / "ca-cert.pem").exists()


def start_api(cfg: StackConfig, pids: PidDir, timeout: float = 120.0) -> None:
    """`eproc serve` on 127.0.0.1:api_port, as the engine's role; waits for /v1/health."""
    env = {**os.environ, **cfg.api_env()}
    eproc = str(Path(sys.executable).parent / "eproc")
    spawn(pids, API, [eproc, "serve", "--host", "127.0.0.1", "--port", str(cfg.api_port)], env,
          cfg.logs_dir / "api.log", ROOT)
    _wait_http(pids, API, f"{cfg.transactions_api_url}/v1/health", "رابط سامانهٔ معاملات", cfg.logs_dir / "api.log",
               timeout, 0.3)


def worker_argv(cfg: StackConfig, i: int) -> list[str]:
    """Process worker `eproc-worker-<i>` of the stack's pool (POOL)."""
    return PREFECT + ["worker", "start", "--pool", POOL, "--type", "process", "--name", f"eproc-{worker_name(i)}",
                      "--limit", str(cfg.worker_limit)]


def start_worker(cfg: StackConfig, pids: PidDir, i: int) -> None:
    """Start process worker `i` of the pool. Raises: INVALID_INPUT when this interpreter has no `python`
    beside it (prefect.yaml starts every run as `python -m prefect.engine` from the worker's PATH)."""
    if not RUN_PYTHON.exists():
        raise DomainError(Reason.INVALID_INPUT, f"کنار مفسر {sys.executable} فرمان python نیست؛ اجراهای جریان با "
                          "«python -m prefect.engine» آغاز می‌شوند: محیط مجازی پروژه (.venv) را به کار ببرید")
    env = {**os.environ, **cfg.worker_env()}
    spawn(pids, worker_name(i), worker_argv(cfg, i), env, cfg.logs_dir / f"{worker_name(i)}.log", ROOT)


def wait_workers(cfg: StackConfig, names: set[str], timeout: float = 120.0) -> None:
    """Workers count as up once they have polled the pool (their first heartbeat)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.post(f"{cfg.api_url}/work_pools/{POOL}/workers/filter", json={}, timeout=10)
        if r.status_code == 200 and names <= {w["name"] for w in r.json() if w.get("status") == "ONLINE"}:
            return
        time.sleep(0.5)
    raise DomainError(Reason.INVALID_INPUT, f"کارگرها در {int(timeout)} ثانیه آماده نشدند؛ گزارش‌ها: {cfg.logs_dir}")


def create_pool(cfg: StackConfig, base_env: Mapping[str, str] | None = None) -> None:
    """The process work pool (POOL) the deployments name and the workers poll; `base_env` as in `deploy`."""
    _prefect(cfg, ["work-pool", "create", POOL, "--type", "process", "--overwrite"], base_env)


def deploy(cfg: StackConfig, base_env: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Register prefect.yaml's deployments whose flow code is present in this checkout. The `prefect`
    command runs with `base_env` (default: this process's environment) plus the stack's Prefect settings.

    Returns (deployed names, skipped names). Raises: INVALID_INPUT when `prefect deploy` fails."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    present: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for d in spec["deployments"]:
        path = d["entrypoint"].split(":", 1)[0]
        (present if (ROOT / path).exists() else skipped).append(d)
    spec["deployments"] = present
    filtered = cfg.run_dir / "prefect.deploy.yaml"
    filtered.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _prefect(cfg, ["--no-prompt", "deploy", "--all", "--prefect-file", str(filtered)], base_env)
    return [d["name"] for d in present], [d["name"] for d in skipped]


def _prefect(cfg: StackConfig, args: list[str], base_env: Mapping[str, str] | None = None) -> str:
    env = {**(os.environ if base_env is None else base_env), **cfg.prefect_env(), "EPROC_ROOT": str(ROOT)}
    proc = subprocess.run(PREFECT + args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise DomainError(Reason.INVALID_INPUT, f"فرمان prefect {args[0]} ناموفق بود: {proc.stdout[-800:]} {proc.stderr[-800:]}")
    return proc.stdout


def _migrate(url: str) -> None:
    from store.db import make_engine
    from store.migrate import upgrade

    eng = make_engine(url)
    try:
        upgrade(eng)
    finally:
        eng.dispose()


def _zombie_automation(cfg: StackConfig) -> None:
    """Prefect's documented zombie detection: a flow run whose heartbeats stop (its worker or
    machine died) is marked Crashed, so operators see it and can rerun it. A run suspended while
    members act at their stations holds no process and sends no heartbeat: its suspension ends the
    watch (its resumption starts a new one)."""
    name = "eproc-crashed-runs"
    base = cfg.api_url
    found = httpx.post(f"{base}/automations/filter", json={"automations": {"name": {"any_": [name]}}}, timeout=30)
    found.raise_for_status()
    for a in found.json():
        httpx.delete(f"{base}/automations/{a['id']}", timeout=30).raise_for_status()
    body = {
        "name": name,
        "description": "اجرای بدون ضربان قلب را «Crashed» علامت می‌زند",
        "enabled": True,
        "trigger": {"type": "event", "posture": "Proactive", "match": {"prefect.resource.id": "prefect.flow-run.*"},
                    "after": ["prefect.flow-run.heartbeat"], "expect": ["prefect.flow-run.heartbeat",
                                                                        "prefect.flow-run.Completed",
                                                                        "prefect.flow-run.Failed",
                                                                        "prefect.flow-run.Cancelled",
                                                                        "prefect.flow-run.Crashed",
                                                                        "prefect.flow-run.Suspended"],
                    "for_each": ["prefect.resource.id"], "threshold": 1, "within": cfg.zombie_after},
        # Not forced: Prefect then refuses to turn a run that already finished into Crashed (a heartbeat
        # can reach the server after its Completed event), while a running or paused one still is.
        "actions": [{"type": "change-flow-run-state", "state": "CRASHED", "force": False,
                     "message": f"بیش از {cfg.zombie_after} ثانیه ضربان قلب دریافت نشد"}],
    }
    httpx.post(f"{base}/automations/", json=body, timeout=30).raise_for_status()


def config_for(run_dir: Path | None) -> StackConfig:
    from config.settings import get_settings
    from eproc.stack.config import default_pg_dir

    rd = Path(run_dir) if run_dir else get_settings().data_dir / "stack"
    return StackConfig.load(rd) or StackConfig(run_dir=rd, pg_dir=default_pg_dir(rd))
