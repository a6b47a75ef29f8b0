"""Programmatic Alembic: `eproc db upgrade` and the drift check used by the tests."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

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
        return list(compare_metadata(ctx, merged_metadata()))


def merged_metadata() -> MetaData:
    # One MetaData for the comparison, else each one's tables look "removed" to the other.
    merged = MetaData()
    for meta in all_metadata():
        for table in meta.tables.values():
            table.to_metadata(merged)
    return merged
