"""The tender's stored status, moved only forward by the domain's status machine: a rerun after a
crash never lowers it (R08: what happened in a session stays on record)."""
from __future__ import annotations

from datetime import datetime

from domain.reasons import DomainError, Reason
from domain.tender.status import TenderStatus, advance_status
from store.uow import UnitOfWork

ENGINE_ACTOR = "engine"


def set_status(uow: UnitOfWork, tender_id: str, status: TenderStatus | str, reason: Reason | None, at: datetime,
               record: bool = True) -> TenderStatus:
    """Move the tender to `status` inside the caller's unit of work (the caller commits).

    Returns the status the tender has afterwards: the current one when `status` would move it
    backwards (domain.tender.state.advance_status decides). `record` appends a `tender.<status>`
    audit entry when the status changes.

    Raises: INVALID_INPUT for an unknown tender."""
    row = uow.tenders.get(tender_id)
    if row is None:
        raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
    target = advance_status(TenderStatus(row.status), TenderStatus(status))
    if target.value != row.status:
        row.status, row.reason = target.value, reason.value if reason else None
        if record:
            uow.record(at=at, actor=ENGINE_ACTOR, action=f"tender.{target.value}", entity="tender",
                       entity_id=tender_id, reason=reason)
    return target
