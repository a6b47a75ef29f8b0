"""Contracts by code and status statements by id, as outside systems read them from the API (R14, R18, R28).

The answer starts from what `services.transactions_view.StoreTransactionsSystem` tells the
financial and project-control systems (the one read of "which contract has this code", "which
statement has this id"), and adds what a person or another system shows next to it: the
contractor's registered name, the unit's name and the dates in UTC and Jalali (Tehran). Nothing
here is typed by a caller; every value is the store's (R28: others fetch, nobody types it again).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.persian import format_jalali_date, format_jalali_datetime
from domain.reasons import DomainError, Reason
from integrations.ocds import iso_utc
from integrations.transactions_api import ContractInfo, StatementInfo
from services.contract.document import data_of
from services.deps import Deps
from services.transactions_view import SEPARATOR, StoreTransactionsSystem


def _iso(when: datetime | None) -> str | None:
    return iso_utc(when) if when is not None else None


def _jalali(when: datetime | None) -> str | None:
    return format_jalali_datetime(when) if when is not None else None


@dataclass(frozen=True)
class StageApproval:
    """One workflow stage's approval: stage, role, time (aware UTC). Who approved stays in the engine."""

    stage: str
    role: str
    approved_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "role": self.role, "approved_at": _iso(self.approved_at),
                "approved_at_jalali": _jalali(self.approved_at)}


@dataclass(frozen=True)
class ContractRecord:
    """A contract as the transactions system holds it under its code.

    `info` is what the payment gate reads (integrations.transactions_api.ContractInfo: code, tracking
    number, unit, stage, amount in rials, budget line, expense factor, contractor's company ID, title);
    the rest is for showing it: unit name, threshold class, selection method, the contractor's
    registered name, economic code and grade, the contract date (Tehran calendar day), the time the
    code was issued (`concluded_at`, aware UTC) and the workflow approvals in order."""

    info: ContractInfo
    unit_name: str
    threshold_class: str | None
    selection_method: str | None
    contractor_name: str
    contractor_economic_code: str
    contractor_grade: int | None
    contract_date: str | None  # ISO date, Tehran calendar
    concluded_at: datetime | None
    approvals: tuple[StageApproval, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of `GET /v1/contracts/{code}`: amounts in rials (int), times RFC 3339 UTC and
        Jalali (`YYYY/MM/DD HH:MM`, Tehran), dates ISO and Jalali (`YYYY/MM/DD`)."""
        i = self.info
        day = date.fromisoformat(self.contract_date) if self.contract_date else None
        return {
            "code": i.code, "tracking_number": i.tracking_number, "stage": i.stage, "unit": i.unit,
            "unit_name": self.unit_name, "title": i.title, "threshold_class": self.threshold_class,
            "selection_method": self.selection_method, "amount_rial": i.amount_rial,
            "budget_line": i.budget_line, "expense_factor": i.expense_factor, "nature": i.nature,
            "contractor": {"company_id": i.contractor_company_id, "name": self.contractor_name,
                           "economic_code": self.contractor_economic_code, "grade": self.contractor_grade},
            "contract_date": self.contract_date,
            "contract_date_jalali": format_jalali_date(day) if day is not None else None,
            "concluded_at": _iso(self.concluded_at), "concluded_at_jalali": _jalali(self.concluded_at),
            "approvals": [a.to_dict() for a in self.approvals],
        }


@dataclass(frozen=True)
class StatementRecord:
    """A settled status statement under its id (`services.transactions_view.statement_key`:
    `{tracking number}/{ref}`): `info` is what the financial system pays from
    (integrations.transactions_api.StatementInfo); `at` is the statement's time (aware UTC), and
    the gross, penalty and cumulative amounts are in rials."""

    info: StatementInfo
    tracking_number: str
    ref: str
    at: datetime
    cumulative_rial: int
    gross_rial: int
    penalty_rial: int
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of `GET /v1/statements/{id}`; `signed_xml_b64` is the signed statement, byte
        for byte, in base64 (its XML signatures verify only on the exact bytes)."""
        i = self.info
        return {
            "id": i.id, "contract_code": i.contract_code, "tracking_number": self.tracking_number, "ref": self.ref,
            "result": i.result, "reason": self.reason, "at": _iso(self.at), "at_jalali": _jalali(self.at),
            "cumulative_rial": self.cumulative_rial, "gross_rial": self.gross_rial,
            "penalty_rial": self.penalty_rial, "payable_rial": i.payable_rial,
            "signed_by_contractor": i.signed_by_contractor, "signed_by_treasurer": i.signed_by_treasurer,
            "signed_xml_b64": base64.b64encode(i.signed_xml).decode("ascii"),
        }


def contract_by_code(deps: Deps, code: str) -> ContractRecord:
    """The contract registered under exactly this contract code (issued only at `final`, R12), so a
    contract still in its workflow has no answer here.

    Raises: NOT_FOUND when no contract has this code (a blank code included).
    Rule: R14, R28 (outside systems fetch the contract by its code)."""
    info = StoreTransactionsSystem(deps.sessions).contract_by_code(code)
    if info is None or info.code != str(code).strip():
        raise DomainError(Reason.NOT_FOUND, f"قراردادی با کد «{code}» در سامانهٔ معاملات نیست")
    with deps.uow() as uow:
        row = uow.contracts.by_code(info.code)
        if row is None:  # removed between the two reads
            raise DomainError(Reason.NOT_FOUND, f"قراردادی با کد «{code}» در سامانهٔ معاملات نیست")
        fields = data_of(row).get("fields", {})
        unit = uow.units.get(row.unit_id)
        company = uow.companies.get(row.contractor_id)
        approvals = tuple(StageApproval(a.stage, a.role, a.approved_at) for a in uow.contracts.approvals(row.id))
    return ContractRecord(
        info=info, unit_name=unit.name, threshold_class=row.threshold_class,
        selection_method=fields.get("selection_method"),
        contractor_name=company.name if company else "",
        contractor_economic_code=company.economic_code if company else "",
        contractor_grade=company.grade if company else None,
        contract_date=fields.get("contract_date"), concluded_at=row.concluded_at, approvals=approvals)


def statement_by_id(deps: Deps, statement_id: str) -> StatementRecord:
    """The settled (approved, halted or refused) status statement with this id.

    Raises: NOT_FOUND for an unknown, malformed or not yet settled id.
    Rule: R18 (the financial system pays only from the statement data received from this system)."""
    info = StoreTransactionsSystem(deps.sessions).statement(statement_id)
    missing = DomainError(Reason.NOT_FOUND, f"صورت‌وضعیتی با شناسهٔ «{statement_id}» در سامانهٔ معاملات نیست")
    if info is None:
        raise missing
    tracking, _, ref = statement_id.rpartition(SEPARATOR)
    with deps.uow() as uow:
        contract = uow.contracts.by_tracking(tracking)
        row = uow.statements.by_ref(contract.id, ref) if contract is not None else None
        if row is None:
            raise missing
    return StatementRecord(info=info, tracking_number=tracking, ref=ref, at=row.at,
                           cumulative_rial=row.cumulative_rial, gross_rial=row.gross_rial,
                           penalty_rial=row.penalty_rial, reason=row.reason)
