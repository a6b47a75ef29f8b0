"""Fixtures for the contract-side rules: a role registry and complete contract fields."""
from __future__ import annotations

from datetime import date

import pytest
from contract_helpers import RoleRegistry, national_id


@pytest.fixture
def roles() -> RoleRegistry:
    return RoleRegistry()


@pytest.fixture
def general_fields() -> dict:
    """Every field the transparency site shows for district 12's asphalt contract (winner b3)."""
    return {
        "employer_signatories": ["5260181591"],
        "commission_members": ["5260181591", "0830166130", "1860913903", "9960308243", "6281948211"],
        "contractor_national_id": "84268465631",
        "contractor_ceo": national_id("012345678"),
        "contractor_signatories": [national_id("012345678"), national_id("112233445")],
        "contractor_economic_code": "411111111113",
        "contractor_grade": 1,
        "selection_method": "tender",
        "supervisor": "5432319489",
        "contract_date": date(2021, 7, 20),
        "contract_amount_rial": 12_967_500_000,
        "subject": "بهسازی آسفالت معابر ناحیه ۳ منطقه ۱۲",
        "unit": "district-12",
        "threshold_class": "large",
        "budget_line": "1400-12-30201-034",
        "expense_factor": "EF-12-ROAD",
    }

