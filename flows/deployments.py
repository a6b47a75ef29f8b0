"""What the deployments in prefect.yaml need beyond the process flows: scheduling a tender's run
at its opening time, and the monthly contracts report (R15, services.reports) on a schedule."""
from __future__ import annotations

from typing import Any

import jdatetime
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from domain.persian import to_tehran
from domain.reasons import DomainError, Reason

TENDER_DEPLOYMENT = "tender/tender"


def schedule_tender(tender_id: str, database_url: str | None = None, job_variables: dict | None = None,
                    deployment: str = TENDER_DEPLOYMENT) -> dict[str, Any]:
    """One run per tender (idempotency key), scheduled at the opening time and tagged with the
    tender's district so operators can filter a district's tenders in the UI."""
    from prefect.deployments import run_deployment

    tender = _tender_row(tender_id, database_url)
    run = run_deployment(deployment, parameters={"tender_id": tender_id}, scheduled_time=tender["opening_at"],
                         timeout=0, tags=["tender", tender["unit_id"]], idempotency_key=f"tender:{tender_id}",
                         job_variables=job_variables or None)
    return {"id": str(run.id), "name": run.name, "scheduled_for": tender["opening_at"].isoformat(),
            "tags": sorted(run.tags)}


def _tender_row(tender_id: str, database_url: str | None) -> dict[str, Any]:
    from store.db import make_engine, session_factory
    from store.models import Tender
    from store.uow import UnitOfWork

    if database_url is None:
        from config.settings import get_settings

        database_url = get_settings().resolved_database_url()
    engine = make_engine(database_url)
    try:
        with UnitOfWork(session_factory(engine)) as uow:
            row = uow.session.get(Tender, tender_id)
            if row is None:
                raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
            return {"opening_at": row.opening_at, "unit_id": row.unit_id}
    finally:
        engine.dispose()


@flow(name="monthly-reports", log_prints=True)
def monthly_report_flow(year: int | None = None, month: int | None = None) -> dict:
    """R15: each unit's contracts concluded and in progress by threshold class. Scheduled daily;
    without parameters it reports only on the first day of a Jalali month (the month before)."""
    from services import bootstrap
    from services.reports import markdown_table, monthly_report, previous_jalali_month

    deps = bootstrap.current()
    if year is None or month is None:
        today = jdatetime.date.fromgregorian(date=to_tehran(deps.clock.now()).date())
        if today.day != 1:
            get_run_logger().info("امروز روز نخست ماه نیست؛ گزارشی تهیه نشد")
            return {"reported": False}
        year, month = previous_jalali_month(deps.clock.now())
    report = monthly_report(deps.sessions, deps.policy, year, month)
    create_markdown_artifact(key=f"monthly-contracts-{year}-{month:02d}", markdown=markdown_table(report),
                             description=report.title)
    return {"reported": True, **report.to_dict()}
