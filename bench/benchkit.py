"""What the database benchmarks share (not a benchmark itself: run.sh runs bench/bench_*.py only).

Imported as `benchkit` because a benchmark runs as a script (`.venv/bin/python bench/bench_x.py`),
which puts bench/ first on sys.path.
"""
from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text


def int_options(**defaults: int) -> argparse.Namespace:
    """The command line's `--some-name N` options, one per keyword (some_name=default), all integers."""
    parser = argparse.ArgumentParser()
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser.parse_args()


def database_kinds(*pg_url_env: str) -> list[str]:
    """SQLite always; PostgreSQL too when one of the `pg_url_env` variables names a server."""
    return ["sqlite"] + (["postgresql"] if any(os.environ.get(e) for e in pg_url_env) else [])


def fresh_database_url(kind: str, tmp: Path, prefix: str, *pg_url_env: str) -> str:
    """A new empty database: an SQLite file in `tmp`, or a new database on the PostgreSQL server
    named by the first of the `pg_url_env` variables that is set (KeyError when none is)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'{prefix}-{uuid.uuid4().hex[:6]}.db'}"
    base = next((os.environ[e] for e in pg_url_env[:-1] if os.environ.get(e)), None) or os.environ[pg_url_env[-1]]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def prepared_engine(url: str) -> Engine:
    """An engine on `url`, migrated, with the unit district-12 that the benchmark contracts use."""
    from store import models as m
    from store.db import make_engine
    from store.migrate import upgrade

    eng = make_engine(url)
    upgrade(eng)
    with eng.begin() as c:
        c.execute(insert(m.Unit), [{"id": "district-12", "code": "12", "name": "منطقهٔ ۱۲", "kind": "district"}])
    return eng
