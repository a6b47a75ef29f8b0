"""R21, issue 10 class 11: invisible direction controls and other invisible format characters never
reach what is signed, stored or published. domain.persian.normalize removes every character of
Unicode category Cf (bidi embeddings, overrides, isolates, LRM/RLM/ALM, zero-width characters, BOM,
soft hyphen, tags, ...) except the ZWNJ Persian words need, and every entry point calls it."""
from __future__ import annotations

import json
import sys
import unicodedata

import pytest

from domain.persian import needs_normalize, normalize
from domain.reasons import DomainError

ZWNJ = "\u200c"
NAMED = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
         "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\U000e0041"]
EVERY_CF = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf" and chr(c) != ZWNJ]


@pytest.mark.parametrize("mark", NAMED)
def test_r21_each_direction_control_is_removed(mark):
    assert normalize(f"شرکت {mark}راه‌سازان{mark} البرز{mark}") == "شرکت راه\u200cسازان البرز"
    assert needs_normalize(f"a{mark}b")


def test_r21_every_format_character_but_zwnj_is_removed_and_zwnj_stays_inside_words():
    text = "ب" + "".join(EVERY_CF) + "الف"
    assert normalize(text) == "بالف"
    assert normalize(f"می{ZWNJ}خواهم") == f"می{ZWNJ}خواهم"
    assert normalize("a\x00b\x1bc\x7fd\u0085e") == "abcde"  # control characters too
    assert normalize("سطر اول\nسطر دوم") == "سطر اول\nسطر دوم"  # a line break is not invisible


def test_r21_the_bulk_reader_test_never_skips_text_normalize_would_change():
    samples = ["abc", "شرکت البرز", f"می{ZWNJ}خواهم", "a  b", " a", "a ", "۱۲", "علي", "a\tb",
               *(f"x{c}y" for c in EVERY_CF), f"{ZWNJ}x", f"x{ZWNJ}", f"x{ZWNJ}{ZWNJ}y", f"x {ZWNJ}y"]
    for text in samples:
        if not needs_normalize(text):
            assert normalize(text) == text, repr(text)


# --- every entry point ------------------------------------------------------------------------------

RLO = "\u202e"


def test_r21_scenario_file_cleans_every_text(tmp_path):
    from pilot.scenario import DEFAULT_SCENARIO, load_scenario

    base = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    text = (base.replace('name = "شرکت راه‌سازان البرز"', f'name = "شرکت {RLO}راه‌سازان البرز"', 1)
                .replace('name = "معاون مالی و اداری منطقه ۱۲"', f'name = "معاون {RLO}مالی و اداری منطقه ۱۲"', 1)
                .replace('id = "b1"', f'id = "b1{RLO}"', 1))
    assert text.count(RLO) == 3
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    sc = load_scenario(path)
    assert RLO not in sc.model_dump_json()
    assert sc.bidders[0].id == "b1" and sc.bidders[0].name == "شرکت راه\u200cسازان البرز"


def test_r21_repositories_clean_names(uow):
    with uow() as u:
        company = u.companies.add("50752917036", f"شرکت {RLO}البرز\u2066", "411111111111", 2)
        person = u.people.add("0830166130", f"\u200fمریم {RLO}احمدی", mobile="\u200e۰۹۱۲۱۲۳۴۵۶۷")
        unit = u.units.add("district-99", "99", f"منطقه {RLO}۹۹", "district")
        assert (company.name, person.full_name, person.mobile, unit.name) == (
            "شرکت البرز", "مریم احمدی", "09121234567", "منطقه 99")


def test_r21_legacy_import_cleans_free_text():
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from services.legacy.validate import RowValidator, ValidRow

    row = {"legacy_id": "L1", "unit": "district-12", "subject": f"نگهداری {RLO}فضای سبز\u2067",
           "contractor_national_id": "50752917036", "contractor_economic_code": "411111111111",
           "contractor_grade": "3", "contractor_ceo": "0830166130", "contractor_signatories": "0830166130",
           "contract_date": "1400/06/15", "contract_amount_rial": "850,000,000",
           "selection_method": f"مناقصهٔ {RLO}عمومی", "supervisor": "5260181591",
           "employer_signatories": "1860913903", "commission_members": "9960308243;6281948211",
           "budget_line": "\u202b1030201\u202c", "expense_factor": "EF-1", "status": f"در {RLO}جریان"}
    valid = RowValidator(load_policy(BUNDLED_POLICY)).validate(2, row)
    assert isinstance(valid, ValidRow)
    stored = json.loads(valid.data_json)
    assert not any(ch in valid.data_json for ch in NAMED), valid.data_json
    assert (stored["subject"], stored["selection_method"], stored["budget_line"], stored["legacy_status"]) == (
        "نگهداری فضای سبز", "مناقصهٔ عمومی", "1030201", "در جریان")


def test_r21_sealed_content_is_cleaned():
    from sealing.content import decode_envelope, encode_envelope

    data = json.dumps({"documents": [f"اساسنامه{RLO}", "\u2067grade_certificate\u2069"], "grade": 2,
                       "attachments": [{"name": f"فنی{RLO}.pdf", "content_b64": "AAAA"}]}, ensure_ascii=False)
    b = decode_envelope("B", data.encode())
    assert b.documents == ["اساسنامه", "grade_certificate"] and b.attachments[0].name == "فنی.pdf"
    assert RLO.encode() not in encode_envelope(b)


def test_r21_contractor_registry_cleans_names(tmp_path):
    from datetime import date, datetime, timezone

    from domain.clock import SimulatedClock
    from integrations.contractor_registry import Company, QualificationDecision
    from integrations.stubs.contractor_registry import ContractorRegistryStub
    from store.stub_tables import create_stub_tables, sqlite_engine

    engine = sqlite_engine(tmp_path / "ext.sqlite")
    create_stub_tables(engine)
    reg = ContractorRegistryStub(engine, SimulatedClock(datetime(2021, 9, 1, tzinfo=timezone.utc)))
    reg.register_company(Company("50752917036", f"شرکت {RLO}البرز", "411111111111", 2, "0830166130",
                                 f"مریم{RLO} احمدی"))
    reg.record_qualification(QualificationDecision("50752917036", f"technical-civil{RLO}", "qualified",
                                                   f"مدارک {RLO}کامل", date(2021, 1, 1), "کمیته"))
    published = json.dumps(reg.published_lists(date(2021, 9, 1)), ensure_ascii=False)
    assert RLO not in published and "شرکت البرز" in published
    engine.dispose()


def test_r21_an_identifier_made_only_of_marks_is_not_an_identifier():
    from domain.identity import validate_company_id

    with pytest.raises(DomainError):
        validate_company_id(RLO * 11)
