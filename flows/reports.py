"""Monthly reports as a Prefect flow (R15, plus refused payments), with a Persian Markdown artifact.

Schedule: `MONTHLY_CRON` runs at 06:00 Tehran on the 1st of each *Gregorian* month (cron has no
Jalali calendar). Without parameters the run reports the last complete Jalali month before
its start, so the 1st of a Gregorian month (about the 10th of a Jalali month) reports the
Jalali month that ended some ten days earlier.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from domain.persian import persian_digits
from services.reports import (
    Report,
    jalali_month_bounds,
    markdown_table,
    monthly_report,
    previous_jalali_month,
    refused_payments_report,
    store_at,
)

MONTHLY_CRON = "0 6 1 * *"
TIMEZONE = "Asia/Tehran"


def monthly_schedule():
    """The deployment's schedule: 06:00 Tehran time on the 1st of every Gregorian month."""
    from prefect.schedules import Cron

    return Cron(MONTHLY_CRON, timezone=TIMEZONE)


@task(name="monthly-contracts-report", cache_policy=NO_CACHE)
def monthly_task(database_url: str | None, year: int, month: int) -> Report:
    with store_at(database_url) as (sessions, policy):
        return monthly_report(sessions, policy, year, month)


@task(name="refused-payments-report", cache_policy=NO_CACHE)
def refused_task(database_url: str | None) -> Report:
    with store_at(database_url) as (sessions, _):
        return refused_payments_report(sessions)


def artifact_markdown(year: int, month: int, monthly: Report, refused: Report) -> str:
    period = persian_digits(f"{year:04d}/{month:02d}")
    totals = monthly.meta["totals"]
    concluded = sum(v["concluded"] for v in totals.values())
    in_progress = sum(v["in_progress"] for v in totals.values())
    active = Report(monthly.kind, monthly.title, monthly.columns,
                    [r for r in monthly.rows if r["concluded"] or r["in_progress"]], monthly.meta)
    parts = [f"# گزارش‌های ماهانه — {period}", "",
             f"قراردادهای منعقدشده در ماه: {persian_digits(concluded)}؛ در جریان: {persian_digits(in_progress)}",
             "", "(واحدها و نصاب‌هایی که در ماه هیچ قراردادی نداشته‌اند نمایش داده نمی‌شوند.)", "",
             markdown_table(active), markdown_table(refused)]
    return "\n".join(parts)


@flow(name="monthly-unit-reports", flow_run_name="monthly-unit-reports-{year}-{month}", log_prints=True)
def monthly_reports_flow(year: int | None = None, month: int | None = None, database_url: str | None = None,
                         excel_dir: str | None = None) -> dict[str, Any]:
    """R15 per unit and threshold class, and the refused payments; a Markdown artifact, optional xlsx files."""
    if year is None or month is None:
        from domain.clock import SystemClock

        year, month = previous_jalali_month(SystemClock().now())
    jalali_month_bounds(year, month)  # refuses a bad month before any work
    monthly = monthly_task(database_url, year, month)
    refused = refused_task(database_url)
    key = f"monthly-unit-reports-{year:04d}-{month:02d}"
    create_markdown_artifact(markdown=artifact_markdown(year, month, monthly, refused), key=key,
                             description=f"گزارش ماهانهٔ واحدها {year}/{month:02d}")
    files = []
    if excel_dir:
        from render.excel import write_report

        out = Path(excel_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = [str(write_report(monthly, out / f"monthly-{year:04d}-{month:02d}.xlsx")),
                 str(write_report(refused, out / f"refused-payments-{year:04d}-{month:02d}.xlsx"))]
    get_run_logger().info("گزارش ماهانهٔ %s/%s تهیه شد", year, month)
    return {"year": year, "month": month, "monthly": monthly.to_dict(), "refused_payments": refused.to_dict(),
            "artifact_key": key, "excel": files}


@flow(name="monthly-reports", log_prints=True)
def monthly_report_flow(year: int | None = None, month: int | None = None) -> dict:
    """R15: each unit's contracts concluded and in progress by threshold class. Scheduled daily;
    without parameters it reports only on the first day of a Jalali month (the month before)."""
    import jdatetime

    from domain.persian import to_tehran
    from flows import runtime

    deps = runtime.deps()
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
