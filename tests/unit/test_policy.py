from pathlib import Path

import pytest

from config.policy import PolicyError, load_policy
from config.settings import BUNDLED_POLICY
from domain.persian import parse_jalali_date as j
from domain.reasons import DomainError, Reason


@pytest.fixture(scope="module")
def policy():
    return load_policy(BUNDLED_POLICY)


def test_r03_pilot_districts_switch_on_first(policy):
    assert policy.rule("electronic_envelope_b", "district-12", j("1400/04/20")) is True
    assert policy.rule("electronic_envelope_b", "district-5", j("1400/04/20")) is False
    assert policy.rule("electronic_envelope_b", "district-5", j("1400/09/01")) is True


def test_r06_electronic_minutes_mandatory_from_the_configured_date(policy):
    assert policy.rule("electronic_minutes_mandatory", "district-2", j("1399/09/30")) is False
    assert policy.rule("electronic_minutes_mandatory", "district-2", j("1399/10/01")) is True


def test_r12_registration_without_workflow_disabled(policy):
    assert policy.rule("registration_without_workflow_disabled", "district-7", j("1398/09/30")) is False
    assert policy.rule("registration_without_workflow_disabled", "district-7", j("1398/10/01")) is True


def test_physical_documents_accepted_until_end_of_transition(policy):
    assert policy.rule("physical_documents_accepted", "district-12", j("1400/12/29")) is True
    assert policy.rule("physical_documents_accepted", "district-12", j("1401/01/01")) is False


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


def test_policy_with_a_wrong_key_names_file_key_and_problem(tmp_path):
    p = _variant(tmp_path, "min_valid_bids = 2", "min_valid_bid = 2")
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    msg = exc.value.message_fa
    assert str(p) in msg and "defaults.min_valid_bid" in msg and "Extra inputs" in msg
    assert exc.value.reason is Reason.POLICY_INVALID


def test_policy_with_an_invalid_jalali_date(tmp_path):
    p = _variant(tmp_path, 'from = "1399/10/01"', 'from = "1399/13/01"')
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    assert "calendar.0.from" in exc.value.message_fa


def test_policy_with_unknown_unit_in_calendar(tmp_path):
    p = _variant(tmp_path, 'units = ["district-2", "district-12", "district-22"]', 'units = ["district-99"]')
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    assert "district-99" in exc.value.message_fa


def test_policy_thresholds_out_of_order(tmp_path):
    p = _variant(tmp_path, "medium_max = 10_000_000_000", "medium_max = 10")
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    assert "thresholds.1399" in exc.value.message_fa
