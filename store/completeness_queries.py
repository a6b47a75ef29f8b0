"""Read-only queries of the completeness checks (R31) and the Treasury reconciliation (R29).

The checks keep no table of their own: each check is an audit entry (`completeness.checked`, its
declarations and differences in the payload), so the correction inbox is rebuilt from the append-only
log; the reconciliation reads the payments the system made.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import models as m
from store.uow import UnitOfWork

PAID = "paid"


@dataclass(frozen=True)
class PaidRow:
    """A payment the system made: key, the contract code it was paid under, amount (rials), the
    contract's contractor id, when (aware UTC)."""

    payment_key: str
    contract_code: str
    amount_rial: int
    contractor_id: str
    at: datetime


class CompletenessQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def logged(self, action: str, entity_id: str | None = None) -> Sequence[m.AuditEntry]:
        """Audit entries of `action` (of one entity id, or all), in chain order."""
        query = select(m.AuditEntry).where(m.AuditEntry.action == action)
        if entity_id is not None:
            query = query.where(m.AuditEntry.entity_id == entity_id)
        return self.session.scalars(query.order_by(m.AuditEntry.seq)).all()

    def paid_between(self, start: datetime, end: datetime) -> list[PaidRow]:
        """Payments made in [start, end) (aware UTC), with the code of their statement's contract."""
        rows = self.session.execute(
            select(m.Payment.payment_key, m.Contract.code, m.Payment.amount_rial, m.Contract.contractor_id,
                   m.Payment.at)
            .join(m.StatusStatement, m.StatusStatement.id == m.Payment.statement_id)
            .join(m.Contract, m.Contract.id == m.StatusStatement.contract_id)
            .where(m.Payment.result == PAID, m.Payment.at >= start, m.Payment.at < end)
            .order_by(m.Payment.at, m.Payment.id)).all()
        return [PaidRow(key, code or "", int(amount), contractor, _aware(at))
                for key, code, amount, contractor, at in rows]

    def known_codes(self, codes: Iterable[str]) -> set[str]:
        """Which of `codes` are contract codes the system issued."""
        wanted = sorted({c for c in codes if c})
        found: set[str] = set()
        for i in range(0, len(wanted), 500):
            found.update(c for c in self.session.scalars(select(m.Contract.code)
                                                         .where(m.Contract.code.in_(wanted[i:i + 500]))) if c)
        return found


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def completeness_queries(uow: UnitOfWork) -> CompletenessQueries:
    """The completeness queries inside `uow`'s transaction."""
    return CompletenessQueries(uow.session)
