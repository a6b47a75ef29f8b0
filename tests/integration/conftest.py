"""Fixtures the integration tests share: the bundled policy, its units and contracts on the test database."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.persian import parse_jalali_datetime
from store.models import Contract, Unit


@pytest.fixture
def policy():
    return load_policy(BUNDLED_POLICY)


@pytest.fixture
def with_units(sessions, policy):
    """`sessions` with every unit of the policy stored."""
    with sessions() as s:
        for u in policy.units:
            s.add(Unit(id=u.id, code=u.code, name=u.name, kind=u.kind))
        s.commit()
    return sessions


def at(jalali: str) -> datetime:
    """A Jalali Tehran time ("1400/06/10 10:30") as aware UTC."""
    return parse_jalali_datetime(jalali)


@pytest.fixture
def add_contract(with_units):
    """`add(unit, stage, class, concluded=, created=, amount=, code=, subject=, legacy=, contractor=)` -> the
    new contract's id: a contract row as each path stores it (the engine under fields.subject, the
    legacy import flat); times Jalali."""
    counter = iter(range(1, 10_000))

    def add(unit: str, stage: str, klass: str | None, concluded: str | None = None, created: str | None = None,
            amount: int = 500_000_000, code: str | None = None, subject: str = "قرارداد",
            legacy: bool = False, contractor: str = "10000000077") -> int:
        n = next(counter)
        data: dict = {"subject": subject} if legacy else {"fields": {"subject": subject}}
        if created:
            data["created_at"] = at(created).isoformat()
        with with_units() as s:
            c = Contract(tracking_number=f"T-{n}", code=code, unit_id=unit, kind="general", stage=stage,
                         threshold_class=klass, amount_rial=amount, contractor_id=contractor,
                         budget_line="1030201", expense_factor="EF-1",
                         concluded_at=at(concluded) if concluded else None, data_json=json.dumps(data))
            s.add(c)
            s.commit()
            return c.id

    return add
