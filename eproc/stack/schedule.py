"""Scheduling a tender's run at its opening time on the stack (one run per tender)."""
from __future__ import annotations

from typing import Any

from domain.reasons import DomainError, Reason
from store.db import make_engine, session_factory
from store.uow import UnitOfWork

TENDER_DEPLOYMENT = "tender/tender"


def schedule_tender(tender_id: str, database_url: str | None = None, job_variables: dict | None = None,
                    deployment: str = TENDER_DEPLOYMENT) -> dict[str, Any]:
    """One run per tender (idempotency key), scheduled at the opening time and tagged with the
    tender's district so operators can filter a district's tenders in the UI.

    Returns `{"id", "name", "scheduled_for" (ISO, UTC), "tags"}`. Raises: INVALID_INPUT for an unknown tender."""
    from prefect.deployments import run_deployment

    opening_at, unit_id = _opening(tender_id, database_url)
    run = run_deployment(deployment, parameters={"tender_id": tender_id}, scheduled_time=opening_at,
                         timeout=0, tags=["tender", unit_id], idempotency_key=f"tender:{tender_id}",
                         job_variables=job_variables or None)
    return {"id": str(run.id), "name": run.name, "scheduled_for": opening_at.isoformat(), "tags": sorted(run.tags)}


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
