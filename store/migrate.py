"""Programmatic Alembic: `eproc db upgrade` and the drift check used by the tests."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from store.metadata import all_metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def drift(engine: Engine) -> list:
    """Differences between the migrated database and the models (empty list: no drift)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = []
        for meta in all_metadata():
            diffs.extend(d for d in compare_metadata(ctx, meta) if _ours(d, meta))
        return diffs


def _ours(diff, meta) -> bool:
    # compare_metadata against one MetaData reports the other's tables as "remove_table".
    if isinstance(diff, tuple) and diff[0] == "remove_table":
        table = diff[1]
        return not any(table.name in m.tables for m in all_metadata())
    return True
