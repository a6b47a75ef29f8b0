"""A small Prefect stack for end-to-end tests that run the engine as processes: `prefect server start`
on a free 127.0.0.1 port (its database SQLite under its own PREFECT_HOME), the `eproc-process` work
pool, the deployments of prefect.yaml registered as `eproc up` registers them, and one process worker.

The pieces are eproc.stack's own (StackConfig's Prefect settings, the server's and worker's command
lines, `create_pool`, `deploy`, `wait_healthy`, `wait_workers`, `down`); what differs from `eproc up`
is only what keeps a test small: no PostgreSQL, no zombie automation, and the scheduler service off,
so the hourly and daily deployments do not start runs during the test (a run created with
`run_deployment(scheduled_time=...)` does not need it). Every process gets exactly the environment the
caller gives it, never the test process's own (which may hold other tests' SOFTHSM2_CONF)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from eproc.stack import lifecycle
from eproc.stack.config import POOL, ROOT, StackConfig, interpreter_first_path
from eproc.stack.procs import PidDir, free_port, spawn

WORKER = 1  # the worker's index: process `worker-1`, named eproc-worker-1 in the pool


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any eproc, Prefect or SoftHSM setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EPROC_", "PREFECT_", "SOFTHSM2_"))}
    return {**env, "PYTHONPATH": str(ROOT), **(extra or {})}


class PrefectStack:
    def __init__(self, run_dir: Path) -> None:
        self.cfg = StackConfig(run_dir=run_dir, pg_dir=run_dir / "unused-pg", port=free_port(), workers=1)
        self.cfg.run_dir.mkdir(parents=True, exist_ok=True)
        self.pids = PidDir(self.cfg.pids_dir)
        self.deployments: list[str] = []

    @property
    def api_url(self) -> str:
        return self.cfg.api_url

    @property
    def worker_name(self) -> str:
        return f"eproc-{lifecycle.worker_name(WORKER)}"

    def log(self, name: str) -> str:
        path = self.cfg.logs_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def pid(self, name: str) -> int:
        rec = self.pids.read(name)
        assert rec is not None and rec.alive(), f"{name} is not running:\n{self.log(name)[-3000:]}"
        return rec.pid

    def start_server(self) -> None:
        """Start the server and return at once (it boots while the caller does other work)."""
        env = clean_env({**self.cfg.prefect_env(), "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"})
        spawn(self.pids, lifecycle.SERVER, lifecycle.server_argv(self.cfg), env, self.cfg.logs_dir / "server.log",
              ROOT)

    def deploy_and_start_worker(self, worker_env: Mapping[str, str]) -> None:
        """Once the server answers: the pool, prefect.yaml's deployments, one worker with `worker_env`
        (plus the Prefect settings and a one-second poll) on line in the pool."""
        lifecycle.wait_healthy(self.cfg, self.pids, timeout=120)
        base = clean_env()
        lifecycle.create_pool(self.cfg, base)
        env = clean_env({**worker_env, **self.cfg.prefect_env(), "PREFECT_WORKER_QUERY_SECONDS": "1"})
        env["PATH"] = interpreter_first_path(env.get("PATH"))  # the runs' `python` (prefect.yaml), as eproc up
        spawn(self.pids, lifecycle.worker_name(WORKER), lifecycle.worker_argv(self.cfg, WORKER), env,
              self.cfg.logs_dir / f"{lifecycle.worker_name(WORKER)}.log", ROOT)  # it starts while deploy runs
        self.deployments, skipped = lifecycle.deploy(self.cfg, base)
        assert not skipped, skipped
        lifecycle.wait_workers(self.cfg, {self.worker_name}, timeout=120)

    def deployment(self, name: str) -> dict:
        r = httpx.get(f"{self.api_url}/deployments/name/{name}", timeout=30)
        r.raise_for_status()
        return r.json()

    def stop(self) -> list[str]:
        """The worker (and the flow runs it started), then the server; by their pid files."""
        return lifecycle.down(self.cfg)


__all__ = ["POOL", "PrefectStack", "clean_env"]
