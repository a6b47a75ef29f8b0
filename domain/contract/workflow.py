"""Contract registration with workflow (R12, R13) as an explicit state machine.

Stages are data (policy TOML `[[workflow.default]]`, per unit), never defaults in code. A contract sits in one stage; the stage's role
approves it (and, where the stage says so, the contractor's signatory co-signs) and the
contract moves to the next stage. Until `final` it has only a tracking number; the contract
code is issued on reaching `final`, after every field the transparency site shows is present.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.contract.code import make_contract_code, validate_contract_code
from domain.contract.fields import require_complete, required_fields
from domain.contract.payment import FINAL_STAGE, ContractView
from domain.contract.roles import Act, RoleCheck, check_act, has_signature
from domain.reasons import DomainError, Reason

__all__ = [
    "FINAL", "CONTRACTOR_SIGNATORY", "StageDef", "stages_from_policy",
    "StageEvent", "ContractRegistration", "CodeGenerator", "make_contract_code", "validate_contract_code",
]

FINAL = FINAL_STAGE
# The contractor's signatory acts for its company: role_check gets the company national ID as unit.
CONTRACTOR_SIGNATORY = "contractor_signatory"

# code_generator(unit, at) -> contract code; owns the per-unit, per-year sequence.
CodeGenerator = Callable[[str, datetime], str]

# Fields a stage needs before its approval, with the reason code their absence carries.
_FIELD_REASONS = {"budget_line": Reason.BUDGET_LINE_MISSING, "expense_factor": Reason.EXPENSE_FACTOR_MISSING}


@dataclass(frozen=True)
class StageDef:
    """One stage: its approving role, whether its approval is e-signed with a token, the fields it
    collects before approval, and whether the contractor's signatory co-signs it."""

    name: str
    role: str
    needs_token_signature: bool = False
    requires_fields: tuple[str, ...] = ()
    contractor_signs: bool = False


def stages_from_policy(entries: Iterable[object]) -> tuple[StageDef, ...]:
    """StageDefs from the policy's workflow entries (dicts or objects with stage, role, signature and
    optionally requires_fields, contractor_signs), in order.

    Raises: POLICY_INVALID (a stage without name or role, fewer than two stages, a duplicate name, or
    a last stage other than `final`). Rule: R12; tender-rules.md "Contract registration"."""
    stages: list[StageDef] = []
    for i, entry in enumerate(entries):
        get = entry.get if isinstance(entry, Mapping) else (lambda k, d=None, e=entry: getattr(e, k, d))
        name = str(get("stage", "") or "").strip()
        role = str(get("role", "") or "").strip()
        if not name or not role:
            raise DomainError(Reason.POLICY_INVALID, f"workflow[{i}]: مرحله و سمت لازم است")
        stages.append(StageDef(name, role, bool(get("signature", False)),
                               tuple(get("requires_fields") or ()), bool(get("contractor_signs", False))))
    _check_stages(stages)
    return tuple(stages)


def _check_stages(stages: list[StageDef] | tuple[StageDef, ...]) -> None:
    names = [s.name for s in stages]
    if len(stages) < 2 or names[-1] != FINAL:
        raise DomainError(Reason.POLICY_INVALID, "گردش قرارداد باید دست‌کم دو مرحله داشته باشد و به «final» ختم شود")
    if len(set(names)) != len(names):
        raise DomainError(Reason.POLICY_INVALID, f"نام مرحلهٔ تکراری در گردش قرارداد: {names}")


@dataclass(frozen=True)
class StageEvent:
    kind: str  # approved | returned | registered_without_workflow
    stage: str
    national_id: str
    role: str
    unit: str
    at: datetime
    signature_ref: str | None = None
    to_stage: str | None = None


@dataclass
class ContractRegistration:
    tracking_number: str
    unit: str
    kind: str
    stages: tuple[StageDef, ...]
    stage: str
    fields: dict[str, object]
    code: str | None = None
    with_workflow: bool = True
    history: list[StageEvent] = field(default_factory=list)

    # --- creation -----------------------------------------------------------------
    @classmethod
    def open(cls, tracking_number: str, unit: str, kind: str, fields: Mapping[str, object] | None,
             stages: Iterable[StageDef]) -> ContractRegistration:
        """A new contract at the first of the unit's policy stages, with a tracking number and no code.

        Raises: POLICY_INVALID (unusable stages), INVALID_INPUT (unknown kind, blank tracking number).
        Rule: R12; tender-rules.md "Contract registration"."""
        stages = tuple(stages)
        _check_stages(stages)
        required_fields(kind)  # rejects an unknown kind early
        if not str(tracking_number).strip():
            raise DomainError(Reason.INVALID_INPUT, "شمارهٔ پیگیری قرارداد لازم است")
        data = dict(fields or {})
        data["unit"] = unit
        return cls(tracking_number=tracking_number, unit=unit, kind=kind, stages=stages,
                   stage=stages[0].name, fields=data)

    @classmethod
    def register_without_workflow(cls, tracking_number: str, unit: str, kind: str,
                                  fields: Mapping[str, object], act: Act, role_check: RoleCheck,
                                  code_generator: CodeGenerator, allowed: bool,
                                  stages: Iterable[StageDef]) -> ContractRegistration:
        """Direct to final, only where the policy calendar still allows it for the unit and date.

        Raises: REGISTRATION_WITHOUT_WORKFLOW_DISABLED (allowed is False), SIGNER_NOT_IN_ROLE (the final
        stage's role), FIELD_MISSING / INVALID_INPUT (incomplete fields), and those of open().
        Rule: R12; tender-rules.md "Contract registration" (last item)."""
        if not allowed:
            raise DomainError(Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED, f"واحد «{unit}»")
        reg = cls.open(tracking_number, unit, kind, fields, stages)
        final = reg.stages[-1]
        nid = check_act(act, final.role, unit, role_check)
        require_complete(kind, reg.fields)
        reg.code = _issue_code(code_generator, unit, act.at)
        reg.stage = FINAL
        reg.with_workflow = False
        reg.history.append(StageEvent("registered_without_workflow", FINAL, nid, act.role, act.unit, act.at,
                                      act.signature_ref))
        return reg

    # --- questions ----------------------------------------------------------------
    @property
    def is_final(self) -> bool:
        return self.stage == FINAL

    @property
    def current(self) -> StageDef:
        return self.stages[self._index(self.stage)]

    def view(self) -> ContractView:
        return ContractView(code=self.code, stage=self.stage)

    def pending_roles(self) -> list[str]:
        """Roles whose approval the current stage still waits for."""
        if self.is_final:
            return []
        done = {e.role for e in self._approvals_in_current_stage()}
        return [r for r in self._required_roles(self.current) if r not in done]

    # --- transitions --------------------------------------------------------------
    def update_fields(self, changes: Mapping[str, object]) -> None:
        """Any field while in the first stage; afterwards only the fields the current stage collects."""
        if self.is_final:
            raise DomainError(Reason.WRONG_STAGE, "قرارداد نهایی شده است و تغییر نمی‌کند")
        allowed = None if self.stage == self.stages[0].name else set(self.current.requires_fields)
        if allowed is not None:
            extra = sorted(set(changes) - allowed)
            if extra:
                raise DomainError(Reason.WRONG_STAGE, f"در مرحلهٔ «{self.stage}» این اقلام تغییر نمی‌کنند: {extra}")
        if "unit" in changes and changes["unit"] != self.unit:
            raise DomainError(Reason.INVALID_INPUT, "واحد قرارداد تغییر نمی‌کند")
        self.fields.update(changes)

    def approve(self, stage: str, act: Act, role_check: RoleCheck, code_generator: CodeGenerator) -> None:
        """One approval (or the contractor's co-signature) of the current stage; all checks before any change."""
        if self.is_final or stage != self.stage:
            raise DomainError(Reason.WRONG_STAGE, f"قرارداد در مرحلهٔ «{self.stage}» است، نه «{stage}»")
        sdef = self.current
        role, unit = self._role_and_unit(sdef, act)
        if role not in self.pending_roles():
            raise DomainError(Reason.WRONG_STAGE, f"سمت «{role}» این مرحله را قبلاً تأیید کرده است")
        nid = check_act(act, role, unit, role_check)
        if sdef.needs_token_signature and not has_signature(act):
            raise DomainError(Reason.SIGNATURE_INVALID, f"مرحلهٔ «{sdef.name}» امضای الکترونیکی با توکن لازم دارد")
        self._check_time(act.at)
        for name in sdef.requires_fields:
            if _empty(self.fields.get(name)):
                raise DomainError(_FIELD_REASONS.get(name, Reason.FIELD_MISSING), name)
        event = StageEvent("approved", sdef.name, nid, role, unit, act.at, act.signature_ref)
        completes = [r for r in self.pending_roles() if r != role] == []
        if not completes:
            self.history.append(event)
            return
        next_stage = self.stages[self._index(sdef.name) + 1].name
        code = None
        if next_stage == FINAL:
            require_complete(self.kind, self.fields)
            code = _issue_code(code_generator, self.unit, act.at)
        self.history.append(event)
        self.stage = next_stage
        if code is not None:
            self.code = code

    def send_back(self, to_stage: str, act: Act, role_check: RoleCheck) -> None:
        """The current stage's approver returns the contract to an earlier stage for correction."""
        if self.is_final:
            raise DomainError(Reason.WRONG_STAGE, "قرارداد نهایی شده است")
        here, there = self._index(self.stage), self._index(to_stage)
        if there >= here:
            raise DomainError(Reason.WRONG_STAGE, f"بازگشت فقط به مرحلهٔ پیشین ممکن است: «{to_stage}»")
        nid = check_act(act, self.current.role, self.unit, role_check)
        self._check_time(act.at)
        self.history.append(StageEvent("returned", self.stage, nid, act.role, act.unit, act.at,
                                       act.signature_ref, to_stage))
        self.stage = to_stage

    # --- helpers ------------------------------------------------------------------
    def _index(self, name: str) -> int:
        for i, s in enumerate(self.stages):
            if s.name == name:
                return i
        raise DomainError(Reason.WRONG_STAGE, f"مرحلهٔ ناشناخته: «{name}»")

    @staticmethod
    def _required_roles(sdef: StageDef) -> list[str]:
        return [sdef.role, CONTRACTOR_SIGNATORY] if sdef.contractor_signs else [sdef.role]

    def _role_and_unit(self, sdef: StageDef, act: Act) -> tuple[str, str]:
        if sdef.contractor_signs and act.role == CONTRACTOR_SIGNATORY:
            company = self.fields.get("contractor_national_id")
            if _empty(company):
                raise DomainError(Reason.FIELD_MISSING, "contractor_national_id")
            return CONTRACTOR_SIGNATORY, str(company)
        return sdef.role, self.unit

    def _approvals_in_current_stage(self) -> list[StageEvent]:
        # Approvals count since the contract last entered this stage (a return resets them).
        out: list[StageEvent] = []
        for event in reversed(self.history):
            if event.kind == "approved" and event.stage == self.stage:
                out.append(event)
            else:
                break
        return out

    def _check_time(self, at: datetime) -> None:
        if self.history and at < self.history[-1].at:
            raise DomainError(Reason.INVALID_INPUT, "زمان اقدام پیش از اقدام قبلی است")


def _issue_code(code_generator: CodeGenerator, unit: str, at: datetime) -> str:
    return validate_contract_code(code_generator(unit, at))


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
