"""Project-control stub: contracts only by code from the transactions system (R14, R24)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.clock import Clock
from domain.money import check_rial
from domain.persian import format_jalali_date, normalize
from domain.reasons import DomainError, Reason
from integrations.project_control import ProjectDefinition, RecordedStatement, RegisteredContract
from integrations.stubs._db import TransactionsReadingStub, inserted, is_blank
from integrations.transactions_api import ContractInfo, usable_contract
from store.stub_tables import ExtPcContract, ExtPcCost, ExtPcProject, ExtPcStatement


class ProjectControlStub(TransactionsReadingStub):
    # --- projects -----------------------------------------------------------------------

    def define_project(self, project: ProjectDefinition) -> ProjectDefinition:
        missing = [name for name in ("project_code", "title", "unit")
                   if is_blank(getattr(project, name))]
        if missing:
            raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))
        check_rial(project.credits_rial, field="credits_rial")
        if project.planned_end_date < project.start_date:
            raise DomainError(Reason.INVALID_INPUT, "تاریخ پایان پیش از تاریخ شروع است")
        row = ExtPcProject(project_code=project.project_code, title=normalize(project.title),
                           unit=project.unit, start_date=project.start_date,
                           planned_end_date=project.planned_end_date,
                           credits_rial=project.credits_rial,
                           physical_progress_pct=Decimal("0"), planned_progress_pct=Decimal("0"))
        with self._sessions() as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError as exc:
                raise DomainError(Reason.INVALID_INPUT,
                                  f"پروژه {project.project_code} قبلاً تعریف شده است") from exc
        return project

    def report_progress(self, project_code: str, physical_pct: Decimal | int | str,
                        planned_pct: Decimal | int | str, as_of: date) -> None:
        physical, planned = _percent(physical_pct), _percent(planned_pct)
        with self._sessions() as session:
            row = self._project(session, project_code)
            row.physical_progress_pct = physical
            row.planned_progress_pct = planned
            row.progress_as_of = as_of
            session.commit()

    def record_cost(self, project_code: str, amount_rial: int, description: str) -> None:
        check_rial(amount_rial, minimum=1, field="amount_rial")
        if is_blank(description):
            raise DomainError(Reason.FIELD_MISSING, "description")
        with self._sessions() as session:
            self._project(session, project_code)
            session.add(ExtPcCost(project_code=project_code, amount_rial=amount_rial,
                                  description=normalize(description), recorded_at=self._clock.now()))
            session.commit()

    # --- contracts and statements (R14) -------------------------------------------------

    def register_contract(self, contract_code: str, project_code: str | None = None) -> RegisteredContract:
        contract = usable_contract(self._transactions, contract_code)
        by_code = select(ExtPcContract).where(ExtPcContract.contract_code == contract.code)
        with self._sessions() as session:
            if project_code is not None:
                self._project(session, project_code)
            row = session.scalar(by_code)
            if row is None:
                row = _contract_row(contract, project_code, self._clock)
                if not inserted(session, row):  # registered concurrently: use that row
                    row = session.scalars(by_code).one()
            self._attach_project(row, project_code)
            session.commit()
            return _registered(row)

    def record_statement(self, statement_id: str) -> RecordedStatement:
        statement = self._transactions.statement(statement_id) if not is_blank(statement_id) else None
        if statement is None:
            raise DomainError(Reason.INVALID_INPUT, f"صورت‌وضعیت «{statement_id}» در سامانهٔ معاملات نیست")
        # Registering goes through the same fetch-by-code rules as register_contract.
        self.register_contract(statement.contract_code)
        now = self._clock.now()
        by_id = select(ExtPcStatement).where(ExtPcStatement.statement_id == statement.id)
        with self._sessions() as session:
            row = session.scalar(by_id)
            if row is None:
                row = ExtPcStatement(statement_id=statement.id, contract_code=statement.contract_code,
                                     result=statement.result, payable_rial=statement.payable_rial,
                                     recorded_at=now)
                session.add(row)
            else:
                row.result, row.payable_rial, row.recorded_at = statement.result, statement.payable_rial, now
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # recorded concurrently: use that row
                row = session.scalars(by_id).one()
            return RecordedStatement(statement_id=row.statement_id, contract_code=row.contract_code,
                                     result=row.result, payable_rial=row.payable_rial,
                                     recorded_at=row.recorded_at)

    def contract(self, contract_code: str) -> RegisteredContract | None:
        with self._sessions() as session:
            row = session.scalar(select(ExtPcContract).where(ExtPcContract.contract_code == contract_code))
            return _registered(row) if row else None

    # --- publication figures (R24) ------------------------------------------------------

    def project_figures(self, unit: str | None = None) -> list[dict[str, Any]]:
        with self._sessions() as session:
            query = select(ExtPcProject).order_by(ExtPcProject.project_code)
            if unit is not None:
                query = query.where(ExtPcProject.unit == unit)
            projects = list(session.scalars(query))
            codes = [p.project_code for p in projects]
            contracts: dict[str, list[ExtPcContract]] = defaultdict(list)
            for c in session.scalars(select(ExtPcContract).where(ExtPcContract.project_code.in_(codes))
                                     .order_by(ExtPcContract.contract_code)):
                contracts[c.project_code or ""].append(c)
            statements: dict[str, list[ExtPcStatement]] = defaultdict(list)
            all_codes = [c.contract_code for cs in contracts.values() for c in cs]
            for s in session.scalars(select(ExtPcStatement).where(ExtPcStatement.contract_code.in_(all_codes))):
                statements[s.contract_code].append(s)
            costs: dict[str, int] = defaultdict(int)
            for cost in session.scalars(select(ExtPcCost).where(ExtPcCost.project_code.in_(codes))):
                costs[cost.project_code] += cost.amount_rial
            return [_figures(p, contracts[p.project_code], statements, costs[p.project_code])
                    for p in projects]

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _project(session: Any, project_code: str) -> ExtPcProject:
        row = session.scalar(select(ExtPcProject).where(ExtPcProject.project_code == project_code))
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"پروژهٔ «{project_code}» تعریف نشده است")
        return row

    @staticmethod
    def _attach_project(row: ExtPcContract, project_code: str | None) -> None:
        if project_code is None or row.project_code == project_code:
            return
        if row.project_code is not None:
            raise DomainError(Reason.INVALID_INPUT,
                              f"قرارداد {row.contract_code} به پروژهٔ {row.project_code} وابسته است")
        row.project_code = project_code


def _percent(value: Decimal | int | str) -> Decimal:
    try:
        pct = Decimal(str(value))
    except InvalidOperation as exc:
        raise DomainError(Reason.INVALID_INPUT, f"درصد نامعتبر: {value!r}") from exc
    if not Decimal(0) <= pct <= Decimal(100):
        raise DomainError(Reason.INVALID_INPUT, f"درصد باید بین ۰ و ۱۰۰ باشد: {value}")
    return pct.quantize(Decimal("0.01"))


def _contract_row(contract: ContractInfo, project_code: str | None, clock: Clock) -> ExtPcContract:
    return ExtPcContract(contract_code=contract.code, project_code=project_code,
                         tracking_number=contract.tracking_number, unit=contract.unit,
                         title=contract.title, amount_rial=contract.amount_rial,
                         budget_line=contract.budget_line, expense_factor=contract.expense_factor,
                         contractor_company_id=contract.contractor_company_id,
                         registered_at=clock.now())


def _registered(row: ExtPcContract) -> RegisteredContract:
    return RegisteredContract(contract_code=row.contract_code, project_code=row.project_code,
                              tracking_number=row.tracking_number, unit=row.unit, title=row.title,
                              amount_rial=row.amount_rial, budget_line=row.budget_line,
                              expense_factor=row.expense_factor,
                              contractor_company_id=row.contractor_company_id,
                              registered_at=row.registered_at)


def _figures(p: ExtPcProject, contracts: list[ExtPcContract],
             statements: dict[str, list[ExtPcStatement]], costs_rial: int) -> dict[str, Any]:
    approved = [s for c in contracts for s in statements[c.contract_code] if s.result == "approved"]
    return {
        "project_code": p.project_code,
        "title": p.title,
        "unit": p.unit,
        "physical_progress_pct": str(Decimal(p.physical_progress_pct).quantize(Decimal("0.01"))),
        "planned_progress_pct": str(Decimal(p.planned_progress_pct).quantize(Decimal("0.01"))),
        "progress_as_of": p.progress_as_of.isoformat() if p.progress_as_of else None,
        "start_date": p.start_date.isoformat(),
        "start_date_jalali": format_jalali_date(p.start_date),
        "planned_end_date": p.planned_end_date.isoformat(),
        "planned_end_date_jalali": format_jalali_date(p.planned_end_date),
        "credits_rial": p.credits_rial,
        "commitments_rial": sum(c.amount_rial for c in contracts),
        "statements_count": len(approved),
        "statements_total_rial": sum(s.payable_rial for s in approved),
        "costs_rial": costs_rial,
        "contracts": [{
            "contract_code": c.contract_code,
            "title": c.title,
            "tracking_number": c.tracking_number,
            "amount_rial": c.amount_rial,
            "contractor_company_id": c.contractor_company_id,
            "budget_line": c.budget_line,
            "expense_factor": c.expense_factor,
            "statements_total_rial": sum(s.payable_rial for s in statements[c.contract_code]
                                         if s.result == "approved"),
        } for c in contracts],
    }
