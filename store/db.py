"""Engines for SQLite (embedded default) and PostgreSQL (production)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from domain.reasons import DomainError, Reason


def make_engine(url: str, *, check: bool = True) -> Engine:
    try:
        if url.startswith("sqlite"):
            path = url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            # SQLite's own BEGIN is deferred; writers must take the lock up front so the
            # audit chain and payment checks are serialised.
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        else:
            # Idle connections kept up to the API's usual concurrency: with 5, a deadline burst (8
            # clients) closed and reopened backends all along, ~5 ms of PostgreSQL CPU per bid
            # (bench/bench_burst.py, RESULTS "fourth pass"). The cap (32) bounds one process.
            engine = create_engine(url, pool_pre_ping=True, pool_size=16, max_overflow=16)
    except (ArgumentError, ImportError) as exc:
        raise DomainError(Reason.STORE_UNREACHABLE, f"نشانی پایگاه داده نامعتبر است: {exc}") from exc
    if check:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise DomainError(Reason.STORE_UNREACHABLE, _hide_password(url)) from exc
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN IMMEDIATE
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL stays consistent after any crash; only a power cut can lose the last commits.
    # Production runs on PostgreSQL; this is the embedded pilot default.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)
