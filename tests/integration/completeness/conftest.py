"""A migrated store with the policy's units, contracts and payments added row by row (R29, R31)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from domain.persian import parse_jalali_datetime
from store.models import Contract, Payment, StatusStatement


def at(jalali: str) -> datetime:
    return parse_jalali_datetime(jalali)


@pytest.fixture
def add_contract(with_units):
    counter = iter(range(1, 10_000))

    def add(unit: str, stage: str, klass: str | None, concluded: str | None = None, created: str | None = None,
            amount: int = 500_000_000, code: str | None = None, contractor: str = "10000000077") -> int:
        n = next(counter)
        data: dict = {"fields": {"subject": "قرارداد"}}
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


@pytest.fixture
def add_payment(with_units):
    counter = iter(range(1, 10_000))

    def pay(contract_id: int, key: str, amount: int, when: str, result: str = "paid") -> None:
        n = next(counter)
        with with_units() as s:
            st = StatusStatement(contract_id=contract_id, ref=f"s{n}", seq=n, at=at(when), cumulative_rial=amount,
                                 gross_rial=amount, payable_rial=amount, result="approved")
            s.add(st)
            s.flush()
            s.add(Payment(ref=f"s{n}", statement_id=st.id, payment_key=key, result=result, amount_rial=amount,
                          at=at(when)))
            s.commit()

    return pay
