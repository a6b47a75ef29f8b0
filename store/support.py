"""Repositories of R26: support requests with their reply trail, and the notifications that reached
nobody (store.models SupportRequest, SupportMessage, NotificationGap; migration 0015).

`support_of(uow)` gives the repository on a unit of work's transaction, so no caller outside store/
touches its session.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import models as m
from store.uow import UnitOfWork


class SupportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- requests and their trail ---------------------------------------------------------------
    def add_request(self, row: m.SupportRequest) -> m.SupportRequest:
        self.session.add(row)
        self.session.flush()  # the id names the request in its first message
        return row

    def request(self, request_id: int) -> m.SupportRequest | None:
        return self.session.get(m.SupportRequest, request_id)

    def requests(self, *, national_id: str | None = None, unit: str | None = None,
                 status: str | None = None) -> Sequence[m.SupportRequest]:
        """Requests newest first, narrowed to a requester, a unit and a status when given."""
        q = select(m.SupportRequest)
        if national_id is not None:
            q = q.where(m.SupportRequest.requester_national_id == national_id)
        if unit is not None:
            q = q.where(m.SupportRequest.requester_unit == unit)
        if status is not None:
            q = q.where(m.SupportRequest.status == status)
        return self.session.scalars(q.order_by(m.SupportRequest.id.desc())).all()

    def messages(self, request_id: int) -> Sequence[m.SupportMessage]:
        return self.session.scalars(select(m.SupportMessage).where(m.SupportMessage.request_id == request_id)
                                    .order_by(m.SupportMessage.seq)).all()

    def message_by_sha256(self, sha256: str) -> m.SupportMessage | None:
        return self.session.scalars(select(m.SupportMessage)
                                    .where(m.SupportMessage.document_sha256 == sha256)).first()

    def next_seq(self, request_id: int) -> int:
        last = self.session.scalar(select(func.max(m.SupportMessage.seq))
                                   .where(m.SupportMessage.request_id == request_id))
        return int(last or 0) + 1

    def add_message(self, row: m.SupportMessage) -> m.SupportMessage:
        self.session.add(row)
        return row

    # --- notifications that reached nobody ------------------------------------------------------
    def note_gap(self, dedup_key: str, recipient_id: str, company_id: str | None, template: str,
                 at: datetime) -> bool:
        """Record, once per `dedup_key`, a notification no contact could receive, and commit.
        True when it was recorded now, False when it was already."""
        if self.session.scalars(select(m.NotificationGap.id).where(m.NotificationGap.dedup_key == dedup_key)).first():
            return False
        self.session.add(m.NotificationGap(dedup_key=dedup_key, recipient_id=recipient_id, company_id=company_id,
                                           template=template, noted_at=at))
        try:
            self.session.commit()
        except IntegrityError:  # recorded meanwhile by another process
            self.session.rollback()
            return False
        return True

    def gaps(self, recipient_id: str | None = None) -> Sequence[m.NotificationGap]:
        q = select(m.NotificationGap)
        if recipient_id is not None:
            q = q.where(m.NotificationGap.recipient_id == recipient_id)
        return self.session.scalars(q.order_by(m.NotificationGap.id)).all()


def support_of(uow: UnitOfWork) -> SupportRepository:
    """The support repository on `uow`'s transaction (inside its `with` block)."""
    return SupportRepository(uow.session)
