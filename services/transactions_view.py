"""The transactions system as outside systems see it (integrations.transactions_api), read from the store.

The financial and project-control systems fetch contracts by code and statements by id here, so
what they record and pay is exactly what this system holds and has signed (R14, R18)."""
from __future__ import annotations

import json

from sqlalchemy.orm import sessionmaker

from domain.contract.payment_data import RegistrationView
from domain.contract.statement import SETTLED
from integrations.transactions_api import ContractInfo, StatementInfo
from services.signers import COMPANY_SIGNATORY
from store import models as m
from store.contract_registries import registries
from store.uow import UnitOfWork

SEPARATOR = "/"


def statement_key(tracking_number: str, ref: str) -> str:
    """A statement's id across the municipality: the contract's tracking number and the statement's ref."""
    return f"{tracking_number}{SEPARATOR}{ref}"


class StoreTransactionsSystem:
    """integrations.transactions_api.TransactionsSystem over the engine's store."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def contract_by_code(self, code: str) -> ContractInfo | None:
        if not code or not str(code).strip():
            return None
        with UnitOfWork(self._sessions) as uow:
            row = uow.contracts.by_code(str(code).strip())
            return _contract(row) if row is not None else None

    def registration(self, code: str) -> RegistrationView | None:
        """The registration of the contract under exactly this code, as the financial system checks it
        (R28, R29): stage, budget line with its general code from the unit's budget-line registry ("" when
        the line is not in it), expense factor and whether the registry holds it approved by the
        committee, budget-allocation code. None when no contract has this code (a blank code included)."""
        if not code or not str(code).strip():
            return None
        with UnitOfWork(self._sessions) as uow:
            row = uow.contracts.by_code(str(code).strip())
            if row is None:
                return None
            kept = registries(uow)
            line = kept.budget_line(row.unit_id, row.budget_line) if row.budget_line else None
            factor = kept.expense_factor(row.expense_factor) if row.expense_factor else None
            fields = json.loads(row.data_json or "{}").get("fields", {})
            return RegistrationView(code=row.code, stage=row.stage, budget_line=row.budget_line or "",
                                    budget_general_code=(line.general_code or "") if line is not None else "",
                                    expense_factor=row.expense_factor or "",
                                    expense_factor_approved=factor is not None and factor.approved_at is not None,
                                    budget_allocation_code=str(fields.get("budget_allocation_code") or ""))

    def statement(self, statement_id: str) -> StatementInfo | None:
        tracking, sep, ref = str(statement_id or "").rpartition(SEPARATOR)
        if not sep or not tracking or not ref:
            return None
        with UnitOfWork(self._sessions) as uow:
            contract = uow.contracts.by_tracking(tracking)
            if contract is None:
                return None
            row = uow.statements.by_ref(contract.id, ref)
            if row is None or row.result not in SETTLED:
                return None
            signed_roles = {s.role for s in uow.minutes.signatures("status_statement", statement_id) if s.reason is None}
            return StatementInfo(id=statement_id, contract_code=contract.code or "", result=row.result,  # type: ignore[arg-type]
                                 payable_rial=row.payable_rial if row.result == "approved" else 0,
                                 signed_by_contractor=COMPANY_SIGNATORY in signed_roles,
                                 signed_by_treasurer="treasurer" in signed_roles, signed_xml=row.xml or b"")


def _contract(row: m.Contract) -> ContractInfo:
    data = json.loads(row.data_json or "{}")
    title = data.get("fields", {}).get("subject", "")
    # Contracts registered before R30 were all expense contracts.
    return ContractInfo(code=row.code or "", tracking_number=row.tracking_number, unit=row.unit_id, stage=row.stage,
                        amount_rial=row.amount_rial, budget_line=row.budget_line or "",
                        expense_factor=row.expense_factor or "", contractor_company_id=row.contractor_id, title=title,
                        nature=data.get("nature") or "expense")
