"""The budget-line and expense-factor registries a contract's terms are chosen from (issue 13; R20,
R29): each unit's budget-line codes mapped to the municipality's general codes, and expense factors
whose new entries count once the financial system's committee approved them (until then they wait
in the treasurer's inbox). Kept by the registration office (`eproc contract registry ...`), audited.

    add_budget_line(deps, unit, code, general_code, title, actor)   -> dict
    add_expense_factor(deps, code, title, actor)                    -> dict (awaiting the committee)
    approve_expense_factor(deps, code, committee_ref, actor)        -> dict (approved, time UTC)
    budget_lines(deps, unit)                                        -> [dict]
"""
from __future__ import annotations

from typing import Any

from domain.persian import normalize
from domain.reasons import DomainError, Reason
from services.deps import Deps
from store import models as m
from store.contract_registries import registries


def _code(value: str, what: str) -> str:
    text = normalize(value or "").strip()
    if not text or len(text) > 60:
        raise DomainError(Reason.INVALID_INPUT, f"{what} باید ۱ تا ۶۰ نویسه باشد: «{value}»")
    return text


def _line(row: m.BudgetLine) -> dict[str, Any]:
    return {"unit": row.unit_id, "code": row.code, "general_code": row.general_code, "title": row.title}


def _factor(row: m.ExpenseFactor) -> dict[str, Any]:
    return {"code": row.code, "title": row.title, "committee_ref": row.committee_ref,
            "approved_at": row.approved_at.isoformat() if row.approved_at else None,
            "approved": row.approved_at is not None}


def add_budget_line(deps: Deps, unit: str, code: str, general_code: str, title: str, actor: str) -> dict[str, Any]:
    """Register the unit's budget line `code`, mapped to the general code `general_code` (R29).
    Adding the same code again keeps the first entry; another mapping for it is refused.

    Raises: UNKNOWN_UNIT; INVALID_INPUT (a blank or too long code, another general code)."""
    deps.policy.unit(unit)
    code, general = _code(code, "ردیف بودجه"), _code(general_code, "کد کل")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = registries(uow).add_budget_line(unit, code, general, normalize(title or "").strip()[:200], now)
        if row.general_code != general:
            raise DomainError(Reason.INVALID_INPUT, f"ردیف «{code}» پیش‌تر به کد کل «{row.general_code}» نگاشته شده است")
        uow.record(at=now, actor=actor, action="budget_line.add", entity="budget_line", entity_id=f"{unit}/{code}",
                   payload={"general_code": general})
        uow.commit()
        return _line(row)


def budget_lines(deps: Deps, unit: str) -> list[dict[str, Any]]:
    """The unit's budget lines with their general codes. Raises: UNKNOWN_UNIT."""
    deps.policy.unit(unit)
    with deps.uow() as uow:
        return [_line(r) for r in registries(uow).budget_lines(unit)]


def add_expense_factor(deps: Deps, code: str, title: str, actor: str) -> dict[str, Any]:
    """Register the expense factor `code`, awaiting the committee's approval (R29). Idempotent.

    Raises: INVALID_INPUT (a blank or too long code)."""
    code = _code(code, "عامل هزینه")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = registries(uow).add_expense_factor(code, normalize(title or "").strip()[:200], now)
        uow.record(at=now, actor=actor, action="expense_factor.add", entity="expense_factor", entity_id=code)
        uow.commit()
        return _factor(row)


def approve_expense_factor(deps: Deps, code: str, committee_ref: str, actor: str) -> dict[str, Any]:
    """Record the financial system's committee's approval of the expense factor `code` (its
    reference, the time now, aware UTC). Idempotent once approved.

    Raises: NOT_FOUND (not in the registry); INVALID_INPUT (a blank reference). Rule: R29."""
    ref = _code(committee_ref, "شمارهٔ مصوبهٔ کمیته")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = registries(uow).expense_factor(code)
        if row is None:
            raise DomainError(Reason.NOT_FOUND, f"عامل هزینهٔ «{code}» در ثبت عوامل هزینه نیست")
        if row.approved_at is None:
            row.committee_ref, row.approved_at = ref, now
            uow.record(at=now, actor=actor, action="expense_factor.approved", entity="expense_factor",
                       entity_id=code, payload={"committee_ref": ref})
            uow.commit()
        return _factor(row)
