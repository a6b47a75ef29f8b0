"""R21 (issue 10, class 6): the engine's stored checkpoints cannot be replaced or back-filled.

`audit_checkpoints` was guarded against UPDATE and DELETE only: SQLite's `INSERT OR REPLACE ... SELECT
<id of the newest row>, seq, ...` deleted the newest checkpoints without firing a DELETE trigger. The
insert guard (migration 0008) refuses any insert that would replace a stored id or seq, or that is
not above the newest checkpoint, on SQLite (whatever the pragmas) and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

_INSERT = ("INSERT INTO audit_checkpoints (seq, head_hash, taken_at, reason, xml) "
           "VALUES (:seq, :head_hash, :taken_at, :reason, :xml)")


def _row(seq: int) -> dict:
    return {"seq": seq, "head_hash": f"{seq:064x}", "taken_at": datetime(2021, 7, 1, 8, seq, tzinfo=timezone.utc),
            "reason": f"receipt:{seq}", "xml": b"<Checkpoint/>"}


def _stored(engine) -> list[tuple[int, int, str]]:
    with engine.connect() as conn:
        return [(int(i), int(s), h) for i, s, h in
                conn.execute(text("SELECT id, seq, head_hash FROM audit_checkpoints ORDER BY seq"))]


def _seed(engine) -> list[tuple[int, int, str]]:
    for seq in (2, 5, 7):
        with engine.begin() as conn:
            conn.execute(text(_INSERT), _row(seq))
    return _stored(engine)


def test_r21_checkpoint_insert_or_replace_cannot_delete_later_checkpoints(engine, db_kind):
    before = _seed(engine)
    newest_id = before[-1][0]
    if db_kind == "sqlite":
        attacks = [
            ("", f"INSERT OR REPLACE INTO audit_checkpoints (id, seq, head_hash, taken_at, reason, xml) "
                 f"SELECT {newest_id}, seq, head_hash, taken_at, reason, xml FROM audit_checkpoints WHERE seq = 2"),
            ("PRAGMA recursive_triggers = ON",
             f"REPLACE INTO audit_checkpoints (id, seq, head_hash, taken_at, reason, xml) "
             f"SELECT {newest_id}, 9, head_hash, taken_at, reason, xml FROM audit_checkpoints WHERE seq = 2"),
            ("", "INSERT OR REPLACE INTO audit_checkpoints (seq, head_hash, taken_at, reason, xml) "
                 "SELECT seq, 'f', taken_at, reason, xml FROM audit_checkpoints WHERE seq = 7"),
        ]
    else:
        attacks = [
            ("", f"INSERT INTO audit_checkpoints (id, seq, head_hash, taken_at, reason, xml) "
                 f"SELECT {newest_id}, 9, head_hash, taken_at, reason, xml FROM audit_checkpoints WHERE seq = 2 "
                 "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq"),
            ("", f"INSERT INTO audit_checkpoints (id, seq, head_hash, taken_at, reason, xml) "
                 f"SELECT {newest_id}, 9, head_hash, taken_at, reason, xml FROM audit_checkpoints WHERE seq = 2 "
                 "ON CONFLICT DO NOTHING"),
        ]
    for pragma, stmt in attacks:
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                if pragma:
                    conn.exec_driver_sql(pragma)
                conn.execute(text(stmt))
    assert _stored(engine) == before


def test_r21_checkpoint_insert_only_above_the_newest(engine):
    before = _seed(engine)
    for seq in (0, 3, 6, 7):  # below, between, and at the newest
        with pytest.raises(IntegrityError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(_INSERT), _row(seq))
    assert _stored(engine) == before
    with engine.begin() as conn:  # the engine's own next checkpoint still goes in
        conn.execute(text(_INSERT), _row(8))
    assert [s for _i, s, _h in _stored(engine)] == [2, 5, 7, 8]


def test_r21_checkpoint_store_reads_a_concurrent_checkpoint_at_the_same_seq(uow, clock):
    """add_once (another process stored that head first) still returns the stored one."""
    from store import models as m

    with uow() as u:
        first = u.checkpoints.add_once(m.AuditCheckpoint(seq=4, head_hash="a" * 64, taken_at=clock.now(),
                                                         reason="notice:T", xml=b"<a/>"))
        u.commit()
        first_id = first.id
    with uow() as u:
        row = m.AuditCheckpoint(seq=4, head_hash="b" * 64, taken_at=clock.now(), reason="hourly", xml=b"<b/>")
        u.session.add(row)
        with pytest.raises(IntegrityError, match="append-only|UNIQUE|unique"):
            u.session.flush()
    with uow() as u:
        again = u.checkpoints.add_once(m.AuditCheckpoint(seq=4, head_hash="b" * 64, taken_at=clock.now(),
                                                         reason="hourly", xml=b"<b/>"))
        assert again.id == first_id and again.head_hash == "a" * 64


# --- `eproc audit verify` holds the log against the stored checkpoints, no file needed ---------------

def _world(tmp_path):
    from tests.e2e.pilot_harness import world_with_bids

    world, _scenario = world_with_bids(tmp_path)
    return world


def _eproc_verify(world, *extra: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "EPROC_DATA_DIR": str(world.base_dir)}
    env.pop("EPROC_DATABASE_URL", None)
    return subprocess.run([str(Path(sys.executable).parent / "eproc"), "audit", "verify", *extra],
                          capture_output=True, text=True, env=env, timeout=120)


def _insider(world):
    import sqlite3

    db = sqlite3.connect(world.base_dir / "eproc.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    return db


def _newest_stored(world) -> int:
    with world.deps.uow() as u:
        return int(u.checkpoints.latest().seq)


def test_r21_audit_verify_without_file_catches_a_log_truncated_below_a_stored_checkpoint(tmp_path):
    import json

    world = _world(tmp_path)
    proc = _eproc_verify(world, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["stored_checkpoints"]["checked"] >= 6
    newest = _newest_stored(world)
    db = _insider(world)
    db.execute("DELETE FROM audit_log WHERE seq > ?", (newest - 2,))
    db.commit()
    db.close()
    proc = _eproc_verify(world, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["chain_ok"] is True and report["ok"] is False
    assert {p["problem"] for p in report["stored_checkpoints"]["problems"]} == {"truncated"}
    text = _eproc_verify(world)
    assert text.returncode == 2 and "کوتاه‌تر" in text.stdout and "Traceback" not in text.stdout + text.stderr


def test_r21_audit_verify_without_file_catches_a_rewritten_entry_at_a_checkpointed_seq(tmp_path):
    import json
    from datetime import datetime, timezone

    from store.audit import entry_hash

    world = _world(tmp_path)
    seq = _newest_stored(world)
    db = _insider(world)
    prev = db.execute("SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1", (seq,)).fetchone()[0]
    rows = db.execute("SELECT seq, at, actor, action, entity, entity_id, reason, payload_json FROM audit_log "
                      "WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
    for s, at, actor, action, entity, entity_id, reason, payload in rows:
        actor = "b9" if s == seq else actor
        digest = entry_hash(prev, datetime.fromisoformat(at).replace(tzinfo=timezone.utc), actor, action, entity,
                            entity_id, reason, payload)
        db.execute("INSERT OR REPLACE INTO audit_log (seq, at, actor, action, entity, entity_id, reason, "
                   "payload_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (s, at, actor, action, entity, entity_id, reason, payload, prev, digest))
        prev = digest
    db.commit()
    db.close()
    proc = _eproc_verify(world, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["chain_ok"] is True
    problems = report["stored_checkpoints"]["problems"]
    assert [(p["seq"], p["problem"], p["reason"]) for p in problems] == [(seq, "rewritten", "AUDIT_APPEND_ONLY")]
