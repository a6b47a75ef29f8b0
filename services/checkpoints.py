"""Audit checkpoints (R21; tender-rules "Stations and trust"): the engine's own token signs the
audit chain's head (sequence and hash) at every notice, receipt and final minutes and at least
hourly (deployment `audit-checkpoint`). Each checkpoint is stored (`audit_checkpoints`, append-only)
and published on the announcement portal; the pilot's evidence bundle carries them too.
`verify_checkpoints` (`eproc audit verify --checkpoints`) holds the stored log against published
checkpoints: a log rewritten with recomputed hashes, or cut short, no longer matches them.

Call `checkpoint` only after the caller's own unit of work has ended: it opens its own (two short
ones around the token's signature), and on SQLite a unit of work holds the write lock.

Receipts (`checkpoint(..., covering=seq)`): what a receipt needs is a signed, published head at or
after its own audit entry before the receipt is handed out. Checkpoints of one process are taken one
at a time, so receipts that arrive together (a deadline burst) are covered by one signature: a
receipt whose entry the newest checkpoint already covers returns that checkpoint, and the one that
signs covers every entry written before it read the head."""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from lxml import etree
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from domain.documents.checkpoint import ChainHead, build_checkpoint, check_head, checkpoint_head
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services.deps import Deps
from services.signers import ENGINE_ROLE, ENGINE_UNIT, RoleCheck, role_checker, trust_store
from signing.verify import TrustStore, missing_roles, verify_document
from signing.xmldsig import signed_document_root
from store import models as m
from store.uow import UnitOfWork

if TYPE_CHECKING:
    from integrations.announcement import AnnouncementPortal

# The engine signs as the transactions system (as its receipts: services.tender.submission).

# One checkpoint at a time in a process: a request waiting here finds its entry covered by the
# checkpoint taken meanwhile instead of signing one of its own (group commit). Other processes
# (API workers, Prefect workers) are kept consistent by the store (CheckpointRepository.add_once).
_ONE_AT_A_TIME = threading.Lock()
# portal object -> (seq, signed XML) of the newest checkpoint this process published there: publishing
# the very same document again is a no-op at the portal (a published checkpoint never changes), so it
# is skipped; another document for that seq is still sent, and the portal refuses it.
_LAST_PUBLISHED: weakref.WeakKeyDictionary[object, tuple[int, bytes]] = weakref.WeakKeyDictionary()
# Per store: the newest checkpoint this process took or found in the store, with the moment
# (time.monotonic) just before the first statement of the unit of work that read the head it signs
# (guarded by _ONE_AT_A_TIME). An entry committed before that moment was in that head: a receipt that asked for
# its checkpoint before then is answered from here, without a unit of work (see `checkpoint`).
_NEWEST: weakref.WeakKeyDictionary[sessionmaker, tuple[Checkpoint, float]] = weakref.WeakKeyDictionary()


# Per SQLite database: the lock the receiving path's units of work take turns on (store_turn).
_TURNS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()
_TURN_WAIT_S = 30.0  # as the store's SQLite busy timeout (store.db): then SQLite's own wait decides


@contextmanager
def store_turn(deps: Deps) -> Iterator[None]:
    """Wrap a unit of work of the bid-receiving path (submission, its checkpoint): on SQLite, where
    every unit of work begins IMMEDIATE and so holds the single write lock, this process's units of
    work take turns on a lock of their own, so a waiting one starts the moment the previous one ends
    instead of sleeping in SQLite's busy handler (which polls with pauses of up to 100 ms); reentrant
    in a thread. On PostgreSQL it does nothing (its transactions run side by side).

    Raises: nothing of its own (after waiting as long as the busy timeout it goes on, and SQLite's
    own wait decides)."""
    bind = deps.sessions.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        yield
        return
    with _TURNS_LOCK:
        turn = _TURNS.get(bind)
        if turn is None:
            turn = _TURNS[bind] = threading.RLock()
    got = turn.acquire(timeout=_TURN_WAIT_S)
    try:
        yield
    finally:
        if got:
            turn.release()


@dataclass(frozen=True)
class Checkpoint:
    """A stored checkpoint: the head it signs (`seq`, `head_hash`), when and why it was taken, and
    the signed XML as stored and published."""

    seq: int
    head_hash: str
    taken_at: datetime
    occasion: str
    xml: bytes

    def to_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.head_hash, "taken_at": self.taken_at.isoformat(),
                "occasion": self.occasion}


def checkpoint(deps: Deps, reason: str, covering: int | None = None) -> Checkpoint | None:
    """Sign and store the audit chain's current head, and publish it on the portal (when wired).

    `reason`: the occasion, e.g. "notice:T-1", "receipt:T-1/b3/1", "minutes:T-1/article13",
    "hourly". Idempotent and cheap: when the newest checkpoint already covers the head, it is
    returned without signing (and published again unless this process already did: a no-op). With
    `covering` (an audit entry's seq, a receipt's `bid.received`): when the newest checkpoint is at or
    after that entry and the stored log still holds the hash it signed at its seq, it is returned
    without signing: it was signed after that entry was written (the log only grows at its head), so
    it vouches for the chain up to and including that entry. Before
    signing, the entries since the newest checkpoint are checked to extend it, so the engine never
    vouches for a rewritten or truncated log. Returns None for an empty log. Rule: "Stations and
    trust", R21.

    Raises: AUDIT_APPEND_ONLY (the log no longer extends the newest checkpoint), TOKEN_NOT_FOUND
    (no engine signer), TOKEN_PIN_INVALID."""
    asked = time.monotonic()  # entry `covering` is committed by now (the caller's unit of work ended)
    with _ONE_AT_A_TIME:
        known = _NEWEST.get(deps.sessions)
        if covering is not None and known is not None and asked <= known[1] and covering <= known[0].seq:
            # Its head was read after entry `covering` was committed, so it holds that entry (a group
            # commit: the receipts written while the previous checkpoint was being signed).
            current: Checkpoint | None = known[0]
        else:
            current, began = _take(deps, reason, covering)
            # Only a checkpoint of the head read at `began` is cached with that moment (not one found
            # stored: its head was read earlier, and an entry committed in between is not in it).
            if current is not None and began is not None and (known is None or current.seq >= known[0].seq):
                _NEWEST[deps.sessions] = (current, began)
        if current is not None and deps.portal is not None:
            _publish(deps.portal, current)
        return current


def _publish(portal: AnnouncementPortal, current: Checkpoint) -> None:
    try:
        if _LAST_PUBLISHED.get(portal) == (current.seq, current.xml):
            return
    except TypeError:  # a portal that cannot be weakly referenced: publish every time
        portal.publish_checkpoint(current.seq, current.xml)
        return
    portal.publish_checkpoint(current.seq, current.xml)
    _LAST_PUBLISHED[portal] = (current.seq, current.xml)


def _take(deps: Deps, reason: str, covering: int | None) -> tuple[Checkpoint | None, float | None]:
    """The checkpoint covering the head (or entry `covering`), and the moment before the unit of work
    read the head it signs (None when a stored checkpoint was returned for `covering`)."""
    with store_turn(deps), deps.uow() as uow:
        # Before this unit of work's first statement (SQLite's BEGIN IMMEDIATE, PostgreSQL's statement
        # snapshot): every entry committed by then is in the head read below.
        began = time.monotonic()
        latest = uow.checkpoints.latest()
        if covering is not None and latest is not None and latest.seq >= covering \
                and uow.audit.hashes_at([latest.seq]).get(latest.seq) == latest.head_hash:
            # Signed after entry `covering` was written and the log still holds it there (else the
            # extension check below reports the cut or rewrite): it vouches for that entry.
            return _of(latest), None
        found = uow.audit.head()
        if found is None:
            return None, None
        head = ChainHead(*found)
        if latest is not None:
            _check_extends(uow, latest, head)
        current = _of(latest) if latest is not None and latest.seq == head.seq else None
    if current is None:
        # The token signs outside any unit of work: it is slow, and SQLite's write lock must not wait on it.
        signed = deps.engine().sign(build_checkpoint(head, deps.clock.now(), reason), deps.clock,
                                    ENGINE_ROLE, ENGINE_UNIT)
        xml = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        with store_turn(deps), deps.uow() as uow:
            row = uow.checkpoints.add_once(m.AuditCheckpoint(seq=head.seq, head_hash=head.hash,
                                                             taken_at=deps.clock.now(), reason=reason[:160], xml=xml))
            current = _of(row)
            uow.commit()
    return current, began


def stored_checkpoints(deps: Deps) -> list[Checkpoint]:
    """Every stored checkpoint, oldest head first (the evidence bundle publishes them)."""
    with deps.uow() as uow:
        return [_of(r) for r in uow.checkpoints.all()]


def _check_extends(uow: UnitOfWork, latest: m.AuditCheckpoint, head: ChainHead) -> None:
    stored = uow.audit.hashes_at([latest.seq]).get(latest.seq)
    check_head(ChainHead(latest.seq, latest.head_hash), stored, head.seq)
    report = uow.audit.verify_after(latest.seq, latest.head_hash)
    if not report.ok:
        raise DomainError(Reason.AUDIT_APPEND_ONLY, f"ردیف {report.first_broken_seq}: {report.problem}",
                          problem="broken", seq=report.first_broken_seq)


def _of(row: m.AuditCheckpoint) -> Checkpoint:
    return Checkpoint(seq=int(row.seq), head_hash=row.head_hash, taken_at=row.taken_at, occasion=row.reason,
                      xml=bytes(row.xml))


# --- verification against published checkpoints ---------------------------------------------------

@dataclass(frozen=True)
class CheckpointProblem:
    """One checkpoint that failed: where it came from, the head it states (when readable), the
    reason code and the Persian message; `problem` says "truncated", "missing", "rewritten" or
    "signature"."""

    source: str
    seq: int | None
    reason: Reason
    message: str
    problem: str

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "seq": self.seq, "reason": self.reason.value, "message": self.message,
                "problem": self.problem}


@dataclass(frozen=True)
class CheckpointReport:
    """The outcome of holding the stored log against published checkpoints: how many were given,
    the newest signed head, the stored head's sequence, and every failure."""

    checked: int
    newest_seq: int | None
    stored_last_seq: int | None
    problems: list[CheckpointProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "newest_seq": self.newest_seq,
                "stored_last_seq": self.stored_last_seq, "problems": [p.to_dict() for p in self.problems]}


def verify_checkpoints(sessions: sessionmaker, ca_cert: x509.Certificate,
                       documents: Sequence[tuple[str, bytes]]) -> CheckpointReport:
    """Hold the stored audit log against published checkpoints `documents` ((source name, signed
    XML) pairs). Each must carry a valid signature of the transactions system (chain to `ca_cert`,
    revocation, role at signing time) and the stored log must still hold, at its sequence, the hash
    it states; the log must not end before the newest. Rule: "Stations and trust", R21.

    Returns every failure (never raises for a bad checkpoint): reason codes MALFORMED_XML,
    SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, SIGNER_NOT_IN_ROLE (the
    signature), AUDIT_APPEND_ONLY (the log was rewritten, or truncated before the checkpoint)."""
    trust, roles = trust_store(ca_cert, sessions), role_checker(sessions)
    problems: list[CheckpointProblem] = []
    heads: list[tuple[str, ChainHead]] = []
    for source, xml in documents:
        try:
            heads.append((source, _signed_head(xml, trust, roles)))
        except DomainError as exc:
            problems.append(CheckpointProblem(source, None, exc.reason, exc.message_fa, "signature"))
    with UnitOfWork(sessions) as uow:
        last = uow.audit.head()
        stored = uow.audit.hashes_at(h.seq for _s, h in heads)
    last_seq = last[0] if last is not None else None
    for source, head in sorted(heads, key=lambda sh: sh[1].seq):
        try:
            check_head(head, stored.get(head.seq), last_seq)
        except DomainError as exc:
            problems.append(CheckpointProblem(source, head.seq, exc.reason, exc.message_fa,
                                              str(exc.context.get("problem", "rewritten"))))
    newest = max((h.seq for _s, h in heads), default=None)
    return CheckpointReport(len(documents), newest, last_seq, problems)


def stored_checkpoint_documents(sessions: sessionmaker) -> list[tuple[str, bytes]]:
    """The engine's own stored checkpoints as (source name, signed XML) pairs, oldest head first,
    for `verify_checkpoints`: `eproc audit verify` holds the log against them even when no published
    copy is given. Source names read "audit_checkpoints:<seq>". Rule: "Stations and trust", R21."""
    with UnitOfWork(sessions) as uow:
        return [(f"audit_checkpoints:{int(r.seq)}", bytes(r.xml)) for r in uow.checkpoints.all()]


def _signed_head(xml: bytes, trust: TrustStore, roles: RoleCheck) -> ChainHead:
    required = [(ENGINE_ROLE, ENGINE_UNIT)]
    checks = verify_document(xml, trust, roles, required)
    failed = next((c.reason for c in checks if c.reason is not None), None)
    if failed is not None:
        raise DomainError(failed, "امضای نقطهٔ وارسی")
    if not checks or missing_roles(checks, required):
        raise DomainError(Reason.SIGNATURE_INVALID, "نقطهٔ وارسی امضای سامانهٔ معاملات را ندارد")
    return checkpoint_head(signed_document_root(parse_untrusted(xml)))
