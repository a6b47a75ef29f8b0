"""SMS outbox stub (R26): validated numbers, rendered Persian templates, at most once per dedup key.

The outbox doubles as the contractor's portal inbox: `outbox(recipient_id)` lists what was sent.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain.reasons import DomainError, Reason
from integrations.notifications import OutboxMessage, Template, normalize_mobile, render
from integrations.stubs._db import StubSystem, canonical_json, inserted, is_blank
from store.stub_tables import ExtOutboxMessage


class SmsOutboxStub(StubSystem):
    def notify(self, recipient_mobile: str, recipient_id: str, template: Template | str,
               params: dict[str, Any], dedup_key: str) -> OutboxMessage:
        if is_blank(dedup_key) or is_blank(recipient_id):
            raise DomainError(Reason.INVALID_INPUT, "dedup_key و recipient_id لازم است")
        mobile = normalize_mobile(recipient_mobile)
        text = render(template, params)
        template_name = Template(template).value
        with self._sessions() as session:
            row = ExtOutboxMessage(dedup_key=dedup_key, recipient_id=recipient_id, mobile=mobile,
                                   template=template_name, params_json=canonical_json(params), text=text,
                                   status="queued", created_at=self._clock.now(), sent_at=None)
            if inserted(session, row):
                return _message(row)
        with self._sessions() as session:
            existing = session.scalars(select(ExtOutboxMessage)
                                       .where(ExtOutboxMessage.dedup_key == dedup_key)).one()
            if (existing.recipient_id, existing.template) != (recipient_id, template_name):
                raise DomainError(Reason.INVALID_INPUT,
                                  f"کلید {dedup_key} پیش‌تر برای پیام دیگری به کار رفته است")
            return _message(existing)

    def outbox(self, recipient_id: str) -> list[OutboxMessage]:
        with self._sessions() as session:
            rows = session.scalars(select(ExtOutboxMessage).where(ExtOutboxMessage.recipient_id == recipient_id)
                                   .order_by(ExtOutboxMessage.id))
            return [_message(r) for r in rows]

    def deliver_pending(self) -> list[OutboxMessage]:
        """Hand queued messages to the SMS gateway (here: mark them sent)."""
        with self._sessions() as session:
            rows = list(session.scalars(select(ExtOutboxMessage).where(ExtOutboxMessage.status == "queued")
                                        .order_by(ExtOutboxMessage.id)))
            now = self._clock.now()
            for r in rows:
                r.status, r.sent_at = "sent", now
            session.commit()
            return [_message(r) for r in rows]


def _message(r: ExtOutboxMessage) -> OutboxMessage:
    return OutboxMessage(dedup_key=r.dedup_key, recipient_id=r.recipient_id, mobile=r.mobile,
                         template=r.template, text=r.text, status=r.status, created_at=r.created_at,
                         sent_at=r.sent_at)
