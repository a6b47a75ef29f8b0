"""A private PostgreSQL cluster for the stack (initdb + pg_ctl, listening on 127.0.0.1 only), and
the application's own role on it.

As root the cluster runs as the `postgres` system user, which needs a directory it can reach:
`pg_dir` therefore defaults to /var/tmp when the data directory lives under a private home.
Authentication: `trust` only on the cluster's socket, in `pg_dir` (mode 0700); SCRAM passwords over
TCP. The engine connects as a role that owns no table, is not a superuser (so it can neither drop,
disable nor bypass the audit log's triggers) and may only read and append to the audit tables."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from domain.reasons import DomainError, Reason
from eproc.stack.procs import PidDir, PidRecord
from store.triggers import APPEND_ONLY_TABLES

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
        """The superuser through the cluster's own socket (the only place `trust` applies)."""
        return URL.create("postgresql+psycopg", username="postgres", database="postgres",
                          query={"host": str(self.dir), "port": str(self.port)}).render_as_string()

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(_as_postgres([str(pg_bin() / "initdb"), "-D", str(self.data), "-U", "postgres",
                                         "--auth-local=trust", "--auth-host=scram-sha-256",
                                         "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        # Also for a cluster an earlier version initialised with trust everywhere.
        hba = self.data / "pg_hba.conf"
        hba.write_text(HBA, encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(hba, "postgres", "postgres")

    def set_password(self, role: str, password: str) -> None:
        """Set `role`'s password (the superuser's, for TCP) through the socket; needs a running cluster."""
        eng = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as conn:
                conn.execute(text(f"ALTER ROLE {_ident(role)} PASSWORD {_literal(password)}"))
        finally:
            eng.dispose()

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


HBA = """# eproc stack: trust only on this cluster's own socket directory (mode 0700); passwords over TCP.
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""


def ensure_app_role(admin_url: str, database: str, role: str, password: str) -> str:
    """Create or update the engine's role and its grants on `database` (run after the migrations,
    as the owner); return the application's URL (as `role`).

    The role logs in with `password`, is not a superuser, creates no database or role, owns
    nothing; it may read and write the engine's tables, only read and append to the audit tables
    (store.triggers.APPEND_ONLY_TABLES: no UPDATE, DELETE or TRUNCATE, and without ownership no
    ALTER TABLE ... DISABLE TRIGGER), and only read the migrations' version table.

    Raises: INVALID_INPUT when `role` owns a table (the owner must take it back first)."""
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
            if not exists:
                conn.execute(text(f"CREATE ROLE {_ident(role)}"))
            conn.execute(text(f"ALTER ROLE {_ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                              f"NOBYPASSRLS PASSWORD {_literal(password)}"))
            conn.execute(text(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(role)}"))
    finally:
        eng.dispose()
    app_admin = make_url(admin_url).set(database=database)
    eng = create_engine(app_admin, isolation_level="AUTOCOMMIT")
    r = _ident(role)
    audit = ", ".join(_ident(t) for t in APPEND_ONLY_TABLES)
    try:
        with eng.connect() as conn:
            owners = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                       "AND tableowner = :r"), {"r": role}).scalars().all()
            if owners:
                raise DomainError(Reason.INVALID_INPUT, f"نقش {role} مالک جدول است: {', '.join(owners)}")
            for stmt in ("REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                         f"GRANT USAGE ON SCHEMA public TO {r}",
                         f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
                         f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
                         f"REVOKE UPDATE, DELETE ON {audit} FROM {r}",
                         f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}",
                         f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}"):
                conn.execute(text(stmt))
    finally:
        eng.dispose()
    return make_url(admin_url).set(username=role, password=password, database=database) \
        .render_as_string(hide_password=False)


_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise DomainError(Reason.INVALID_INPUT, f"نام نامعتبر برای PostgreSQL: {name!r}")
    return f'"{name}"'


def _literal(value: str) -> str:
    # DDL takes no bound parameters; generated passwords are URL-safe, anything else is refused.
    if not re.fullmatch(r"[A-Za-z0-9_\-]{8,200}", value):
        raise DomainError(Reason.INVALID_INPUT, "گذرواژهٔ PostgreSQL فقط از حروف و ارقام لاتین، - و _ باشد")
    return f"'{value}'"


def ensure_database(admin_url: str, name: str) -> str:
    """Create database `name` next to `admin_url` if missing; return its SQLAlchemy URL (psycopg)."""
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
