"""R21: an audit log that cannot be rewritten unnoticed (issue 10, class 6).

The database takes an audit entry only at the head (no sequence at or below the last one, no
replace), and the engine's own token signs the chain head at every notice, receipt and final
minutes; the published checkpoints catch a log that an insider with the database file rewrote with
recomputed hashes, or cut short. The attacks are done the way an insider would: raw SQL on the
engine's SQLite file, dropping the guards first where the file allows it."""
from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from store.audit import entry_hash, iter_entries, verify_chain
from store.uow import UnitOfWork

GENESIS = "0" * 64


def _append(uow, clock, n):
    with uow() as u:
        for i in range(n):
            clock.advance(timedelta(seconds=1))
            u.record(at=clock.now(), actor="tester", action=f"act{i}", entity="tender", entity_id=f"T{i}",
                     payload={"i": i})
        u.commit()


def _forged_row(seq: int, prev_hash: str, actor: str = "intruder") -> dict:
    """A well-formed entry (its hash recomputed) to be written at `seq` after `prev_hash`."""
    at = datetime(2021, 7, 1, 8, 0, tzinfo=timezone.utc)
    payload = json.dumps({"i": seq}, separators=(",", ":"))
    digest = entry_hash(prev_hash, at, actor, "act", "tender", "T", None, payload)
    return {"seq": seq, "at": at, "actor": actor, "action": "act", "entity": "tender", "entity_id": "T",
            "reason": None, "payload_json": payload, "prev_hash": prev_hash, "hash": digest}


_INSERT = ("INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, reason, payload_json, prev_hash, hash) "
           "VALUES (:seq, :at, :actor, :action, :entity, :entity_id, :reason, :payload_json, :prev_hash, :hash)")


def _hashes(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [(int(s), h) for s, h in conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq"))]


# --- the insert guard ---------------------------------------------------------------------------

def test_r21_insert_guard_refuses_a_sequence_at_or_below_the_last(uow, clock, engine):
    _append(uow, clock, 5)
    before = _hashes(engine)
    # Below every entry (no key conflict at all), and inside the chain after the head's hash.
    for seq, prev in ((0, GENESIS), (-7, before[-1][1])):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(_INSERT), _forged_row(seq, prev))
    # Above the head but not linked to it: a fork, refused too.
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(_INSERT), _forged_row(9, before[1][1]))
    assert _hashes(engine) == before
    # The engine's own appends still go through, at the head.
    _append(uow, clock, 1)
    with uow() as u:
        assert verify_chain(iter_entries(u.session)).ok


def test_r21_insert_cannot_replace_an_entry(uow, clock, engine, db_kind):
    """SQLite's INSERT OR REPLACE deletes the old row without firing DELETE triggers; PostgreSQL's
    ON CONFLICT DO UPDATE is an update. Both are refused, with the entry's hash recomputed."""
    _append(uow, clock, 5)
    before = _hashes(engine)
    forged = _forged_row(3, before[1][1])
    if db_kind == "sqlite":
        statements = [("", _INSERT.replace("INSERT", "INSERT OR REPLACE", 1)),
                      ("PRAGMA recursive_triggers = ON", _INSERT.replace("INSERT", "REPLACE", 1))]
    else:
        statements = [("", _INSERT + " ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor, hash = excluded.hash")]
    for pragma, stmt in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                if pragma:
                    conn.exec_driver_sql(pragma)
                conn.execute(text(stmt), forged)
    assert _hashes(engine) == before


# --- checkpoints: a pilot world with its tender announced and every bid received ------------------

@pytest.fixture
def world(tmp_path):
    from tests.e2e.pilot_harness import world_with_bids

    world, _scenario = world_with_bids(tmp_path)
    return world


def _published(world) -> list[tuple[str, bytes]]:
    """What an auditor downloads from the announcement portal."""
    return [(f"{p.seq:010d}.xml", p.xml) for p in world.deps.portal.checkpoints()]


def _verify(world, published):
    from services.checkpoints import verify_checkpoints

    return verify_checkpoints(world.deps.sessions, world.deps.ca_cert, published)


def _db(world) -> sqlite3.Connection:
    return sqlite3.connect(world.base_dir / "eproc.db")


def _drop_guards(db: sqlite3.Connection) -> None:
    """The insider holds the file: every guard on it can be dropped."""
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')


def _recompute_from(db: sqlite3.Connection, start: int, change) -> None:
    """Rewrite every entry from `start` (the first changed by `change(row) -> row`) with its hash and
    its successors' links recomputed, by INSERT OR REPLACE, as the published formula says."""
    rows = db.execute("SELECT seq, at, actor, action, entity, entity_id, reason, payload_json, prev_hash, hash "
                      "FROM audit_log WHERE seq >= ? ORDER BY seq", (start,)).fetchall()
    prev = db.execute("SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1", (start,)).fetchone()[0]
    for i, row in enumerate(rows):
        seq, at, actor, action, entity, entity_id, reason, payload = row[:8]
        if i == 0:
            actor, payload = change(actor, payload)
        when = datetime.fromisoformat(at).replace(tzinfo=timezone.utc)
        digest = entry_hash(prev, when, actor, action, entity, entity_id, reason, payload)
        db.execute("INSERT OR REPLACE INTO audit_log (seq, at, actor, action, entity, entity_id, reason, "
                   "payload_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (seq, at, actor, action, entity, entity_id, reason, payload, prev, digest))
        prev = digest


def _receipt_seq(db: sqlite3.Connection, n: int) -> int:
    """The sequence number of the `n`-th (from 0) bid receipt in the log."""
    rows = db.execute("SELECT seq FROM audit_log WHERE action = 'bid.received' ORDER BY seq").fetchall()
    return int(rows[n][0])


def _forge_b1_receipt(actor: str, payload: str) -> tuple[str, str]:
    data = json.loads(payload)
    data["hashes"]["C"] = "f" * 64  # the insider's own price envelope
    return actor, json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def test_r21_checkpoints_are_signed_stored_and_published_at_the_notice_and_every_receipt(world):
    from services.checkpoints import checkpoint, stored_checkpoints

    stored = stored_checkpoints(world.deps)
    occasions = [c.occasion for c in stored]
    assert occasions[0].startswith("notice:") and sum(o.startswith("receipt:") for o in occasions) == 5
    with world.deps.uow() as uow:
        head = uow.audit.head()
    assert stored[-1].seq == head[0] and stored[-1].head_hash == head[1]
    assert [(f"{c.seq:010d}.xml", c.xml) for c in stored] == _published(world)
    report = _verify(world, _published(world))
    assert report.ok and report.checked == len(stored) and report.newest_seq == head[0]
    # Idempotent: nothing new in the log, nothing new signed or published.
    again = checkpoint(world.deps, "hourly")
    assert again == stored[-1] and len(stored_checkpoints(world.deps)) == len(stored)


def test_r21_a_checkpoint_verifies_with_xmlsec1(world):
    from signing.outside import verify_all_with_xmlsec1, xmlsec1_available

    if not xmlsec1_available():
        pytest.skip("xmlsec1 is not installed")
    ca_pem = world.ca.ca_certificate_pem()
    _name, xml = _published(world)[-1]
    assert [ok for _i, ok, _out in verify_all_with_xmlsec1(xml, ca_pem)] == [True]
    changed = xml.replace(b'<Head seq="', b'<Head seq="1', 1)
    assert [ok for _i, ok, _out in verify_all_with_xmlsec1(changed, ca_pem)] == [False]


def test_r21_rewritten_log_with_recomputed_hashes_is_detected(world):
    from domain.reasons import DomainError, Reason
    from services.checkpoints import checkpoint

    published = _published(world)
    db = _db(world)
    first = _receipt_seq(db, 0)
    # With the guards in place the rewrite is refused outright.
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        _recompute_from(db, first, _forge_b1_receipt)
    db.rollback()
    _drop_guards(db)
    _recompute_from(db, first, _forge_b1_receipt)
    db.commit()
    db.close()
    with world.deps.uow() as uow:
        assert uow.audit.verify().ok  # the chain by itself no longer tells
    report = _verify(world, published)
    assert not report.ok
    assert {p.problem for p in report.problems} == {"rewritten"}
    assert min(p.seq for p in report.problems) == first
    assert all(p.reason is Reason.AUDIT_APPEND_ONLY and "بازنویسی" in p.message for p in report.problems)
    # Nor does the engine sign a new head over the rewritten log.
    with pytest.raises(DomainError) as err:
        checkpoint(world.deps, "hourly")
    assert err.value.reason is Reason.AUDIT_APPEND_ONLY


def test_r21_truncated_log_is_detected(world):
    published = _published(world)
    heads = sorted(int(name.split(".")[0]) for name, _x in published)
    cut = heads[-2] - 1  # the log loses its entries from the second-newest published head on
    db = _db(world)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit_log WHERE seq > ?", (cut,))
    _drop_guards(db)
    db.execute("DELETE FROM audit_log WHERE seq > ?", (cut,))
    db.commit()
    db.close()
    with world.deps.uow() as uow:
        assert uow.audit.verify().ok
    report = _verify(world, published)
    assert [(p.seq, p.problem) for p in report.problems] == [(heads[-2], "truncated"), (heads[-1], "truncated")]
    assert report.stored_last_seq == cut and "کوتاه‌تر" in report.problems[0].message


def test_r21_published_checkpoints_still_catch_a_rewrite_when_the_stored_ones_are_gone(world):
    """The insider also empties the engine's own checkpoint table, so the engine signs the forged
    head: the portal refuses another document for a head it published, and what was published
    before still disagrees with the log."""
    from domain.reasons import DomainError, Reason
    from services.checkpoints import checkpoint

    published = _published(world)
    db = _db(world)
    _drop_guards(db)
    _recompute_from(db, _receipt_seq(db, 1), _forge_b1_receipt)
    db.execute("DELETE FROM audit_checkpoints")
    db.commit()
    db.close()
    with pytest.raises(DomainError) as err:
        checkpoint(world.deps, "hourly")  # same head sequence, another hash: the portal says no
    assert err.value.reason is Reason.INVALID_INPUT and len(_published(world)) == len(published)
    with world.deps.uow() as uow:
        uow.record(at=world.clock.now(), actor="engine", action="tick", entity="x", entity_id="1")
        uow.commit()
    forged = checkpoint(world.deps, "hourly")
    assert forged is not None and _verify(world, [(f"{forged.seq:010d}.xml", forged.xml)]).ok
    report = _verify(world, published)
    assert not report.ok and {p.problem for p in report.problems} == {"rewritten"}


def test_r21_checkpoint_signed_by_anyone_but_the_engine_or_altered_is_refused(world):
    from lxml import etree

    from domain.documents.checkpoint import ChainHead, build_checkpoint

    member = world.member_nid[world.scenario.commission[0].id]
    with world.deps.uow() as uow:
        head = ChainHead(*uow.audit.head())
    doc = build_checkpoint(head, world.clock.now(), "forged")
    by_member = world.signer(member).sign(doc, world.clock, "transactions_system", "municipality")
    _name, genuine = _published(world)[-1]
    other = ("1" if head.hash[0] == "0" else "0") + head.hash[1:]
    altered = genuine.replace(f'hash="{head.hash}"'.encode(), f'hash="{other}"'.encode())
    assert altered != genuine
    report = _verify(world, [("member.xml", etree.tostring(by_member)), ("altered.xml", altered),
                             ("junk.xml", b"<x/>")])
    reasons = {p.source: p.reason.value for p in report.problems}
    assert reasons["member.xml"] == "SIGNER_NOT_IN_ROLE"
    assert reasons["altered.xml"] in ("SIGNATURE_INVALID", "MALFORMED_XML")
    assert reasons["junk.xml"] == "MALFORMED_XML"
    assert {p.problem for p in report.problems} == {"signature"}


# --- PostgreSQL: the application's role cannot rewrite the log ------------------------------------

@pytest.mark.postgres
@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_r21_application_role_cannot_change_or_unguard_the_audit_log(engine, clock):
    """`eproc up` connects the engine as a role that owns no audit table and is no superuser."""
    from eproc.stack.postgres import ensure_app_role
    from store.db import make_engine, session_factory

    owner_url = engine.url  # the migrations ran as the owner
    database = str(owner_url.database)
    admin_url = owner_url.set(database="postgres").render_as_string(hide_password=False)
    role = f"app_{uuid.uuid4().hex[:10]}"
    app = make_engine(ensure_app_role(admin_url, database, role, "s3cret-" + uuid.uuid4().hex))
    try:
        sessions = session_factory(app)
        _append(lambda: UnitOfWork(sessions), clock, 3)  # the application appends at the head
        with app.connect() as conn:
            assert conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) is False
            owners = set(conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename IN "
                                           "('audit_log', 'audit_checkpoints')")).scalars())
        assert owners and role not in owners
        for stmt in ("UPDATE audit_log SET actor = 'intruder'", "DELETE FROM audit_log WHERE seq = 3",
                     "TRUNCATE audit_log", "ALTER TABLE audit_log DISABLE TRIGGER ALL",
                     "DROP TRIGGER audit_log_insert_at_head ON audit_log",
                     "SET session_replication_role = replica", "DELETE FROM audit_checkpoints",
                     "CREATE TABLE audit_copy (x int)"):
            with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                with app.begin() as conn:
                    conn.execute(text(stmt))
        with pytest.raises(DBAPIError, match="append-only"):
            with app.begin() as conn:
                conn.execute(text(_INSERT), _forged_row(0, GENESIS))
        with app.begin() as conn:
            conn.execute(text("UPDATE units SET name = name"))  # the rest of the engine's tables stay writable
        with UnitOfWork(sessions) as u:
            assert verify_chain(iter_entries(u.session)).entries == 3
    finally:
        app.dispose()
        with engine.connect() as conn:  # roles are the cluster's: leave none behind
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
            conn.commit()


def test_r21_hourly_checkpoint_deployment_is_declared():
    import yaml

    from eproc import entrypoints

    root = Path(__file__).resolve().parents[2]
    spec = {d["name"]: d for d in yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]}
    hourly = spec["audit-checkpoint"]
    assert hourly["entrypoint"] == "eproc/entrypoints.py:audit_checkpoint"
    assert [s["cron"] for s in hourly["schedules"]] == ["0 * * * *"]
    assert callable(entrypoints.audit_checkpoint)
    assert os.path.exists(root / hourly["entrypoint"].split(":")[0])
