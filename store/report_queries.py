"""Read-only queries behind the reports (R15, R24, refused payments)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.contract.payment import FINAL_STAGE
from store.models import AuditEntry, Contract, ContractApproval, Payment, StatusStatement

REFUSED = "refused"
APPROVED = "approved"


class ReportQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- R15 ---
    def contracts_open_or_concluded_since(self, unit_ids: Sequence[str], start: datetime) -> Iterator[Contract]:
        """The units' contracts not final, or concluded at or after `start` (aware UTC); streamed."""
        yield from self.session.scalars(
            select(Contract).where(Contract.unit_id.in_(list(unit_ids)))
            .where((Contract.stage != FINAL_STAGE) | (Contract.concluded_at >= start))
            .execution_options(yield_per=2_000))

    def first_approvals(self, unit_ids: Sequence[str]) -> dict[int, datetime]:
        """contract id -> its first registration approval (aware UTC), for the units' open contracts."""
        rows = self.session.execute(
            select(ContractApproval.contract_id, func.min(ContractApproval.approved_at))
            .join(Contract, Contract.id == ContractApproval.contract_id)
            .where(Contract.unit_id.in_(list(unit_ids)), Contract.stage != FINAL_STAGE)
            .group_by(ContractApproval.contract_id)).all()
        return {cid: _aware(at) for cid, at in rows if at is not None}

    # --- refused payments ---
    def refused_payments(self) -> Sequence[Payment]:
        return self.session.scalars(select(Payment).where(Payment.result == REFUSED)
                                    .order_by(Payment.at, Payment.id)).all()

    def refusals_logged(self, action: str) -> Sequence[AuditEntry]:
        """Audit entries of `action` that carry a reason code, in chain order."""
        return self.session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                             AuditEntry.reason.is_not(None))
                                    .order_by(AuditEntry.seq)).all()

    # --- R24 ---
    def final_contracts(self, unit_id: str | None = None) -> Sequence[Contract]:
        query = select(Contract).where(Contract.stage == FINAL_STAGE).order_by(Contract.unit_id, Contract.id)
        if unit_id is not None:
            query = query.where(Contract.unit_id == unit_id)
        return self.session.scalars(query).all()

    def approved_statement_totals(self, contract_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """contract id -> (approved statements, sum of their payable rials); absent when none."""
        if not contract_ids:
            return {}
        return {cid: (int(n), int(total)) for cid, n, total in self.session.execute(
            select(StatusStatement.contract_id, func.count(), func.coalesce(func.sum(StatusStatement.payable_rial), 0))
            .where(StatusStatement.result == APPROVED)
            .where(StatusStatement.contract_id.in_(list(contract_ids)))
            .group_by(StatusStatement.contract_id))}


def _aware(value: datetime | str) -> datetime:
    # An aggregate (min) bypasses the column type, so SQLite hands back a naive UTC value or a string.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
