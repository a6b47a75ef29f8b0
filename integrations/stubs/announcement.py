"""Announcement-portal stub (R02).

A notice must state the submission and signature rules in force (the phrases come from the
policy calendar for that unit and date) and carry its documents; a published version never
changes, and republishing the same version is a no-op. The portal also publishes the engine's
audit checkpoints (R21), which never change either.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.persian import normalize
from domain.reasons import DomainError, Reason
from integrations.announcement import Notice, NoticeDocument, PublishedCheckpoint, PublishedNotice
from integrations.stubs._db import StubSystem, canonical_json, inserted, is_blank, sha256_hex
from store.stub_tables import ExtNotice, ExtNoticeDocument, ExtPublishedCheckpoint

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _comparable(text: str) -> str:
    # People type «می شود» and «می‌شود» alike: compare with ZWNJ as a space.
    return normalize(text).replace("\u200c", " ").casefold()


def missing_phrases(text: str, required_phrases: Sequence[str]) -> list[str]:
    body = _comparable(text)
    return [p for p in required_phrases if _comparable(p) not in body]


class AnnouncementPortalStub(StubSystem):
    def publish_notice(self, notice: Notice, required_phrases: Sequence[str]) -> PublishedNotice:
        _check(notice, required_phrases)
        text, title = normalize(notice.text), normalize(notice.title)
        content_hash = sha256_hex(canonical_json({
            "unit": notice.unit, "title": title, "text": text,
            "published_at": notice.published_at.isoformat(),
            "documents": [[d.name, d.sha256, d.size_bytes] for d in notice.documents],
        }))
        with self._sessions() as session:
            if notice.version > 1 and self._row(session, notice.tender_id, notice.version - 1) is None:
                raise DomainError(Reason.INVALID_INPUT,
                                  f"نسخهٔ {notice.version - 1} آگهی {notice.tender_id} منتشر نشده است")
            row = ExtNotice(tender_id=notice.tender_id, version=notice.version, unit=notice.unit,
                            title=title, text=text, content_sha256=content_hash,
                            published_at=notice.published_at)
            session.add(row)
            try:
                session.flush()
                for d in notice.documents:
                    session.add(ExtNoticeDocument(notice_id=row.id, name=d.name, sha256=d.sha256,
                                                  size_bytes=d.size_bytes, content=d.content))
                session.commit()
            except IntegrityError:
                session.rollback()
            else:
                return self._published(session, row)
        with self._sessions() as session:
            existing = self._row(session, notice.tender_id, notice.version)
            if existing is None:
                raise DomainError(Reason.STORE_UNREACHABLE, f"ثبت آگهی {notice.tender_id} انجام نشد")
            if existing.content_sha256 != content_hash:
                raise DomainError(Reason.INVALID_INPUT,
                                  f"نسخهٔ {notice.version} آگهی {notice.tender_id} با متن دیگری منتشر شده است؛ "
                                  "تغییر فقط با نسخهٔ تازه ممکن است")
            return self._published(session, existing)

    def notices(self, tender_id: str) -> list[PublishedNotice]:
        with self._sessions() as session:
            rows = session.scalars(select(ExtNotice).where(ExtNotice.tender_id == tender_id)
                                   .order_by(ExtNotice.version))
            return [self._published(session, r) for r in rows]

    def download(self, tender_id: str, name: str, version: int | None = None) -> bytes:
        with self._sessions() as session:
            if version is None:
                version = session.scalar(select(func.max(ExtNotice.version))
                                         .where(ExtNotice.tender_id == tender_id))
            row = self._row(session, tender_id, version) if version is not None else None
            doc = None if row is None else session.scalar(
                select(ExtNoticeDocument).where(ExtNoticeDocument.notice_id == row.id,
                                                ExtNoticeDocument.name == name))
            if doc is None:
                raise DomainError(Reason.INVALID_INPUT, f"سند «{name}» برای آگهی {tender_id} نیست")
            if doc.content is None:
                raise DomainError(Reason.FIELD_MISSING, f"محتوای سند «{name}» بارگذاری نشده است")
            return doc.content

    def publish_checkpoint(self, seq: int, signed_xml: bytes) -> PublishedCheckpoint:
        """Publish an audit checkpoint; a published one never changes (R21).

        Raises: INVALID_INPUT (seq not positive, empty document, another document for that seq)."""
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ نقطهٔ وارسی نامعتبر: {seq!r}")
        if not signed_xml:
            raise DomainError(Reason.INVALID_INPUT, "سند نقطهٔ وارسی خالی است")
        digest = sha256_hex(signed_xml)
        with self._sessions() as session:
            inserted(session, ExtPublishedCheckpoint(seq=seq, sha256=digest, xml=signed_xml,
                                                     published_at=self._clock.now()))
            row = session.scalar(select(ExtPublishedCheckpoint).where(ExtPublishedCheckpoint.seq == seq))
            if row is None:
                raise DomainError(Reason.STORE_UNREACHABLE, f"انتشار نقطهٔ وارسی {seq} انجام نشد")
            if row.sha256 != digest:
                raise DomainError(Reason.INVALID_INPUT,
                                  f"نقطهٔ وارسی ردیف {seq} با سند دیگری منتشر شده است و تغییر نمی‌کند")
            return _checkpoint(row)

    def checkpoints(self) -> list[PublishedCheckpoint]:
        with self._sessions() as session:
            return [_checkpoint(r) for r in session.scalars(select(ExtPublishedCheckpoint)
                                                             .order_by(ExtPublishedCheckpoint.seq))]

    @staticmethod
    def _row(session: Session, tender_id: str, version: int) -> ExtNotice | None:
        return session.scalar(select(ExtNotice).where(ExtNotice.tender_id == tender_id,
                                                      ExtNotice.version == version))

    @staticmethod
    def _published(session: Session, row: ExtNotice) -> PublishedNotice:
        docs = session.scalars(select(ExtNoticeDocument).where(ExtNoticeDocument.notice_id == row.id)
                               .order_by(ExtNoticeDocument.id))
        return PublishedNotice(tender_id=row.tender_id, version=row.version, unit=row.unit, title=row.title,
                               text=row.text, published_at=row.published_at,
                               documents=tuple(NoticeDocument(d.name, d.sha256, d.size_bytes, d.content)
                                               for d in docs))


def _checkpoint(row: ExtPublishedCheckpoint) -> PublishedCheckpoint:
    return PublishedCheckpoint(seq=row.seq, sha256=row.sha256, xml=row.xml, published_at=row.published_at)


def _check(notice: Notice, required_phrases: Sequence[str]) -> None:
    missing = [f for f in ("tender_id", "unit", "title", "text") if is_blank(getattr(notice, f))]
    if not notice.documents:
        missing.append("documents")
    if not required_phrases or any(is_blank(p) for p in required_phrases):
        missing.append("required_phrases")
    if missing:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))
    if isinstance(notice.version, bool) or not isinstance(notice.version, int) or notice.version < 1:
        raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ نسخه نامعتبر: {notice.version!r}")
    if not isinstance(notice.published_at, datetime) or notice.published_at.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "published_at: زمان آگاه به منطقهٔ زمانی لازم است")
    absent = missing_phrases(notice.text, required_phrases)
    if absent:
        raise DomainError(Reason.FIELD_MISSING, "متن آگهی این قواعد را بیان نمی‌کند: " + "، ".join(absent))
    names = [d.name for d in notice.documents]
    if len(set(names)) != len(names):
        raise DomainError(Reason.INVALID_INPUT, "نام اسناد آگهی تکراری است")
    for d in notice.documents:
        _check_document(d)


def _check_document(d: NoticeDocument) -> None:
    if is_blank(d.name):
        raise DomainError(Reason.FIELD_MISSING, "documents.name")
    if not _SHA256.match(str(d.sha256)):
        raise DomainError(Reason.INVALID_INPUT, f"{d.name}: چکیدهٔ SHA-256 نامعتبر")
    if isinstance(d.size_bytes, bool) or not isinstance(d.size_bytes, int) or d.size_bytes <= 0:
        raise DomainError(Reason.INVALID_INPUT, f"{d.name}: اندازهٔ سند نامعتبر")
    if d.content is not None and (len(d.content) != d.size_bytes or sha256_hex(d.content) != d.sha256):
        raise DomainError(Reason.INVALID_INPUT, f"{d.name}: محتوا با چکیده یا اندازهٔ ثبت‌شده مطابقت ندارد")
