"""The project-control system as its own service (issue 13 part 4, R14, R24): the stub
(integrations.stubs.project_control.ProjectControlStub) on the service's own database, registering
contracts and recording statements only by fetching them from the transactions system by code/id."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Query
from pydantic import BaseModel

from integrations.project_control import ProjectDefinition
from integrations.services._web import service_app
from integrations.stubs.project_control import ProjectControlStub


class ProjectBody(BaseModel):
    project_code: str
    title: str
    unit: str
    start_date: date
    planned_end_date: date
    credits_rial: int


class ProgressBody(BaseModel):
    physical_pct: str
    planned_pct: str
    as_of: date


class CostBody(BaseModel):
    amount_rial: int
    description: str


class RegisterBody(BaseModel):
    project_code: str | None = None


def _json(record: object) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, (datetime, date)) else v
            for k, v in asdict(record).items()}  # type: ignore[call-overload]


def create_app(stub: ProjectControlStub) -> FastAPI:
    """The project-control service's HTTP API (JSON; refusals `{reason, message_fa, detail}`)."""
    app = service_app("سامانهٔ کنترل پروژه (شبیه‌ساز) — project-control stub service")

    @app.post("/v1/projects")
    def define(body: ProjectBody) -> dict[str, Any]:
        return _json(stub.define_project(ProjectDefinition(**body.model_dump())))

    @app.post("/v1/projects/{project_code}/progress")
    def progress(project_code: str, body: ProgressBody) -> dict[str, str]:
        stub.report_progress(project_code, body.physical_pct, body.planned_pct, body.as_of)
        return {"status": "ok"}

    @app.post("/v1/projects/{project_code}/costs")
    def cost(project_code: str, body: CostBody) -> dict[str, str]:
        stub.record_cost(project_code, body.amount_rial, body.description)
        return {"status": "ok"}

    @app.post("/v1/contracts/{code}/register")
    def register(code: str, body: RegisterBody) -> dict[str, Any]:
        return _json(stub.register_contract(code, body.project_code))

    @app.post("/v1/statements/{statement_id:path}/record")
    def record(statement_id: str) -> dict[str, Any]:
        return _json(stub.record_statement(statement_id))

    @app.get("/v1/figures")
    def figures(unit: str | None = Query(None)) -> list[dict[str, Any]]:
        return stub.project_figures(unit)

    return app
