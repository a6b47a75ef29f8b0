from __future__ import annotations

import copy
import io
import json
from datetime import datetime, timezone

import pytest
from ext_factories import COMPANY_ID, ECONOMIC_CODE, make_contract_data

from domain.reasons import DomainError, Reason
from integrations import ocds

PUBLISHED = datetime(2021, 9, 1, 6, 30, tzinfo=timezone.utc)


def package_of(*datas: dict) -> dict:
    return ocds.release_package([ocds.release_for_contract(d) for d in datas], PUBLISHED, "شهرداری تهران")


def test_r21_valid_package_validates_against_ocds_1_1_5():
    package = package_of(make_contract_data(), make_contract_data("C-1400-0002"))
    assert ocds.package_errors(package) == []
    assert package["version"] == "1.1" and len(package["releases"]) == 2


@pytest.mark.parametrize("path", [("version",), ("publisher",), ("releases", 0, "ocid"),
                                  ("releases", 0, "tag"), ("releases", 0, "contracts", 0, "awardID")])
def test_r21_package_without_a_required_field_fails_validation(path):
    package = package_of(make_contract_data())
    target = package
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    errors = ocds.package_errors(package)
    assert errors and any(f"'{path[-1]}' is a required property" in e for e in errors)


def test_r21_bad_date_format_fails_validation():
    package = package_of(make_contract_data())
    package["releases"][0]["date"] = "1400/04/29"
    assert any("date-time" in e for e in ocds.package_errors(package))


def test_r21_council_fields_ride_on_the_contract_where_ocds_allows_extra_properties():
    schema = json.loads((ocds.SCHEMA_DIR / "release-schema.json").read_text(encoding="utf-8"))
    assert schema.get("additionalProperties", True) is not False
    for name in ("Contract", "Document"):
        assert schema["definitions"][name].get("additionalProperties", True) is not False
    release = ocds.release_for_contract(make_contract_data())
    extra = release["contracts"][0]["tehran"]
    assert extra["contractCode"] == "C-1400-0001"
    assert extra["thresholdClass"] == "medium" and extra["selectionMethod"] == "tender"
    assert extra["budgetLine"] == "BL-201-05" and extra["expenseFactor"] == "EF-12-03"
    assert extra["economicCode"] == ECONOMIC_CODE and extra["grade"] == 2
    assert extra["contractorCeo"] == "مریم احمدی" and extra["supervisor"]["id"] == "SUP-17"
    assert [m["role"] for m in extra["commissionMembers"]] == ["chair", "finance", "technical"]
    assert len(extra["employerSignatories"]) == 2
    supplier = next(p for p in release["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"]["id"] == COMPANY_ID
    assert release["contracts"][0]["value"] == {"amount": 1_395_000_000, "currency": "IRR"}
    assert ocds.release_errors(release) == []


def test_r21_release_id_follows_content_not_publication_time():
    data = make_contract_data()
    first = ocds.release_for_contract({**data, "release_date": PUBLISHED})
    later = ocds.release_for_contract({**data, "release_date": datetime(2022, 1, 1, tzinfo=timezone.utc)})
    changed = ocds.release_for_contract({**data, "amount_rial": 1_400_000_000})
    assert first["id"] == later["id"] and first["date"] != later["date"]
    assert changed["id"] != first["id"] and changed["ocid"] == first["ocid"]


def test_r21_streamed_package_equals_a_valid_package():
    releases = [ocds.release_for_contract(make_contract_data(f"C-{i}")) for i in range(3)]
    out = io.StringIO()
    assert ocds.write_package(out, iter(releases), PUBLISHED, "شهرداری تهران") == 3
    package = json.loads(out.getvalue())
    assert ocds.package_errors(package) == []
    assert package["releases"] == releases


def test_r21_streamed_package_refuses_an_invalid_release():
    bad = copy.deepcopy(ocds.release_for_contract(make_contract_data()))
    del bad["initiationType"]
    good = ocds.release_for_contract(make_contract_data("C-2"))
    with pytest.raises(DomainError) as exc:
        ocds.write_package(io.StringIO(), iter([good, bad]), PUBLISHED, "شهرداری تهران")
    assert exc.value.reason is Reason.INVALID_INPUT and "initiationType" in exc.value.detail


def test_r21_empty_package_is_refused():
    with pytest.raises(DomainError) as exc:
        ocds.release_package([], PUBLISHED, "شهرداری تهران")
    assert exc.value.reason is Reason.FIELD_MISSING


def test_r21_schema_copy_keeps_its_licence_notice():
    licence = (ocds.SCHEMA_DIR / "LICENSE").read_text(encoding="utf-8")
    notice = (ocds.SCHEMA_DIR / "NOTICE.md").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Open Contracting Partnership" in licence
    assert "Apache" in notice and "1__1__5" in notice
    assert json.loads((ocds.SCHEMA_DIR / "release-schema.json").read_text())["id"] == ocds.RELEASE_SCHEMA_URL
