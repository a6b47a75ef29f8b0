"""Hash-chained, append-only audit log.

Each entry's hash covers its content and the previous entry's hash, so a changed, deleted or
reordered entry breaks the chain at that point. UNIQUE(prev_hash) makes two concurrent
appenders that read the same tail collide instead of forking the chain; the loser retries.
The database refuses an insert anywhere but at the head (store/triggers.py). A chain recomputed
from scratch, or cut short, still verifies by itself: the engine's signed checkpoints of the head
(services/checkpoints.py, table `audit_checkpoints`) are what it no longer matches.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from domain.reasons import DomainError, Reason
from store.models import AuditCheckpoint, AuditEntry

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, entity: str, entity_id: str,
               reason: str | None, payload_json: str) -> str:
    body = json.dumps([prev_hash, at.isoformat(), actor, action, entity, entity_id, reason, payload_json],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def canonical_payload(payload: dict[str, Any] | None) -> str:
    return json.dumps(payload or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def append(session: Session, *, at: datetime, actor: str, action: str, entity: str, entity_id: str,
           reason: Reason | str | None = None, payload: dict[str, Any] | None = None) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders for this transaction; released at commit/rollback.
        session.execute(text("SELECT pg_advisory_xact_lock(7271300)"))
    # The tail may have been written by another session since this one started.
    session.flush()
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)) or GENESIS
    reason_code = reason.value if isinstance(reason, Reason) else reason
    pj = canonical_payload(payload)
    entry = AuditEntry(at=at, actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                       reason=reason_code, payload_json=pj, prev_hash=prev,
                       hash=entry_hash(prev, at, actor, action, entity, str(entity_id), reason_code, pj))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None
    problem: str | None

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "entries": self.entries, "first_broken_seq": self.first_broken_seq,
                "problem": self.problem}


def iter_entries(session: Session, after: int | None = None) -> Iterator[AuditEntry]:
    """Entries in chain order (those with seq above `after` when given), streamed."""
    q = select(AuditEntry)
    if after is not None:
        q = q.where(AuditEntry.seq > after)
    yield from session.scalars(q.order_by(AuditEntry.seq).execution_options(yield_per=2000))


def verify_chain(entries: Iterator[Any], prev: str = GENESIS) -> ChainReport:
    """Recompute the chain; report the first entry whose link or content does not match.

    `prev`: the hash the first of `entries` must link to (GENESIS for the whole log, a checkpoint's
    head hash for the entries after it)."""
    count = 0
    for e in entries:
        count += 1
        if e.prev_hash != prev:
            return ChainReport(False, count, e.seq, "پیوند با ردیف پیشین نمی‌خواند (ردیفی حذف یا جابه‌جا شده است)")
        expected = entry_hash(e.prev_hash, e.at, e.actor, e.action, e.entity, e.entity_id, e.reason, e.payload_json)
        if expected != e.hash:
            return ChainReport(False, count, e.seq, "محتوای ردیف با چکیدهٔ آن نمی‌خواند (ردیف تغییر کرده است)")
        prev = e.hash
    return ChainReport(True, count, None, None)


def export_jsonl(session: Session, out) -> int:
    n = 0
    for e in iter_entries(session):
        out.write(json.dumps({"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                              "entity": e.entity, "entity_id": e.entity_id, "reason": e.reason,
                              "payload_json": e.payload_json, "prev_hash": e.prev_hash, "hash": e.hash},
                             ensure_ascii=False) + "\n")
        n += 1
    return n


# --- append-only at the ORM level (the migration adds database triggers as well) ----------
@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _ctx, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (AuditEntry, AuditCheckpoint)) and (obj in session.deleted or session.is_modified(obj)):
            raise DomainError(Reason.AUDIT_APPEND_ONLY)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in (AuditEntry, AuditCheckpoint):
        raise DomainError(Reason.AUDIT_APPEND_ONLY)
