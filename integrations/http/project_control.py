"""integrations.project_control.ProjectControlSystem over HTTP (`eproc stub serve project-control`).

Contracts and statements travel as codes and ids only: the service fetches them from the transactions
system (R14); projects, progress and costs are project control's own data."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from integrations.http._client import JsonClient
from integrations.project_control import ProjectDefinition, RecordedStatement, RegisteredContract


class HttpProjectControlSystem:
    """The project-control service at `base_url`; `transport` for tests."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 30.0) -> None:
        self._http = JsonClient(base_url, "سامانهٔ کنترل پروژه", transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def define_project(self, project: ProjectDefinition) -> ProjectDefinition:
        body = self._http.call("POST", "/v1/projects", json={
            "project_code": project.project_code, "title": project.title, "unit": project.unit,
            "start_date": project.start_date.isoformat(), "planned_end_date": project.planned_end_date.isoformat(),
            "credits_rial": project.credits_rial})
        return ProjectDefinition(project_code=body["project_code"], title=body["title"], unit=body["unit"],
                                 start_date=date.fromisoformat(body["start_date"]),
                                 planned_end_date=date.fromisoformat(body["planned_end_date"]),
                                 credits_rial=body["credits_rial"])

    def report_progress(self, project_code: str, physical_pct: Decimal | int | str,
                        planned_pct: Decimal | int | str, as_of: date) -> None:
        self._http.call("POST", f"/v1/projects/{quote(project_code, safe='')}/progress", json={
            "physical_pct": str(physical_pct), "planned_pct": str(planned_pct), "as_of": as_of.isoformat()})

    def record_cost(self, project_code: str, amount_rial: int, description: str) -> None:
        self._http.call("POST", f"/v1/projects/{quote(project_code, safe='')}/costs",
                        json={"amount_rial": amount_rial, "description": description})

    def register_contract(self, contract_code: str, project_code: str | None = None) -> RegisteredContract:
        body = self._http.call("POST", f"/v1/contracts/{quote(str(contract_code or ' '), safe='')}/register",
                               json={"project_code": project_code})
        return RegisteredContract(**{**body, "registered_at": datetime.fromisoformat(body["registered_at"])})

    def record_statement(self, statement_id: str) -> RecordedStatement:
        body = self._http.call("POST", f"/v1/statements/{quote(str(statement_id or ' '), safe='/')}/record")
        return RecordedStatement(**{**body, "recorded_at": datetime.fromisoformat(body["recorded_at"])})

    def project_figures(self, unit: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._http.call("GET", "/v1/figures",
                                                       params={"unit": unit} if unit is not None else None)
        return result
