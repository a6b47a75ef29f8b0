"""Who may act: every approval names a person, role, unit and time, checked against the role registry."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.identity import validate_national_id
from domain.reasons import DomainError, Reason

# role_check(national_id, role, unit, at) -> whether that person held that role in that unit then.
# For the contractor's signatories the "unit" is the contractor company's national ID.
RoleCheck = Callable[[str, str, str, datetime], bool]


@dataclass(frozen=True)
class Act:
    """One person's approval or signature; signature_ref names a verified signature (by id)."""

    national_id: str
    role: str
    unit: str
    at: datetime
    signature_ref: str | None = None


def check_act(act: Act, role: str, unit: str, role_check: RoleCheck) -> str:
    """Validate the act for the required role and unit; returns the normalised national ID."""
    if act.at.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان اقدام باید منطقه‌زمانی داشته باشد")
    nid = validate_national_id(act.national_id)
    if act.role != role:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"سمت لازم «{role}» است، نه «{act.role}»")
    if act.unit != unit:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"واحد لازم «{unit}» است، نه «{act.unit}»")
    if not role_check(nid, role, unit, act.at):
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"{nid} در سمت «{role}» واحد «{unit}»")
    return nid


def has_signature(act: Act) -> bool:
    return bool(act.signature_ref and str(act.signature_ref).strip())
