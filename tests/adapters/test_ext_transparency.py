from __future__ import annotations

import gc
import json
import os
import tracemalloc
from datetime import date

import pytest
from ext_factories import CEO_ID, COMPANY_ID, ECONOMIC_CODE, make_contract_data, refusal
from sqlalchemy import func, select

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.persian import parse_jalali_datetime
from domain.reasons import Reason
from integrations import ocds
from integrations.contractor_registry import BlacklistEntry, Company, QualificationDecision
from integrations.stubs.contractor_registry import ContractorRegistryStub
from integrations.stubs.transparency import TransparencyPublisherStub
from store.stub_tables import ExtTpRelease


@pytest.fixture
def registry(engine, clock) -> ContractorRegistryStub:
    reg = ContractorRegistryStub(engine, clock)
    reg.register_company(Company(COMPANY_ID, "شرکت راه‌سازان البرز", ECONOMIC_CODE, 2, CEO_ID, "مریم احمدی"))
    return reg


@pytest.fixture
def pub(engine, clock, registry) -> TransparencyPublisherStub:
    publication = load_policy(BUNDLED_POLICY).publication  # the cutoff and publisher come from the policy
    return TransparencyPublisherStub(engine, clock, registry=registry, publication_cutoff=publication.cutoff,
                                     publisher_name=publication.publisher)


def test_r21_complete_contract_is_published_as_valid_ocds(pub, tmp_path):
    result = pub.publish(make_contract_data())
    assert result.status == "published" and result.release_id
    stored = list(pub.releases())
    assert [r["id"] for r in stored] == [result.release_id]
    assert ocds.package_errors(pub.package()) == []


def test_r21_contract_with_empty_shown_fields_is_refused_listing_them(pub):
    data = make_contract_data(employer_signatories=[], budget_line=" ")
    data["contractor"] = {**data["contractor"], "economic_code": ""}
    data["supervisor"] = {"id": "SUP-17", "name": ""}
    data["commission_members"][1] = {"name": "", "role": "finance"}
    err = refusal(pub.publish, data)
    assert err.reason is Reason.FIELD_MISSING
    for path in ("employer_signatories", "budget_line", "contractor.economic_code", "supervisor.name",
                 "commission_members[1].name"):
        assert path in err.detail
    assert list(pub.releases()) == []


@pytest.mark.parametrize("amount", [0, None])
def test_r21_contract_amount_is_always_present(pub, amount):
    assert refusal(pub.publish, make_contract_data(amount_rial=amount)).reason is Reason.FIELD_MISSING


def test_r21_contract_date_is_always_present(pub):
    err = refusal(pub.publish, make_contract_data(date_signed=None))
    assert err.reason is Reason.FIELD_MISSING and "date_signed" in err.detail


def test_r21_contracts_before_shahrivar_1396_are_not_published(pub):
    before = pub.publish(make_contract_data("C-OLD", date_signed=parse_jalali_datetime("1396/06/04 23:30")))
    on_day = pub.publish(make_contract_data("C-NEW", date_signed=parse_jalali_datetime("1396/06/05 00:30")))
    assert before.status == "skipped" and "1396/06/05" in before.reason
    assert on_day.status == "published"
    assert pub.skipped() == ["C-OLD"]
    assert [r["contracts"][0]["id"] for r in pub.releases()] == ["C-NEW"]


def test_r21_legacy_contract_is_skipped_even_when_incomplete(pub):
    result = pub.publish(make_contract_data("C-OLD", date_signed=date(2010, 1, 1), budget_line=""))
    assert result.status == "skipped"


@pytest.mark.parametrize("threshold", ["small", "medium", "large"])
def test_r21_every_threshold_class_is_published(pub, threshold):
    assert pub.publish(make_contract_data(threshold_class=threshold)).status == "published"


def test_r21_unknown_threshold_class_or_method_is_refused(pub):
    assert refusal(pub.publish, make_contract_data(threshold_class="huge")).reason is Reason.INVALID_INPUT
    assert refusal(pub.publish, make_contract_data(selection_method="favour")).reason is Reason.INVALID_INPUT


def test_r21_republishing_unchanged_data_is_idempotent(pub, engine, clock):
    first = pub.publish(make_contract_data())
    again = pub.publish(make_contract_data())
    assert again.release_id == first.release_id and again.already_published
    changed = pub.publish(make_contract_data(amount_rial=1_500_000_000))
    assert changed.release_id != first.release_id and not changed.already_published
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExtTpRelease)) == 2


def test_r21_contractor_names_must_match_the_registry(pub):
    data = make_contract_data()
    data["contractor"] = {**data["contractor"], "ceo_name": "نام تایپ‌شده", "grade": 1}
    err = refusal(pub.publish, data)
    assert err.reason is Reason.INVALID_INPUT
    assert "contractor.ceo_name" in err.detail and "contractor.grade" in err.detail


def test_r21_arabic_letter_variants_still_match_the_registry(pub):
    data = make_contract_data()
    data["contractor"] = {**data["contractor"], "name": "شركت راه‌سازان البرز"}  # Arabic kaf
    assert pub.publish(data).status == "published"


def test_r21_contractor_missing_from_registry_is_refused(pub):
    data = make_contract_data()
    data["contractor"] = {**data["contractor"], "national_id": "10865432101"}
    assert refusal(pub.publish, data).reason is Reason.INVALID_INPUT


def test_r21_attached_file_must_match_its_record(pub):
    data = make_contract_data()
    data["documents"] = [{**data["documents"][0], "content": b"another file"}]
    err = refusal(pub.publish, data)
    assert err.reason is Reason.INVALID_INPUT and "documents[0]" in err.detail


def test_r21_export_writes_a_valid_package_file(pub, tmp_path):
    pub.publish(make_contract_data("C-1"))
    pub.publish(make_contract_data("C-2", threshold_class="large"))
    target = tmp_path / "release-package.json"
    assert pub.export_package(target) == 2
    package = json.loads(target.read_text(encoding="utf-8"))
    assert ocds.package_errors(package) == []
    assert sorted(r["contracts"][0]["id"] for r in package["releases"]) == ["C-1", "C-2"]


def test_r21_export_of_nothing_leaves_no_file(pub, tmp_path):
    target = tmp_path / "release-package.json"
    assert refusal(pub.export_package, target).reason is Reason.FIELD_MISSING
    assert not target.exists() and list(tmp_path.glob(".ocds-*")) == []


def _small_releases(n: int):
    for i in range(n):
        yield {"ocid": f"{ocds.OCID_PREFIX}-T{i}", "id": f"C{i}-r1", "date": "2021-09-01T06:30:00Z",
               "tag": ["contract"], "initiationType": "tender",
               "contracts": [{"id": f"C{i}", "awardID": f"C{i}-award",
                              "value": {"amount": 1_000_000 + i, "currency": "IRR"}}]}


def _peak_bytes(pub, path, n: int, validate: bool) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        assert pub.export_package(path, _small_releases(n), validate=validate) == n
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_r21_large_package_export_streams_with_bounded_memory(pub, tmp_path):
    ocds.package_validator()  # load schemas before measuring
    target = tmp_path / "big.json"
    peak = _peak_bytes(pub, target, 20_000, validate=False)
    size = os.path.getsize(target)
    assert size > 3_000_000
    assert peak < size / 20
    assert json.loads(target.read_text(encoding="utf-8"))["releases"][-1]["id"] == "C19999-r1"


def test_r21_validated_export_memory_does_not_grow_with_release_count(pub, tmp_path):
    ocds.package_validator()
    _peak_bytes(pub, tmp_path / "warm.json", 50, validate=True)  # first-use caches
    small = _peak_bytes(pub, tmp_path / "a.json", 150, validate=True)
    large = _peak_bytes(pub, tmp_path / "b.json", 600, validate=True)
    assert large < small * 2
    assert ocds.package_errors(json.loads((tmp_path / "b.json").read_text())) == []


def test_r25_contractor_lists_and_blacklist_are_published(pub, registry):
    registry.record_qualification(QualificationDecision(COMPANY_ID, "technical-civil", "rejected",
                                                        "سابقهٔ کار کافی ندارد", date(2021, 5, 1), "کمیتهٔ فنی"))
    registry.add_to_blacklist(BlacklistEntry(COMPANY_ID, date(2021, 6, 1), None,
                                             "عدم انجام تعهدات قرارداد", "نامهٔ ۱۲۳/۴۵"))
    document = pub.publish_contractor_lists(registry.published_lists(date(2021, 9, 1)))
    assert document == pub.latest_document("contractors")
    [contractor] = document["contractors"]
    assert contractor["qualifications"][0]["reason"] == "سابقهٔ کار کافی ندارد"
    assert document["blacklist"][0]["national_id"] == COMPANY_ID
    assert document["blacklist"][0]["reason"] == "عدم انجام تعهدات قرارداد"


def test_r25_lists_without_reasons_are_refused(pub):
    lists = {"as_of": "2021-09-01", "contractors": [
        {"national_id": COMPANY_ID, "name": "x", "qualifications": [
            {"work_field": "technical-civil", "decision": "rejected", "reason": "", "decided_on": "2021-05-01"}]}],
        "blacklist": [{"national_id": COMPANY_ID, "name": "x", "start_date": "2021-06-01", "reason": " "}]}
    err = refusal(pub.publish_contractor_lists, lists)
    assert err.reason is Reason.FIELD_MISSING
    assert "contractors[0].qualifications[0].reason" in err.detail and "blacklist[0].reason" in err.detail
    assert pub.latest_document("contractors") is None


def test_r24_project_figures_with_empty_fields_are_refused(pub):
    figures = [{"project_code": "P-1", "title": "", "unit": "district-12", "physical_progress_pct": "10.00",
                "planned_progress_pct": "12.00", "start_date": "2021-01-01", "planned_end_date": "2022-01-01",
                "credits_rial": 10, "commitments_rial": 0, "statements_total_rial": 0, "costs_rial": 0,
                "contracts": []}]
    err = refusal(pub.publish_project_figures, figures)
    assert err.reason is Reason.FIELD_MISSING and "projects[0].title" in err.detail
    figures[0]["title"] = "پل عابر پیاده"
    assert pub.publish_project_figures(figures)["projects"][0]["title"] == "پل عابر پیاده"
