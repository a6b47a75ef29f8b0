"""R21, issue 10 class 10: national IDs of people (کد ملی) and companies (شناسه ملی) are checked by
their published rules, not only the check digit, and read the same way at every entry point
(scenario file, repositories, legacy import, contractor registry), invisible marks copied from
right-to-left pages cleaned first.

The rules, as the civil-registration and company-registration organisations publish them:
person: 10 digits; digits 4-9 (the serial) not all zero; not ten equal digits; check digit
  r = Σ d[i]·(10−i) mod 11 over the first nine, check = r if r < 2 else 11 − r.
company: 11 digits; digits 4-9 not all zero; with t = tenth digit + 2 and weights
  29 27 23 19 17 29 27 23 19 17, r = Σ (t + d[i])·w[i] mod 11 over the first ten, check = r mod 10.
The reference functions below are written from that text, independently of domain.identity."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.reasons import DomainError, Reason

WEIGHTS = (29, 27, 23, 19, 17) * 2


def person_check(nine: str) -> str:
    r = sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    return str(r if r < 2 else 11 - r)


def company_check(ten: str) -> str:
    t = int(ten[9]) + 2
    return str(sum((t + int(d)) * w for d, w in zip(ten, WEIGHTS)) % 11 % 10)


def _refused(fn, value) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn(value)
    assert err.value.reason is Reason.INVALID_INPUT
    return err.value


def test_r21_company_id_with_an_all_zero_serial_is_refused_although_its_check_digit_fits():
    assert company_check("0000000000") == "9"
    err = _refused(validate_company_id, "00000000009")   # the example, published in OCDS today
    assert "«00000000009»" in err.detail
    for prefix in ("1000000000", "1010000005", "9990000001"):
        _refused(validate_company_id, prefix + company_check(prefix))


def test_r21_person_id_with_an_all_zero_serial_is_refused_although_its_check_digit_fits():
    for nine in ("001000000", "123000000", "999000000"):
        _refused(validate_national_id, nine + person_check(nine))
    for same in "0123456789":
        _refused(validate_national_id, same * 10)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_r21_property_company_ids_follow_the_published_rule(ten):
    good = ten + company_check(ten)
    if ten[3:9] == "000000":
        _refused(validate_company_id, good)
        return
    assert validate_company_id(good) == good
    for d in "0123456789":
        if d != good[-1]:
            _refused(validate_company_id, ten + d)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_r21_property_person_ids_follow_the_published_rule(nine):
    good = nine + person_check(nine)
    if nine[3:9] == "000000" or len(set(good)) == 1:
        _refused(validate_national_id, good)
        return
    assert validate_national_id(good) == good
    for d in "0123456789":
        if d != good[-1]:
            _refused(validate_national_id, nine + d)


def test_r21_the_scenarios_identifiers_are_valid_by_the_published_rules():
    from pilot.auction import check_scenario
    from pilot.scenario import BUNDLED

    for path in sorted(BUNDLED.glob("*.toml")):
        sc = check_scenario(path)  # every kind's scenario (tender, online auction, deal, income)
        assert sc.bidders and sc.commission, path
        for b in sc.bidders:
            assert b.national_id[10] == company_check(b.national_id[:10]) and b.national_id[3:9] != "000000"
        for m in sc.commission:
            assert m.national_id[9] == person_check(m.national_id[:9]) and m.national_id[3:9] != "000000"


MARKED = [
    "\u200f50752917036\u200e",         # RLM ... LRM, as copied from a right-to-left page
    "\u202b۵۰۷۵۲۹۱۷۰۳۶\u202c",         # embedding around Persian digits
    "\u2067507-529-17036\u2069",       # isolate, dashes
    " 50752917036\u061c ",             # Arabic letter mark, spaces
    "5075\u200b2917036",               # zero-width space inside
]


@pytest.mark.parametrize("raw", MARKED)
def test_r21_invisible_marks_are_cleaned_before_validation(raw):
    assert validate_company_id(raw) == "50752917036"


def test_r21_person_ids_and_economic_codes_are_cleaned_the_same_way():
    assert validate_national_id("\u200f۰۸۳۰-۱۶۶۱۳۰\u200e") == "0830166130"
    assert validate_national_id("\u202a830166130\u202c") == "0830166130"
    assert validate_economic_code("\u200f۴۱۱۱۱۱۱۱۱۱۱۱\u200e") == "411111111111"


@pytest.mark.parametrize("fn, raw", [
    (validate_company_id, "५०७५२९१७०३६"),                   # Devanagari: refused, never stored
    (validate_company_id, "５０７５２９１７０３６"),          # fullwidth
    (validate_national_id, "०८३०१६६१३०"),
    (validate_economic_code, "४११११११११११११"),
])
def test_r21_digits_of_other_scripts_are_refused(fn, raw):
    _refused(fn, raw)


# --- the same rule at every entry point ------------------------------------------------------------

def test_r21_scenario_file_applies_the_rules(tmp_path):
    from pilot.scenario import DEFAULT_SCENARIO, load_scenario

    base = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    marked = base.replace('national_id = "50752917036"', 'national_id = "\u200f۵۰۷۵۲۹۱۷۰۳۶\u200e"', 1)
    path = tmp_path / "marked.toml"
    path.write_text(marked, encoding="utf-8")
    assert load_scenario(path).bidders[0].national_id == "50752917036"
    path.write_text(base.replace('national_id = "50752917036"', 'national_id = "00000000009"', 1), encoding="utf-8")
    with pytest.raises(DomainError) as err:
        load_scenario(path)
    assert "bidders.0.national_id" in err.value.detail


def test_r21_repositories_apply_the_rules(uow):
    with uow() as u:
        company = u.companies.add("\u200f۵۰۷۵۲۹۱۷۰۳۶\u200e", "شرکت", "411111111111", "۲",
                                  ceo_national_id="\u202b0830166130\u202c")
        assert (company.national_id, company.grade, company.ceo_national_id) == ("50752917036", 2, "0830166130")
        for bad in ("00000000009", "५०७५२९१७०३६"):
            with pytest.raises(DomainError):
                u.companies.add(bad, "شرکت", "411111111111", 2)
        with pytest.raises(DomainError):
            u.people.add("0010000003", "شخص")


def test_r21_legacy_import_applies_the_rules():
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from services.legacy.validate import BadRow, RowValidator, ValidRow

    row = {"legacy_id": "L1", "unit": "district-12", "subject": "نگهداری فضای سبز",
           "contractor_national_id": "\u200f50752917036\u200e", "contractor_economic_code": "411111111111",
           "contractor_grade": "3", "contractor_ceo": "0830166130", "contractor_signatories": "0830166130",
           "contract_date": "1400/06/15", "contract_amount_rial": "850,000,000", "selection_method": "مناقصه",
           "supervisor": "5260181591", "employer_signatories": "1860913903",
           "commission_members": "9960308243;6281948211", "budget_line": "1030201", "expense_factor": "EF-1"}
    validator = RowValidator(load_policy(BUNDLED_POLICY))
    good = validator.validate(2, row)
    assert isinstance(good, ValidRow) and good.contractor_id == "50752917036"
    bad = validator.validate(3, {**row, "contractor_national_id": "00000000009"})
    assert isinstance(bad, BadRow)
    assert [(p.field, p.reason) for p in bad.problems] == [("contractor_national_id", "INVALID_INPUT")]


def test_r21_contractor_registry_applies_the_rules(tmp_path):
    from datetime import datetime, timezone

    from domain.clock import SimulatedClock
    from integrations.contractor_registry import Company
    from integrations.stubs.contractor_registry import ContractorRegistryStub
    from store.stub_tables import create_stub_tables, sqlite_engine

    engine = sqlite_engine(tmp_path / "ext.sqlite")
    create_stub_tables(engine)
    reg = ContractorRegistryStub(engine, SimulatedClock(datetime(2021, 9, 1, tzinfo=timezone.utc)))
    stored = reg.register_company(Company("\u200f50752917036\u200e", "شرکت", "411111111111", 2,
                                          "\u202b0830166130\u202c", "مدیر"))
    assert (stored.national_id, stored.ceo_national_id) == ("50752917036", "0830166130")
    assert reg.company("\u200f۵۰۷۵۲۹۱۷۰۳۶\u200e") == stored  # looked up the same way
    with pytest.raises(DomainError):
        reg.register_company(Company("00000000009", "شرکت", "411111111111", 2, "0830166130", "مدیر"))
    engine.dispose()
