"""Repository of the budget-line and expense-factor registries (issue 13, R29).

    registries(uow).budget_line(unit_id, code)      -> BudgetLine | None
    registries(uow).expense_factor(code)             -> ExpenseFactor | None

`registries(uow)` gives the repository of a unit of work's transaction (kept here so that nothing
outside `store/` touches its session)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import models as m
from store.uow import UnitOfWork


class ContractRegistries:
    """Budget lines (per unit, each mapped to a general code) and expense factors."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_budget_line(self, unit_id: str, code: str, general_code: str, title: str, at: datetime) -> m.BudgetLine:
        """The unit's budget line `code` (kept as first added when it exists)."""
        row = self.budget_line(unit_id, code)
        if row is None:
            row = m.BudgetLine(unit_id=unit_id, code=code, general_code=general_code, title=title, added_at=at)
            self.session.add(row)
            self.session.flush()
        return row

    def budget_line(self, unit_id: str, code: str) -> m.BudgetLine | None:
        return self.session.scalars(select(m.BudgetLine).where(m.BudgetLine.unit_id == unit_id,
                                                               m.BudgetLine.code == code)).first()

    def budget_lines(self, unit_id: str) -> Sequence[m.BudgetLine]:
        return self.session.scalars(select(m.BudgetLine).where(m.BudgetLine.unit_id == unit_id)
                                    .order_by(m.BudgetLine.code)).all()

    def add_expense_factor(self, code: str, title: str, at: datetime) -> m.ExpenseFactor:
        """The expense factor `code`, not yet approved by the committee (kept as first added)."""
        row = self.expense_factor(code)
        if row is None:
            row = m.ExpenseFactor(code=code, title=title, added_at=at)
            self.session.add(row)
            self.session.flush()
        return row

    def expense_factor(self, code: str) -> m.ExpenseFactor | None:
        return self.session.scalars(select(m.ExpenseFactor).where(m.ExpenseFactor.code == code)).first()

    def unapproved_expense_factors(self) -> Sequence[m.ExpenseFactor]:
        return self.session.scalars(select(m.ExpenseFactor).where(m.ExpenseFactor.approved_at.is_(None))
                                    .order_by(m.ExpenseFactor.code)).all()

    def contracts_at_stage(self, unit_id: str, stage: str) -> Sequence[m.Contract]:
        """The unit's contracts whose workflow waits at `stage` (the ix_contracts_unit_stage index)."""
        return self.session.scalars(select(m.Contract).where(m.Contract.unit_id == unit_id, m.Contract.stage == stage)
                                    .order_by(m.Contract.tracking_number)).all()

    def statements_in_review(self, unit_id: str, result: str) -> Sequence[tuple[m.StatusStatement, m.Contract]]:
        """The unit's status statements with `result` (in review), each with its contract."""
        rows = self.session.execute(select(m.StatusStatement, m.Contract)
                                    .join(m.Contract, m.Contract.id == m.StatusStatement.contract_id)
                                    .where(m.Contract.unit_id == unit_id, m.StatusStatement.result == result)
                                    .order_by(m.Contract.tracking_number, m.StatusStatement.seq)).all()
        return [(s, c) for s, c in rows]

    def contractor_contracts_in_workflow(self, contractor_id: str, final_stage: str) -> Sequence[m.Contract]:
        """The contractor's contracts (company national ID) whose workflow has not reached `final_stage`."""
        return self.session.scalars(select(m.Contract).where(m.Contract.contractor_id == contractor_id,
                                                             m.Contract.stage != final_stage)
                                    .order_by(m.Contract.tracking_number)).all()

    def contractor_statements_in_review(self, contractor_id: str,
                                        result: str) -> Sequence[tuple[m.StatusStatement, m.Contract]]:
        """The contractor's status statements with `result` (in review), each with its contract."""
        rows = self.session.execute(select(m.StatusStatement, m.Contract)
                                    .join(m.Contract, m.Contract.id == m.StatusStatement.contract_id)
                                    .where(m.Contract.contractor_id == contractor_id, m.StatusStatement.result == result)
                                    .order_by(m.Contract.tracking_number, m.StatusStatement.seq)).all()
        return [(s, c) for s, c in rows]


def registries(uow: UnitOfWork) -> ContractRegistries:
    """The registries' repository inside `uow`'s transaction."""
    return ContractRegistries(uow.session)
