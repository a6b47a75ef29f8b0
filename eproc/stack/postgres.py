"""A private PostgreSQL cluster for the stack (initdb + pg_ctl, listening on 127.0.0.1 only).

As root the cluster runs as the `postgres` system user, which needs a directory it can reach:
`pg_dir` therefore defaults to /var/tmp when the data directory lives under a private home."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from domain.reasons import DomainError, Reason
from eproc.stack.procs import PidDir, PidRecord

PID_NAME = "postgres"


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise DomainError(Reason.INVALID_INPUT, "PostgreSQL نصب نیست (apt-get install postgresql)")
    return found[-1].parent


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class Cluster:
    def __init__(self, pg_dir: Path, port: int) -> None:
        self.dir = Path(pg_dir)
        self.data = self.dir / "data"
        self.port = port

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(_as_postgres([str(pg_bin() / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)

    def start(self, pids: PidDir) -> PidRecord:
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=300 "
                "-c shared_buffers=64MB")
        subprocess.run(_as_postgres([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                                     "-w", "-t", "60", "-o", opts, "start"]), check=True, capture_output=True)
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.wait_ready()
        return pids.write(PID_NAME, pid, group=False)

    def stop(self, pids: PidDir) -> bool:
        from eproc.stack.procs import stop

        rec = pids.read(PID_NAME)
        if rec is None:
            return False
        ran = stop(rec, signal.SIGINT, timeout=30, tree=False)  # SIGINT: fast shutdown; it stops its backends
        pids.remove(PID_NAME)
        return ran

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                eng = create_engine(self.admin_url)
                with eng.connect() as conn:
                    conn.execute(text("SELECT 1"))
                eng.dispose()
                return
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


def ensure_database(admin_url: str, name: str) -> str:
    """Create database `name` next to `admin_url` if missing; return its SQLAlchemy URL (psycopg)."""
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
