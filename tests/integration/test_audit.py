"""The hash-chained audit log: append-only, and any change, deletion or reordering is detected."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from domain.reasons import DomainError, Reason
from store import models as m
from store.audit import iter_entries, verify_chain
from store.triggers import create_statements, drop_statements
from store.uow import UnitOfWork


def _append(uow, clock, n):
    with uow() as u:
        for i in range(n):
            clock.advance(timedelta(seconds=1))
            u.record(at=clock.now(), actor="tester", action=f"act{i}", entity="tender", entity_id=f"T{i}",
                     reason=Reason.LATE_SUBMISSION if i == 2 else None, payload={"i": i, "متن": "آزمون"})
        u.commit()


def _verify(uow):
    with uow() as u:
        return verify_chain(iter_entries(u.session))


def _as_dba(engine, *statements):
    """A database administrator with full rights: drops the guard triggers, then tampers."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for stmt in drop_statements(dialect):
            conn.execute(text(stmt))
        for stmt in statements:
            conn.execute(text(stmt))
        for stmt in create_statements(dialect):
            conn.execute(text(stmt))


def test_chain_verifies(uow, clock):
    _append(uow, clock, 5)
    report = _verify(uow)
    assert report.ok and report.entries == 5


def test_changed_entry_is_detected(uow, clock, engine):
    _append(uow, clock, 5)
    _as_dba(engine, "UPDATE audit_log SET actor = 'intruder' WHERE seq = 3")
    report = _verify(uow)
    assert not report.ok and report.first_broken_seq == 3


def test_deleted_entry_is_detected(uow, clock, engine):
    _append(uow, clock, 5)
    _as_dba(engine, "DELETE FROM audit_log WHERE seq = 2")
    report = _verify(uow)
    assert not report.ok and report.first_broken_seq == 3


def test_reordered_entries_are_detected(uow, clock, engine):
    _append(uow, clock, 5)
    # Swap the contents of rows 2 and 4 (hashes travel with them), keeping seq order.
    cols = "at, actor, action, entity, entity_id, reason, payload_json, prev_hash, hash"
    _as_dba(engine,
            "CREATE TABLE tmp_swap AS SELECT * FROM audit_log WHERE seq IN (2, 4)",
            "DELETE FROM audit_log WHERE seq IN (2, 4)",
            f"INSERT INTO audit_log (seq, {cols}) SELECT 6 - seq, {cols} FROM tmp_swap",
            "DROP TABLE tmp_swap")
    report = _verify(uow)
    assert not report.ok and report.first_broken_seq == 2


def test_store_refuses_updates_and_deletes_of_audit_rows(uow, clock, engine):
    _append(uow, clock, 2)
    with uow() as u:
        entry = u.session.get(m.AuditEntry, 1)
        entry.actor = "someone else"
        with pytest.raises(DomainError) as exc:
            u.session.flush()
        assert exc.value.reason is Reason.AUDIT_APPEND_ONLY
    with uow() as u:
        with pytest.raises(DomainError):
            u.session.execute(update(m.AuditEntry).values(actor="x"))
    with uow() as u:
        u.session.delete(u.session.get(m.AuditEntry, 2))
        with pytest.raises(DomainError):
            u.session.flush()
    # Raw SQL bypasses the ORM: the database trigger refuses it.
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    assert _verify(uow).entries == 2


def test_concurrent_appenders_keep_one_linear_chain(sessions, clock, db_kind):
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(10):
                for _attempt in range(20):
                    try:
                        with UnitOfWork(sessions) as u:
                            u.record(at=clock.now(), actor=f"w{k}", action="tick", entity="x", entity_id=str(i))
                            u.commit()
                        break
                    except Exception as exc:  # a lost race on UNIQUE(prev_hash): retry
                        if "prev_hash" not in str(exc) and "locked" not in str(exc):
                            raise
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with UnitOfWork(sessions) as u:
        report = verify_chain(iter_entries(u.session))
    assert report.ok and report.entries == 40
