"""R21 (published fields, cut-off), R22 (real estate), R23 (barter), R15 (threshold class)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from contract_helpers import POLICY, national_id

from domain.contract.fields import (
    BARTER,
    GENERAL,
    REAL_ESTATE_ACQUISITION,
    REAL_ESTATE_LEASE,
    REAL_ESTATE_RENT_OUT,
    REAL_ESTATE_SALE,
    missing_fields,
    publishable,
    require_complete,
    threshold_class,
)
from domain.persian import parse_jalali_date
from domain.reasons import DomainError, Reason

R21_FIELDS = ["employer_signatories", "commission_members", "contractor_national_id", "contractor_ceo",
              "contractor_signatories", "contractor_economic_code", "contractor_grade", "selection_method",
              "supervisor", "contract_date", "contract_amount_rial", "subject", "unit", "threshold_class",
              "budget_line", "expense_factor"]
R22_FIELDS = ["property_type", "area_m2", "location", "registration_plate", "address", "commission_date",
              "commission_votes", "expert_valuation_number", "expert_valuation_date",
              "expert_valuation_amount_rial", "total_amount_rial", "signatories"]
LEASE_FIELDS = ["lessor", "lease_period_months", "lease_start_date", "lease_end_date", "monthly_rent_rial",
                "lease_total_rial"]


@pytest.fixture
def real_estate(general_fields):
    return {**general_fields,
            "property_type": "زمین", "area_m2": 1250, "location": "منطقه ۲، ناحیه ۱",
            "registration_plate": "۱۲۳/۴۵", "address": "تهران، خیابان نمونه، پلاک ۱۰",
            "commission_date": date(2021, 6, 1),
            "commission_votes": [{"member": "9935181901", "vote": "yes"}, {"member": "9378657974", "vote": "yes"}],
            "expert_valuation_number": "EXP-1400-77", "expert_valuation_date": date(2021, 5, 20),
            "expert_valuation_amount_rial": 85_000_000_000, "total_amount_rial": 85_000_000_000,
            "signatories": ["9935181901", national_id("998877665")]}


def test_r21_complete_general_contract_passes(general_fields):
    assert missing_fields(GENERAL, general_fields) == []
    require_complete(GENERAL, general_fields)


def test_r21_every_published_field_is_mandatory(general_fields):
    for name in R21_FIELDS:
        for empty in (None, "", "   ", []):
            data = {**general_fields, name: empty}
            assert missing_fields(GENERAL, data) == [name]
        data = {k: v for k, v in general_fields.items() if k != name}
        with pytest.raises(DomainError) as err:
            require_complete(GENERAL, data)
        assert err.value.reason is Reason.FIELD_MISSING and name in err.value.detail


def test_r21_detail_names_all_missing_fields(general_fields):
    data = {**general_fields, "supervisor": "", "contract_date": None, "employer_signatories": ["5260181591", ""]}
    with pytest.raises(DomainError) as err:
        require_complete(GENERAL, data)
    assert err.value.context["fields"] == "employer_signatories,supervisor,contract_date"


@pytest.mark.parametrize("field, value", [("contractor_national_id", "84268465632"),
                                          ("contractor_ceo", "1234567890"),
                                          ("supervisor", "typed name"),
                                          ("commission_members", ["5260181591", "0000000000"]),
                                          ("contractor_economic_code", "41-1"),
                                          ("threshold_class", "huge")])
def test_r21_identifiers_must_be_registry_identifiers(general_fields, field, value):
    with pytest.raises(DomainError) as err:
        require_complete(GENERAL, {**general_fields, field: value})
    assert err.value.reason is Reason.INVALID_INPUT


def test_r21_contracts_before_shahrivar_1396_cutoff_are_never_published():
    cutoff = POLICY.publication.cutoff  # the versioned policy's [publication].cutoff
    assert cutoff == parse_jalali_date("1396/06/05")
    assert publishable(parse_jalali_date("1396/06/05"), cutoff)
    assert not publishable(parse_jalali_date("1396/06/04"), cutoff)
    assert not publishable(parse_jalali_date("1390/01/01"), cutoff)
    assert publishable(parse_jalali_date("1400/04/27"), cutoff)
    # 1396/06/04 23:00 Tehran is 18:30 UTC on 2017-08-26: still the day before the cut-off.
    assert not publishable(datetime(2017, 8, 26, 18, 30, tzinfo=timezone.utc), cutoff)
    assert publishable(datetime(2017, 8, 26, 20, 0, tzinfo=timezone.utc), cutoff)


TABLES = {1400: (1_000_000_000, 10_000_000_000), 1401: (1_220_000_000, 12_200_000_000)}


@pytest.mark.parametrize("amount, year, expected", [
    (1_000_000_000, 1400, "small"), (1_000_000_001, 1400, "medium"), (10_000_000_000, 1400, "medium"),
    (10_000_000_001, 1400, "large"), (12_967_500_000, 1400, "large"), (12_000_000_000, 1401, "medium"),
    (0, 1400, "small"),
])
def test_r15_threshold_class_from_the_yearly_table(amount, year, expected):
    assert threshold_class(amount, year, TABLES) == expected


def test_r15_year_without_thresholds_is_an_error_not_a_guess():
    with pytest.raises(DomainError) as err:
        threshold_class(5, 1402, TABLES)
    assert err.value.reason is Reason.THRESHOLDS_NOT_CONFIGURED


@pytest.mark.parametrize("kind", [REAL_ESTATE_SALE, REAL_ESTATE_ACQUISITION])
def test_r22_real_estate_sale_and_acquisition_fields(kind, general_fields, real_estate):
    assert missing_fields(kind, general_fields) == R22_FIELDS
    assert missing_fields(kind, real_estate) == []
    require_complete(kind, real_estate)
    votes_blank = {**real_estate, "commission_votes": [{"member": "9935181901", "vote": ""}]}
    assert missing_fields(kind, votes_blank) == ["commission_votes"]


@pytest.mark.parametrize("kind", [REAL_ESTATE_LEASE, REAL_ESTATE_RENT_OUT])
def test_r22_lease_contracts_add_lease_terms(kind, real_estate):
    assert missing_fields(kind, real_estate) == LEASE_FIELDS
    lease = {**real_estate, "lessor": "84268465631", "lease_period_months": 24,
             "lease_start_date": date(2021, 7, 23), "lease_end_date": date(2023, 7, 22),
             "monthly_rent_rial": 350_000_000, "lease_total_rial": 8_400_000_000}
    require_complete(kind, lease)
    # A sale never asks for lease terms.
    assert missing_fields(REAL_ESTATE_SALE, real_estate) == []


def test_r23_barter_contracts_add_kind_counter_value_and_valuation(general_fields):
    assert missing_fields(BARTER, general_fields) == ["barter_kind", "counter_value_description",
                                                      "valuation_amount_rial"]
    for kind in ("property", "joint_project_shares", "hologram"):
        require_complete(BARTER, {**general_fields, "barter_kind": kind,
                                  "counter_value_description": "واگذاری سهم پروژهٔ مشارکتی",
                                  "valuation_amount_rial": 4_000_000_000})
    with pytest.raises(DomainError) as err:
        require_complete(BARTER, {**general_fields, "barter_kind": "cash",
                                  "counter_value_description": "x", "valuation_amount_rial": 1})
    assert err.value.reason is Reason.INVALID_INPUT


def test_r21_unknown_contract_kind_is_rejected(general_fields):
    with pytest.raises(DomainError) as err:
        missing_fields("lottery", general_fields)
    assert err.value.reason is Reason.INVALID_INPUT
