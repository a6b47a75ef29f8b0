from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from ext_factories import CEO_ID, COMPANY_ID, ECONOMIC_CODE, OTHER_COMPANY_ID, reason_of

from domain.reasons import Reason
from integrations.contractor_registry import BlacklistEntry, Company, QualificationDecision
from integrations.stubs.contractor_registry import ContractorRegistryStub

ALBORZ = Company(COMPANY_ID, "شرکت راه‌سازان البرز", ECONOMIC_CODE, 2, CEO_ID, "مریم احمدی")


@pytest.fixture
def reg(engine, clock) -> ContractorRegistryStub:
    return ContractorRegistryStub(engine, clock)


@pytest.mark.parametrize("bad", [
    {"national_id": "10101234566"},        # wrong check digit
    {"national_id": "1010123456"},         # 10 digits
    {"ceo_national_id": "0012345678"},     # wrong check digit
    {"ceo_national_id": "1111111111"},     # repeated digit
    {"economic_code": "41112222"},
    {"grade": 0}, {"grade": 6}, {"grade": True},
])
def test_r25_register_refuses_invalid_identifiers(reg, bad):
    assert reason_of(reg.register_company, replace(ALBORZ, **bad)) is Reason.INVALID_INPUT
    assert reg.company(COMPANY_ID) is None


def test_r25_register_refuses_blank_names(reg):
    assert reason_of(reg.register_company, replace(ALBORZ, ceo_name=" ")) is Reason.FIELD_MISSING


def test_r25_company_registered_with_persian_digits_is_found(reg):
    persian = COMPANY_ID.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    stored = reg.register_company(replace(ALBORZ, national_id=persian))
    assert stored.national_id == COMPANY_ID
    assert reg.company(persian) == reg.company(COMPANY_ID) == stored


def test_r25_reregistering_differently_is_refused_and_update_is_explicit(reg):
    reg.register_company(ALBORZ)
    assert reg.register_company(ALBORZ) == ALBORZ
    new_ceo = replace(ALBORZ, ceo_name="رضا کریمی")
    assert reason_of(reg.register_company, new_ceo) is Reason.INVALID_INPUT
    reg.update_company(new_ceo)
    assert reg.company(COMPANY_ID).ceo_name == "رضا کریمی"
    assert reason_of(reg.update_company, replace(ALBORZ, national_id=OTHER_COMPANY_ID)) is Reason.INVALID_INPUT


def test_r25_blacklist_holds_between_its_dates(reg):
    reg.register_company(ALBORZ)
    reg.add_to_blacklist(BlacklistEntry(COMPANY_ID, date(2021, 6, 1), date(2021, 12, 1), "تأخیر مکرر", "ر-۱"))
    assert not reg.is_blacklisted(COMPANY_ID, date(2021, 5, 31))
    assert reg.is_blacklisted(COMPANY_ID, date(2021, 6, 1))
    assert reg.is_blacklisted(COMPANY_ID, date(2021, 12, 1))
    assert not reg.is_blacklisted(COMPANY_ID, date(2021, 12, 2))


def test_r25_open_ended_blacklist_never_lapses(reg):
    reg.register_company(ALBORZ)
    reg.add_to_blacklist(BlacklistEntry(COMPANY_ID, date(2021, 6, 1), None, "تخلف", "ر-۲"))
    assert reg.is_blacklisted(COMPANY_ID, date(2030, 1, 1))


def test_r25_blacklist_needs_reason_known_company_and_ordered_dates(reg):
    reg.register_company(ALBORZ)
    assert reason_of(reg.add_to_blacklist,
                     BlacklistEntry(COMPANY_ID, date(2021, 6, 1), None, "", "ر-۳")) is Reason.FIELD_MISSING
    assert reason_of(reg.add_to_blacklist, BlacklistEntry(OTHER_COMPANY_ID, date(2021, 6, 1), None,
                                                          "تخلف", "ر-۳")) is Reason.INVALID_INPUT
    assert reason_of(reg.add_to_blacklist, BlacklistEntry(COMPANY_ID, date(2021, 6, 1), date(2021, 5, 1),
                                                          "تخلف", "ر-۳")) is Reason.INVALID_INPUT
    assert reg.blacklist() == []


def test_r25_qualification_decisions_carry_reasons_and_latest_counts(reg):
    reg.register_company(ALBORZ)
    assert reason_of(reg.record_qualification, QualificationDecision(
        COMPANY_ID, "technical-civil", "rejected", "", date(2021, 1, 1), "کمیته")) is Reason.FIELD_MISSING
    assert reason_of(reg.record_qualification, QualificationDecision(
        COMPANY_ID, "technical-civil", "maybe", "x", date(2021, 1, 1), "کمیته")) is Reason.INVALID_INPUT
    reg.record_qualification(QualificationDecision(COMPANY_ID, "technical-civil", "rejected",
                                                   "رتبه کافی نیست", date(2021, 1, 1), "کمیته"))
    reg.record_qualification(QualificationDecision(COMPANY_ID, "technical-civil", "qualified",
                                                   "ارتقای رتبه", date(2021, 4, 1), "کمیته"))
    assert [d.decision for d in reg.qualification(COMPANY_ID)] == ["rejected", "qualified"]
    assert not reg.is_qualified(COMPANY_ID, "technical-civil", date(2021, 3, 1))
    assert reg.is_qualified(COMPANY_ID, "technical-civil", date(2021, 4, 1))
    assert not reg.is_qualified(COMPANY_ID, "green-space", date(2021, 4, 1))


def test_r25_published_lists_show_decisions_and_active_blacklist_only(reg):
    reg.register_company(ALBORZ)
    reg.register_company(Company(OTHER_COMPANY_ID, "شرکت سبز شهر", "411122224444", 3, "0087654326", "علی نوری"))
    reg.record_qualification(QualificationDecision(COMPANY_ID, "technical-civil", "rejected",
                                                   "رتبه کافی نیست", date(2021, 1, 1), "کمیته"))
    reg.add_to_blacklist(BlacklistEntry(COMPANY_ID, date(2020, 1, 1), date(2020, 12, 31), "قدیمی", "ر-۴"))
    reg.add_to_blacklist(BlacklistEntry(OTHER_COMPANY_ID, date(2021, 6, 1), None, "ترک کار", "ر-۵"))
    lists = reg.published_lists(date(2021, 9, 1))
    by_id = {c["national_id"]: c for c in lists["contractors"]}
    assert by_id[COMPANY_ID]["qualifications"][0]["reason"] == "رتبه کافی نیست"
    assert by_id[OTHER_COMPANY_ID]["qualifications"] == []
    assert [(b["national_id"], b["reason"]) for b in lists["blacklist"]] == [(OTHER_COMPANY_ID, "ترک کار")]
    assert "ceo_national_id" not in by_id[COMPANY_ID]  # personal ID stays out of publication


def test_r25_retried_decision_and_ruling_are_recorded_once(reg):
    reg.register_company(ALBORZ)
    decision = QualificationDecision(COMPANY_ID, "technical-civil", "qualified", "مدارک کامل",
                                     date(2021, 1, 1), "کمیته")
    reg.record_qualification(decision)
    reg.record_qualification(decision)
    assert len(reg.qualification(COMPANY_ID)) == 1
    assert reason_of(reg.record_qualification, replace(decision, decision="rejected")) is Reason.INVALID_INPUT
    ruling = BlacklistEntry(COMPANY_ID, date(2021, 6, 1), None, "تخلف", "ر-۶")
    reg.add_to_blacklist(ruling)
    reg.add_to_blacklist(ruling)
    assert reg.blacklist() == [ruling]
    assert reason_of(reg.add_to_blacklist, replace(ruling, reason="دیگر")) is Reason.INVALID_INPUT
