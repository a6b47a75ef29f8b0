"""Issue 15 item 1: a rehearsal's new SQLite store is a copy of a cached empty schema migrated to the
code's head (pilot.world.schema_template), so the migrations do not run in every rehearsal."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from pilot.world import schema_template
from store.db import make_engine
from store.migrate import drift


def test_the_cached_schema_is_the_migrated_head_and_is_made_once(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    root.mkdir(mode=0o700)
    made = schema_template(root)
    assert made is not None and made.is_file() and made.stat().st_mode & 0o077 == 0
    assert not Path(f"{made}-wal").exists()  # the log folded into the file: a copy is whole
    inode = made.stat().st_ino
    assert schema_template(root) == made and made.stat().st_ino == inode  # made once (then only touched)

    copy = tmp_path / "eproc.db"
    shutil.copyfile(made, copy)
    engine = make_engine(f"sqlite:///{copy}")
    try:
        assert drift(engine) == []  # every table, column and index of the models
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"  # as every store
    finally:
        engine.dispose()


def test_a_changed_migration_makes_another_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import store.migrate as migrate

    root = tmp_path / "templates"
    root.mkdir(mode=0o700)
    first = schema_template(root)
    changed = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, changed)
    (changed / "versions" / "0001_engine_tables.py").write_text(
        (changed / "versions" / "0001_engine_tables.py").read_text(encoding="utf-8") + "\n# changed\n",
        encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS", changed)
    second = schema_template(root)
    assert first is not None and second is not None and second != first
    assert first.is_file()  # another process may be copying it: kept for an hour


def test_a_changed_trigger_or_table_module_makes_another_schema(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The migrations call the store's code (the audit log's triggers, the tables): a change there is a
    change of the schema, though no migration file changed."""
    import store

    root = tmp_path / "templates"
    root.mkdir(mode=0o700)
    first = schema_template(root)
    package = tmp_path / "store"
    shutil.copytree(Path(store.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "triggers.py").write_text((package / "triggers.py").read_text(encoding="utf-8") + "\n# stricter\n",
                                         encoding="utf-8")
    monkeypatch.setattr(store, "__file__", str(package / "__init__.py"))
    second = schema_template(root)
    assert first is not None and second is not None and second != first
