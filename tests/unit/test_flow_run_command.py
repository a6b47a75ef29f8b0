"""Flow runs start the engine directly (issue 15 items 4 and 6): every deployment of prefect.yaml names
the runs' command, so Prefect's process worker does not start its workspace supervisor (~1.1 s of CPU
per run) before it, and the stack's workers find the project's interpreter first on their PATH."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

from eproc.stack.config import ROOT, StackConfig, interpreter_first_path

COMMAND = "python -m prefect.engine"


def test_every_deployment_names_the_engine_command() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    commands = {d["name"]: (d.get("work_pool") or {}).get("job_variables", {}).get("command")
                for d in spec["deployments"]}
    assert commands and set(commands.values()) == {COMMAND}, commands


def test_the_workers_find_this_interpreter_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    cfg = StackConfig(run_dir=tmp_path, pg_dir=tmp_path / "pg", port=1, workers=1)
    path = cfg.worker_env()["PATH"].split(os.pathsep)
    assert path == [str(Path(sys.executable).parent), "/usr/bin", "/bin"]
    python = Path(path[0]) / COMMAND.split()[0]
    assert python.exists() and python.resolve() == Path(sys.executable).resolve()
    assert interpreter_first_path("/opt/x").split(os.pathsep) == [str(Path(sys.executable).parent), "/opt/x"]


def test_the_stack_s_prefect_clients_retry_the_server_s_500_while_its_database_restarts(tmp_path: Path) -> None:
    """eproc.stack.config: Prefect's server answers 500 while its PostgreSQL restarts; every Prefect process
    of the stack (workers, the flow runs they start, the API, the CLI) reads a setting Prefect accepts."""
    import subprocess

    cfg = StackConfig(run_dir=tmp_path, pg_dir=tmp_path / "pg", port=1, workers=1)
    for env in (cfg.worker_env(), cfg.api_env(), cfg.prefect_env()):
        out = subprocess.run([sys.executable, "-c", "from prefect.settings import PREFECT_CLIENT_RETRY_EXTRA_CODES as s; "
                              "print(sorted(s.value()))"], env={**os.environ, **env}, capture_output=True, text=True,
                             timeout=60)
        assert out.stdout.strip() == "[500]", out.stdout + out.stderr
