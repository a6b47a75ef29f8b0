"""Where the stack keeps its state and how its processes are configured (environment only:
Prefect reads PREFECT_* settings, the engine EPROC_*; nothing is set by hand in a UI)."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: prefect.yaml and the flows live here
POOL = "eproc-process"
STATE_FILE = "stack.json"


def default_pg_dir(run_dir: Path) -> Path:
    """As root PostgreSQL runs as `postgres`, which cannot enter root's private home directory."""
    if os.geteuid() == 0:
        tag = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:10]
        return Path("/var/tmp") / f"eproc-pg-{tag}"
    return run_dir / "pg"


@dataclass
class StackConfig:
    run_dir: Path
    pg_dir: Path
    pg_port: int = 54340
    port: int = 4200
    workers: int = 1
    worker_limit: int = 8
    pg_url: str | None = None          # an existing PostgreSQL (admin URL) instead of a private cluster
    app_db: str = "eproc"
    prefect_db: str = "prefect"
    zombie_after: int = 120            # seconds without a heartbeat before a run is marked Crashed
    heartbeat: int = 30

    @property
    def pids_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return self.pg_url or f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/postgres"

    def db_url(self, name: str, driver: str = "psycopg") -> str:
        base = self.admin_url.rsplit("/", 1)[0].replace("+psycopg", f"+{driver}", 1)
        return f"{base}/{name}"

    def prefect_env(self) -> dict[str, str]:
        """What every Prefect process of the stack (server, CLI, workers) is configured with."""
        return {
            "PREFECT_HOME": str(self.run_dir / "prefect-home"),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_API_URL": self.api_url,
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(self.heartbeat),
            "PREFECT_CLI_PROMPT": "false",
        }

    def server_env(self) -> dict[str, str]:
        return {**self.prefect_env(),
                "PREFECT_API_DATABASE_CONNECTION_URL": self.db_url(self.prefect_db, "asyncpg")}

    def worker_env(self) -> dict[str, str]:
        """Flow runs inherit the worker's environment: the app database and the engine's settings."""
        return {**self.prefect_env(), "EPROC_DATABASE_URL": self.db_url(self.app_db)}

    def save(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        (self.run_dir / STATE_FILE).write_text(json.dumps(data, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, run_dir: Path) -> StackConfig | None:
        path = Path(run_dir) / STATE_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        data["run_dir"], data["pg_dir"] = Path(data["run_dir"]), Path(data["pg_dir"])
        return cls(**data)
