"""The project-control system (R14, R24).

It registers a contract only by fetching it by code from the transactions system, records
status statements only for contracts whose workflow is final, and yields the construction
project figures the transparency site publishes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class ProjectDefinition:
    project_code: str
    title: str
    unit: str
    start_date: date
    planned_end_date: date
    credits_rial: int


@dataclass(frozen=True)
class RegisteredContract:
    contract_code: str
    project_code: str | None
    tracking_number: str
    unit: str
    title: str
    amount_rial: int
    budget_line: str
    expense_factor: str
    contractor_company_id: str
    registered_at: datetime


@dataclass(frozen=True)
class RecordedStatement:
    statement_id: str
    contract_code: str
    result: str
    payable_rial: int
    recorded_at: datetime


class ProjectControlSystem(Protocol):
    def define_project(self, project: ProjectDefinition) -> ProjectDefinition:
        ...

    def report_progress(self, project_code: str, physical_pct: Decimal | int | str,
                        planned_pct: Decimal | int | str, as_of: date) -> None:
        ...

    def record_cost(self, project_code: str, amount_rial: int, description: str) -> None:
        ...

    def register_contract(self, contract_code: str, project_code: str | None = None) -> RegisteredContract:
        ...

    def record_statement(self, statement_id: str) -> RecordedStatement:
        ...

    def project_figures(self, unit: str | None = None) -> list[dict[str, Any]]:
        ...
