"""The audit checkpoint (R21; tender-rules "Stations and trust"): the engine's own signed statement
of the audit chain's head, published, so that a log rewritten with recomputed hashes, or cut short,
no longer matches what was published.

    <Checkpoint xmlns="urn:tehran:eproc:audit-checkpoint:1">
      <Body Id="body" version="1">
        <Head seq="412" hash="<SHA-256 hex of entry 412>"/>
        <TakenAt utc="2021-07-11T06:30:00Z" jalali="1400/04/20 11:00"/>
        <Occasion>receipt:D12-1/b3/1</Occasion>
      </Body>
    </Checkpoint>

Each entry's hash covers the one before it, so the head's hash vouches for the whole log up to it.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, time_attrs
from domain.reasons import DomainError, Reason

NS = "urn:tehran:eproc:audit-checkpoint:1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ChainHead:
    """An audit entry's sequence number and its hash (64 lower-case hex digits)."""

    seq: int
    hash: str


def build_checkpoint(head: ChainHead, taken_at: datetime, occasion: str, version: int = 1) -> etree._Element:
    """The unsigned checkpoint of `head`, taken at `taken_at` (aware UTC) on `occasion` (e.g.
    "notice:T-1", "hourly"). Rule: the audit head is signed at every notice, receipt and minutes
    and at least hourly ("Stations and trust", R21).

    Raises: INVALID_INPUT (seq not a positive integer, hash not SHA-256 hex, empty occasion)."""
    if isinstance(head.seq, bool) or not isinstance(head.seq, int) or head.seq < 1:
        raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ ردیف گزارش ممیزی نامعتبر است: {head.seq!r}")
    if not _HEX64.match(head.hash):
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ ردیف گزارش ممیزی SHA-256 نیست")
    if not occasion.strip():
        raise DomainError(Reason.INVALID_INPUT, "مناسبت نقطهٔ وارسی خالی است")
    root, body = new_document(NS, "Checkpoint", version)
    sub(body, "Head", seq=head.seq, hash=head.hash)
    sub(body, "TakenAt", **time_attrs(taken_at))
    sub(body, "Occasion", occasion)
    return root


def checkpoint_head(doc: etree._Element) -> ChainHead:
    """The head a checkpoint document states.

    Raises: MALFORMED_XML when `doc` is not a checkpoint or its head is malformed."""
    if doc.tag != f"{{{NS}}}Checkpoint":
        raise DomainError(Reason.MALFORMED_XML, "سند نقطهٔ وارسی گزارش ممیزی نیست")
    heads = body_of(doc).findall(f"{{{NS}}}Head")
    if len(heads) != 1:
        raise DomainError(Reason.MALFORMED_XML, "نقطهٔ وارسی باید دقیقاً یک Head داشته باشد")
    seq, digest = heads[0].get("seq", ""), heads[0].get("hash", "")
    if not seq.isascii() or not seq.isdigit() or int(seq) < 1 or not _HEX64.match(digest):
        raise DomainError(Reason.MALFORMED_XML, "شماره یا چکیدهٔ Head در نقطهٔ وارسی نامعتبر است")
    return ChainHead(int(seq), digest)


def check_head(published: ChainHead, stored_hash: str | None, last_seq: int | None) -> None:
    """The stored log must still hold, at the published checkpoint's sequence, the hash the engine
    signed: `stored_hash` is the stored entry's hash at `published.seq` (None when absent) and
    `last_seq` the stored head's sequence (None for an empty log). Rule: a rewritten or truncated
    log no longer matches a published checkpoint (R21).

    Raises: AUDIT_APPEND_ONLY with context `problem` = "truncated" (the log ends before the
    checkpoint), "missing" (that entry was removed) or "rewritten" (it has another hash)."""
    if stored_hash is None:
        if last_seq is None or published.seq > last_seq:
            raise DomainError(Reason.AUDIT_APPEND_ONLY,
                              f"گزارش ممیزی کوتاه‌تر از نقطهٔ وارسی امضاشده است: ردیف {published.seq} امضا شده "
                              f"ولی آخرین ردیف موجود {last_seq or 0} است (ردیف‌های پایانی حذف شده‌اند)",
                              problem="truncated", seq=published.seq)
        raise DomainError(Reason.AUDIT_APPEND_ONLY,
                          f"ردیف {published.seq} که در نقطهٔ وارسی امضا شده در گزارش ممیزی نیست (حذف شده است)",
                          problem="missing", seq=published.seq)
    if not hmac.compare_digest(stored_hash, published.hash):
        raise DomainError(Reason.AUDIT_APPEND_ONLY,
                          f"چکیدهٔ ردیف {published.seq} با نقطهٔ وارسی امضاشده نمی‌خواند "
                          "(تاریخچهٔ گزارش ممیزی بازنویسی شده است)",
                          problem="rewritten", seq=published.seq)
