"""The approval chain of an approved status statement (R17, R18, R07).

contractor signs → supervisor confirms → employer's reviewer confirms → (stricter path: one more
approver) → treasurer signs. Each step is an e-signature, referenced by the id of a verified
signature, by a person who held the step's role on that date.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.contract.payment import StatementView
from domain.contract.roles import Act, RoleCheck, check_act, has_signature
from domain.contract.statement import APPROVED, CONTRACTOR, TREASURER, StatementResult
from domain.reasons import DomainError, Reason


@dataclass(frozen=True)
class ChainStep:
    role: str
    national_id: str
    unit: str
    at: datetime
    signature_ref: str


@dataclass
class StatementApprovalChain:
    statement_id: str
    path: tuple[str, ...]
    unit: str            # the employer's unit
    contractor_id: str   # the contractor company's national ID: the contractor signs for it
    result: str = APPROVED
    steps: list[ChainStep] = field(default_factory=list)

    @classmethod
    def for_result(cls, result: StatementResult, unit: str, contractor_id: str) -> StatementApprovalChain:
        if result.result != APPROVED:
            raise DomainError(Reason.STATEMENT_NOT_APPROVED, f"صورت‌وضعیت {result.id}: {result.result}")
        return cls(result.id, tuple(result.approval_path), unit, contractor_id, result.result)

    @property
    def next_role(self) -> str | None:
        return self.path[len(self.steps)] if len(self.steps) < len(self.path) else None

    @property
    def complete(self) -> bool:
        return self.next_role is None

    @property
    def treasurer_signed(self) -> bool:
        return any(s.role == TREASURER for s in self.steps)

    @property
    def contractor_signed(self) -> bool:
        return any(s.role == CONTRACTOR for s in self.steps)

    def view(self) -> StatementView:
        """The statement as the payment gate sees it; signed only once the whole path has signed."""
        return StatementView(self.statement_id, self.result, self.complete and self.treasurer_signed,
                             self.complete and self.contractor_signed)

    def sign(self, act: Act, role_check: RoleCheck) -> None:
        expected = self.next_role
        if expected is None:
            raise DomainError(Reason.WRONG_STAGE, f"گردش صورت‌وضعیت {self.statement_id} کامل شده است")
        if act.role not in self.path:
            raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"سمت «{act.role}» در گردش این صورت‌وضعیت نیست")
        if act.role != expected:
            raise DomainError(Reason.WRONG_STAGE, f"نوبت «{expected}» است، نه «{act.role}»")
        unit = self.contractor_id if expected == CONTRACTOR else self.unit
        nid = check_act(act, expected, unit, role_check)
        if not has_signature(act):
            raise DomainError(Reason.STATEMENT_NOT_SIGNED, f"امضای «{expected}» بر صورت‌وضعیت {self.statement_id}")
        if self.steps and act.at < self.steps[-1].at:
            raise DomainError(Reason.INVALID_INPUT, "زمان امضا پیش از امضای قبلی است")
        self.steps.append(ChainStep(expected, nid, unit, act.at, str(act.signature_ref)))
