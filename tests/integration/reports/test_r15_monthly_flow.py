"""R15 on a schedule: the monthly flow writes the reports and a Persian Markdown artifact."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from flows.reports import MONTHLY_CRON, monthly_schedule


def test_r15_schedule_is_the_first_of_each_month_in_tehran():
    schedule = monthly_schedule()
    assert schedule.cron == MONTHLY_CRON == "0 6 1 * *" and schedule.timezone == "Asia/Tehran"


@pytest.mark.slow
@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_r15_monthly_flow_publishes_an_artifact(prefect_server, engine, add_contract, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    from flows.reports import monthly_reports_flow

    add_contract("district-12", "final", "large", concluded="1400/06/10 10:00", created="1400/06/01 10:00")
    add_contract("district-12", "budget", "small", created="1400/06/02 10:00")
    url = engine.url.render_as_string(hide_password=False)
    out = monthly_reports_flow(1400, 6, database_url=url, excel_dir=str(tmp_path / "xlsx"))

    rows = {(r["unit"], r["threshold_class"]): (r["concluded"], r["in_progress"]) for r in out["monthly"]["rows"]}
    assert rows[("district-12", "large")] == (1, 0) and rows[("district-12", "small")] == (0, 1)
    assert load_workbook(out["excel"][0]).active.sheet_view.rightToLeft is True

    async def artifact():  # the server is the session's (tests/conftest.py): ask for this key only
        async with get_client() as client:
            return await client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=[out["artifact_key"]])))

    import asyncio

    latest = [a for a in asyncio.run(artifact()) if a.key == out["artifact_key"]]
    assert latest and "| district-۱۲ | منطقهٔ ۱۲ | بزرگ | ۱ | ۰ |" in latest[0].data
    assert "قراردادهای منعقدشده در ماه: ۱؛ در جریان: ۱" in latest[0].data
