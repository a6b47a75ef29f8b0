"""A migrated store with the policy's units, contracts and payments added row by row (R29, R31)."""
from __future__ import annotations

import pytest

from domain.persian import parse_jalali_datetime as at
from store.models import Payment, StatusStatement


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
