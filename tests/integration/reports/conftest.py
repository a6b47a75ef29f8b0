from __future__ import annotations

import json
from datetime import datetime

import pytest

from domain.persian import parse_jalali_datetime
from store.models import Contract


def at(jalali: str) -> datetime:
    return parse_jalali_datetime(jalali)


@pytest.fixture
def add_contract(with_units):
    counter = iter(range(1, 10_000))

    def add(unit: str, stage: str, klass: str | None, concluded: str | None = None, created: str | None = None,
            amount: int = 500_000_000, code: str | None = None, subject: str = "قرارداد",
            legacy: bool = False) -> int:
        n = next(counter)
        # As each path stores it: the engine under fields.subject, the legacy import flat.
        data: dict = {"subject": subject} if legacy else {"fields": {"subject": subject}}
        if created:
            data["created_at"] = at(created).isoformat()
        with with_units() as s:
            c = Contract(tracking_number=f"T-{n}", code=code, unit_id=unit, kind="general", stage=stage,
                         threshold_class=klass, amount_rial=amount, contractor_id="10000000077",
                         budget_line="1030201", expense_factor="EF-1",
                         concluded_at=at(concluded) if concluded else None, data_json=json.dumps(data))
            s.add(c)
            s.commit()
            return c.id

    return add
