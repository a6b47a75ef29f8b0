"""Programmatic Alembic: `eproc db upgrade` and the drift check used by the tests. Alembic is imported
where it is used: a rehearsal that copies its cached schema (pilot.world.schema_template) reads only
MIGRATIONS here."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, MetaData

from store.metadata import all_metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def drift(engine: Engine) -> list:
    """Differences between the migrated database and the models (empty list: no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

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
