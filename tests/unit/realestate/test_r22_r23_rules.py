"""Real-estate transactions (R22) and barter (R23): the pure rules (domain.realestate.rules) and their
OCDS mapping (integrations.ocds_realestate) validated against the schema patched with the Location
extension."""
from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from domain.contract.fields import BARTER, REAL_ESTATE_LEASE, REAL_ESTATE_RENT_OUT, REAL_ESTATE_SALE
from domain.realestate.rules import (
    SOURCE_HAND,
    SOURCE_SYSTEM,
    check_entry_source,
    contract_kind,
    deal_fields,
    entry_source_for,
    lease_end,
    public_key,
    require_reviewable,
)
from domain.reasons import DomainError, Reason
from integrations import ocds, ocds_realestate

PROPERTY = {"property_type": "commercial", "area_m2": "85.5", "location": "35.7006,51.3371",
            "registration_plate": "123/45/11 Tehran", "address": "تهران، منطقه ۵",
            "commission_date": "2021-08-11", "commission_votes": [{"national_id": "8878036171", "role": "chair",
                                                                   "vote": "approve"}],
            "expert_valuation_number": "EX-1400-77", "expert_valuation_date": "2021-06-10",
            "expert_valuation_amount_rial": 4_800_000_000, "total_amount_rial": 5_300_000_000,
            "signatories": ["8878036171"]}
LEASE = {"lessor": "district-5", "lease_period_months": 24, "lease_start_date": "2021-08-23",
         "lease_end_date": "2023-08-22", "monthly_rent_rial": 90_000_000, "lease_total_rial": 2_160_000_000}
BARTER_FIELDS = {"barter_kind": "property", "counter_value_description": "واحد تجاری", "valuation_amount_rial": 7}


def complete(kind: str) -> dict[str, object]:
    fields: dict[str, object] = {}
    if kind != BARTER:
        fields.update(PROPERTY)
    if kind in (REAL_ESTATE_LEASE, REAL_ESTATE_RENT_OUT):
        fields.update(LEASE)
    if kind == BARTER:
        fields.update(BARTER_FIELDS)
    return fields


@pytest.mark.parametrize("kind", [REAL_ESTATE_SALE, REAL_ESTATE_RENT_OUT])
def test_r22_each_mandatory_field_missing_is_refused_by_the_review(kind):
    require_reviewable(kind, complete(kind))  # complete: passes
    for name in deal_fields(kind):
        fields = complete(kind)
        fields[name] = "" if isinstance(fields[name], str) else None
        with pytest.raises(DomainError) as err:
            require_reviewable(kind, fields)
        assert err.value.reason is Reason.FIELD_MISSING
        assert err.value.context["fields"] == public_key(name)


def test_r22_missing_valuation_number_has_the_public_dotted_name():
    fields = complete(REAL_ESTATE_SALE)
    fields["expert_valuation_number"] = ""
    with pytest.raises(DomainError) as err:
        require_reviewable(REAL_ESTATE_SALE, fields)
    assert err.value.context["fields"] == "real_estate.valuation.expert_number"


def test_r23_each_barter_field_missing_is_refused_and_the_kind_must_be_defined():
    require_reviewable(BARTER, complete(BARTER))
    for name in ("barter_kind", "counter_value_description", "valuation_amount_rial"):
        fields = complete(BARTER)
        fields[name] = None
        with pytest.raises(DomainError) as err:
            require_reviewable(BARTER, fields)
        assert err.value.reason is Reason.FIELD_MISSING
        assert err.value.context["fields"] == public_key(name)
    with pytest.raises(DomainError) as err:
        require_reviewable(BARTER, {**complete(BARTER), "barter_kind": "cash"})
    assert err.value.reason is Reason.INVALID_INPUT


def test_r22_hand_entry_under_100_m2_in_a_district_only():
    check_entry_source(SOURCE_HAND, "district", Decimal("99.99"))
    check_entry_source(SOURCE_SYSTEM, "district", Decimal("500"))
    for unit_kind, area in (("district", Decimal("100")), ("district", Decimal("240")),
                            ("headquarters", Decimal("50"))):
        with pytest.raises(DomainError) as err:
            check_entry_source(SOURCE_HAND, unit_kind, area)
        assert err.value.reason is Reason.HAND_ENTRY_NOT_ALLOWED
    assert entry_source_for("district", Decimal("85.5")) == SOURCE_HAND
    assert entry_source_for("district", Decimal("100")) == SOURCE_SYSTEM
    assert entry_source_for("subsidiary", Decimal("20")) == SOURCE_SYSTEM


def test_r22_kinds_and_lease_dates():
    assert contract_kind("real_estate", "sale") == REAL_ESTATE_SALE
    assert contract_kind("barter") == BARTER
    with pytest.raises(DomainError):
        contract_kind("real_estate", "gift")
    # 1400/06/01 + 24 Jalali months ends 1402/05/31.
    assert lease_end(date(2021, 8, 23), 24) == date(2023, 8, 22)


def _contract_data(deal: dict) -> dict:
    return {
        "contract_code": "05-1400-000001", "title": "فروش مغازه", "unit": "district-5", "unit_name": "منطقه ۵",
        "threshold_class": "medium", "selection_method": "auction",
        "date_signed": datetime(2021, 8, 12, 8, tzinfo=timezone.utc), "amount_rial": 5_300_000_000,
        "budget_line": "BL", "expense_factor": "EF",
        "contractor": {"national_id": "57974502993", "name": "پارس", "economic_code": "411111111152", "grade": 1,
                       "ceo_name": "مدیر", "signatories": ["مدیر"]},
        "employer_signatories": [{"name": "معاون", "role": "chair"}],
        "commission_members": [{"name": "معاون", "role": "chair"}],
        "supervisor": {"id": "5432319489", "name": "ناظر"},
        "documents": [{"title": "قرارداد", "url": "eproc://c", "sha256": "0" * 64}],
        "extend_release": ocds_realestate.extender(deal),
    }


DEAL = {"contract_type": "real_estate", "transaction": "rent_out", "source": "real_estate_system",
        "commission": {"date": "2021-08-11", "votes": [{"name": "معاون", "role": "chair", "vote": "approve"}]},
        "property": {"plate": {"main": "123", "sub": "45", "section": "11 Tehran"}, "plate_key": "123/45/11 Tehran",
                     "property_type": "commercial", "area_m2": "85.5", "location": "35.7006,51.3371",
                     "address": "تهران", "valuation": {"expert_number": "EX-1", "date": "2021-06-10",
                                                       "amount_rial": 4_800_000_000}},
        "lease": {"lessor": "district-5", "months": 24, "starts": "2021-08-23", "ends": "2023-08-22",
                  "monthly_rent_rial": 90_000_000, "total_rial": 2_160_000_000},
        "barter": None}


def test_r22_ocds_release_valid_against_schema_and_location_extension():
    release = ocds.release_for_contract(_contract_data(DEAL))
    assert ocds.release_errors(release) == []
    assert ocds_realestate.release_errors(release) == []
    package = ocds_realestate.deal_package([release], datetime(2021, 9, 1, tzinfo=timezone.utc), "شهرداری")
    assert ocds_realestate.package_errors(package) == []
    assert package["extensions"] == [ocds_realestate.LOCATION_EXTENSION]
    item = release["contracts"][0]["items"][0]
    assert item["deliveryLocation"]["geometry"] == {"type": "Point", "coordinates": [51.3371, 35.7006]}
    assert item["quantity"] == 85.5 and item["unit"]["id"] == "MTK"
    assert release["contracts"][0]["period"]["durationInDays"] == 730
    assert "payee" in release["parties"][0]["roles"] and "payer" in release["parties"][1]["roles"]


def test_r22_ocds_extension_is_enforced_not_only_the_core_schema():
    release = ocds.release_for_contract(_contract_data(DEAL))
    broken = copy.deepcopy(release)
    broken["contracts"][0]["items"][0]["deliveryLocation"]["geometry"]["type"] = "Circle"
    assert ocds.release_errors(broken) == []  # the core schema does not know the field
    assert ocds_realestate.release_errors(broken)  # the Location extension refuses it


def test_r23_barter_release_valid_and_carries_the_counter_value():
    deal = {**DEAL, "contract_type": "barter", "transaction": None, "lease": None,
            "barter": {"kind": "property", "subject": "واحد تجاری", "valuation_rial": 7_000_000_000}}
    release = ocds.release_for_contract(_contract_data(deal))
    assert ocds_realestate.release_errors(release) == []
    barter = release["contracts"][0]["tehran"]["barter"]
    assert barter["kind"] == "property" and barter["valuation"] == {"amount": 7_000_000_000, "currency": "IRR"}
