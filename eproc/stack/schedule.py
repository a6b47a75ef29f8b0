"""Scheduling a tender's run at its opening time on the stack (one run per tender)."""
from __future__ import annotations

from typing import Any

from domain.reasons import DomainError, Reason
from eproc.stack.orchestrator import TENDER_DEPLOYMENT, schedule_run
from store.db import make_engine, session_factory
from store.uow import UnitOfWork

__all__ = ["TENDER_DEPLOYMENT", "schedule_tender"]


def schedule_tender(tender_id: str, database_url: str | None = None, job_variables: dict | None = None,
                    deployment: str = TENDER_DEPLOYMENT) -> dict[str, Any]:
    """One run per tender (idempotency key), scheduled at the opening time and tagged with the
    tender's district so operators can filter a district's tenders in the UI.

    Returns `{"id", "name", "scheduled_for" (ISO, UTC), "tags"}`. Raises: INVALID_INPUT for an unknown tender."""
    opening_at, unit_id = _opening(tender_id, database_url)
    return schedule_run(tender_id, unit_id, opening_at, deployment, job_variables)


def _opening(tender_id: str, database_url: str | None):
    if database_url is None:
        from config.settings import get_settings

        database_url = get_settings().resolved_database_url()
    engine = make_engine(database_url)
    try:
        with UnitOfWork(session_factory(engine)) as uow:
            row = uow.tenders.get(tender_id)
            if row is None:
                raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
            return row.opening_at, row.unit_id
    finally:
        engine.dispose()
