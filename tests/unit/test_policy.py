from pathlib import Path

import pytest

from config.policy import PolicyError, load_policy
from config.settings import BUNDLED_POLICY
from domain.persian import parse_jalali_date as j
from domain.reasons import DomainError, Reason


@pytest.fixture(scope="module")
def policy():
    return load_policy(BUNDLED_POLICY)


@pytest.mark.parametrize(("rule", "unit", "day", "in_force"), [
    # R03: the pilot districts switch on first.
    pytest.param("electronic_envelope_b", "district-12", "1400/04/20", True, id="r03-pilot-district"),
    pytest.param("electronic_envelope_b", "district-5", "1400/04/20", False, id="r03-other-district-before"),
    pytest.param("electronic_envelope_b", "district-5", "1400/09/01", True, id="r03-other-district-after"),
    # R06: electronic minutes mandatory from the configured date.
    pytest.param("electronic_minutes_mandatory", "district-2", "1399/09/30", False, id="r06-day-before"),
    pytest.param("electronic_minutes_mandatory", "district-2", "1399/10/01", True, id="r06-from-the-date"),
    # R12: registration without workflow disabled from the configured date.
    pytest.param("registration_without_workflow_disabled", "district-7", "1398/09/30", False, id="r12-day-before"),
    pytest.param("registration_without_workflow_disabled", "district-7", "1398/10/01", True, id="r12-from-the-date"),
    # Physical documents are accepted until the end of the transition period.
    pytest.param("physical_documents_accepted", "district-12", "1400/12/29", True, id="transition-last-day"),
    pytest.param("physical_documents_accepted", "district-12", "1401/01/01", False, id="transition-over"),
])
def test_r03_r06_r12_calendar_rules_are_in_force_from_their_configured_day(policy, rule, unit, day, in_force):
    assert policy.rule(rule, unit, j(day)) is in_force


def test_unknown_unit(policy):
    with pytest.raises(DomainError) as exc:
        policy.effects("district-99", j("1400/01/01"))
    assert exc.value.reason is Reason.UNKNOWN_UNIT


def test_thresholds(policy):
    assert policy.threshold_class(1_000_000_000, 1400) == "small"
    assert policy.threshold_class(1_000_000_001, 1400) == "medium"
    assert policy.threshold_class(10_000_000_001, 1400) == "large"
    with pytest.raises(DomainError) as exc:
        policy.threshold_class(5, 1380)
    assert exc.value.reason is Reason.THRESHOLDS_NOT_CONFIGURED


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = BUNDLED_POLICY.read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "policy.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


@pytest.mark.parametrize(("old", "new", "named"), [
    pytest.param("min_valid_bids = 2", "min_valid_bid = 2", ["defaults.min_valid_bid", "Extra inputs"],
                 id="wrong-key"),
    pytest.param('from = "1399/10/01"', 'from = "1399/13/01"', ["calendar.0.from"], id="invalid-jalali-date"),
    pytest.param('units = ["district-2", "district-12", "district-22"]', 'units = ["district-99"]',
                 ["district-99"], id="unknown-unit-in-calendar"),
    pytest.param("medium_max = 10_000_000_000", "medium_max = 10", ["thresholds.1399"],
                 id="thresholds-out-of-order"),
    # Defaults live only in the TOML: no code default stands in for a missing [defaults] key.
    pytest.param("price_inquiry_min_quotes = 3\n", "", ["defaults.price_inquiry_min_quotes", "Field required"],
                 id="default-missing"),
])
def test_policy_file_with_a_fault_is_refused_naming_file_and_problem(tmp_path, old, new, named):
    p = _variant(tmp_path, old, new)
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    assert exc.value.reason is Reason.POLICY_INVALID
    assert all(fragment in exc.value.message_fa for fragment in [str(p), *named])


def test_publication_cutoff_and_publisher_are_policy_entries(policy):
    assert policy.publication.cutoff == j("1396/06/05")
    assert policy.publication.publisher


def test_r09_price_rules_take_min_count_and_min_quotes_from_the_policy(tmp_path, policy):
    rules = policy.price_rules(policy.formula("abnormally-low").to_formula())
    assert (rules.min_prices, rules.price_inquiry_min_quotes) == (3, 3)
    changed = load_policy(_variant(tmp_path, "min_count = 3", "min_count = 4"))
    assert changed.price_rules(changed.formula("abnormally-low").to_formula()).min_prices == 4
    with pytest.raises(DomainError) as exc:
        policy.price_rules(policy.formula("estimate").to_formula())  # no min_count
    assert exc.value.reason is Reason.POLICY_INVALID


def test_token_pin_comes_from_the_settings(monkeypatch):
    from config.settings import Settings

    monkeypatch.delenv("EPROC_TOKEN_PIN", raising=False)
    monkeypatch.delenv("EPROC_TOKEN_PIN_CHAIR_12", raising=False)
    settings = Settings()
    assert settings.token_pin("chair-12") is None
    monkeypatch.setenv("EPROC_TOKEN_PIN", "shared")
    assert settings.token_pin("chair-12") == "shared"
    monkeypatch.setenv("EPROC_TOKEN_PIN_CHAIR_12", "own")
    assert settings.token_pin("chair-12") == "own"


def test_runtime_settings_read_their_eproc_variables(monkeypatch):
    from config.settings import Settings

    monkeypatch.setenv("EPROC_SYSTEM_NATIONAL_ID", "5260181591")
    monkeypatch.setenv("EPROC_INTEGRATIONS", "none")
    monkeypatch.setenv("EPROC_DECISIONS", "scripted:/tmp/s.toml")
    monkeypatch.setenv("EPROC_DECISION_TIMEOUT", "900")
    monkeypatch.setenv("EPROC_CRASH_AT", "article13.signed#2")
    s = Settings()
    assert (s.system_national_id, s.integrations, s.decisions, s.decision_timeout, s.crash_at) == (
        "5260181591", "none", "scripted:/tmp/s.toml", 900, "article13.signed#2")
