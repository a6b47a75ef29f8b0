"""R27: the one pure decision of the rules calendar (domain.policy.calendar)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from config.policy import ALL_RULES, RULE_FORWARD, load_policy
from config.settings import BUNDLED_POLICY
from domain.persian import parse_jalali_date as j
from domain.policy.calendar import (
    BOTH_REQUIRED,
    ELECTRONIC_ONLY,
    ELECTRONIC_OPTIONAL,
    CalendarChange,
    RuleEvent,
    check_change,
    decide_rule,
    notice_wording,
    registration_modes,
)
from domain.reasons import DomainError, Reason

POLICY = load_policy(BUNDLED_POLICY)


def _old_rule(rule: str, unit_id: str, on: date) -> bool:
    """config.policy.Policy.rule as it was before R27 (the reference the TOML-only answer keeps)."""
    best = None
    for entry in POLICY.calendar:
        if entry.rule != rule:
            continue
        specific = unit_id in entry.units
        if not specific and "*" not in entry.units:
            continue
        if entry.from_ > on or (entry.until is not None and on >= entry.until):
            continue
        key = (entry.from_, 1 if specific else 0, entry.value)
        if best is None or key[:2] > best[:2]:
            best = key
    return bool(best and best[2])


def test_r27_the_toml_alone_answers_as_before():
    days = [j(d) for d in ("1397/12/29", "1398/01/01", "1398/10/01", "1399/09/01", "1399/09/30", "1399/10/01",
                           "1400/01/01", "1400/06/31", "1400/07/01", "1400/09/01", "1400/12/29", "1401/01/01")]
    days += [d + timedelta(days=k) for d in days for k in (-1, 1)]
    for unit in ("district-2", "district-5", "district-12", "municipality"):
        for rule in ALL_RULES:
            for day in days:
                assert POLICY.rule(rule, unit, day) is _old_rule(rule, unit, day), (rule, unit, day)


def test_r27_later_decisions_win_over_the_base_and_over_each_other():
    t0 = datetime(2021, 7, 1, 6, tzinfo=timezone.utc)
    base = POLICY.rules_calendar()
    ch1 = CalendarChange(1, "electronic_envelope_b", ("district-5",), j("1400/05/01"), None, True, "p", "a", t0)
    ch2 = CalendarChange(2, "electronic_envelope_b", ("*",), j("1400/06/01"), j("1400/07/01"), False, "p", "a",
                         t0 + timedelta(days=1))
    pending = CalendarChange(3, "electronic_envelope_b", ("district-5",), j("1400/05/01"), None, False, "p")
    cal = base.with_store([ch1, ch2, pending], [])
    assert decide_rule(cal, "electronic_envelope_b", "district-5", j("1400/05/15")).source.ref == "change:1"
    assert not decide_rule(cal, "electronic_envelope_b", "district-5", j("1400/06/15")).in_force  # change 2
    assert decide_rule(cal, "electronic_envelope_b", "district-5", j("1400/07/15")).source.ref == "change:1"
    # Asked at a time before its approval, a change is not yet in force.
    assert not decide_rule(cal, "electronic_envelope_b", "district-5", j("1400/05/15"), t0 - timedelta(hours=1)).in_force
    # An event after a change wins over it for that unit.
    ev = RuleEvent("district-5", "first_contract_with_workflow", t0 + timedelta(days=2), "05-1400-000001-K")
    off = CalendarChange(4, "registration_without_workflow_disabled", ("district-5",), j("1400/04/10"), None, False,
                         "p", "a", t0)
    cal = base.with_store([off], [ev])
    assert not decide_rule(cal, "registration_without_workflow_disabled", "district-5", j("1400/04/11")).in_force
    after = decide_rule(cal, "registration_without_workflow_disabled", "district-5", j("1400/04/20"))
    assert after.in_force and after.source.kind == "event"


def test_r27_slide_backs_are_found_on_every_day_the_change_covers():
    cal = POLICY.rules_calendar()
    # district-5 gets electronic envelope B on 1400/09/01: switching it off from 1400/08/01 (still off then)
    # until 1400/10/01 slides back only from 1400/09/01.
    change = CalendarChange(1, "electronic_envelope_b", ("district-5",), j("1400/08/01"), j("1400/10/01"), False)
    (found,) = check_change(cal, change, j("1400/07/01"), RULE_FORWARD, ["district-5"], slide_back_approved=True)
    assert found.on == j("1400/09/01") and found.was.source.ref == "calendar[4]@1400.1"
    with pytest.raises(DomainError) as exc:
        check_change(cal, change, j("1400/07/01"), RULE_FORWARD, ["district-5"], slide_back_approved=False)
    assert exc.value.reason is Reason.RULE_CHANGE_NOT_APPROVED
    # Before 1400/09/01 only: a postponement of a switch that was never on is no slide-back.
    early = CalendarChange(1, "electronic_envelope_b", ("district-5",), j("1400/08/01"), j("1400/09/01"), False)
    assert check_change(cal, early, j("1400/07/01"), RULE_FORWARD, ["district-5"], False) == ()
    # Accepting physical copies again after the transition is a slide-back too (its forward value is off).
    physical = CalendarChange(1, "physical_documents_accepted", ("*",), j("1401/02/01"), None, True)
    assert check_change(cal, physical, j("1401/01/15"), RULE_FORWARD, ["district-2"], True)


def test_r27_registration_modes_and_notice_wording():
    assert registration_modes(False, False) == ("with_workflow", "without_workflow")
    assert registration_modes(True, True) == ("with_workflow", "agile")
    assert notice_wording(True, False) == BOTH_REQUIRED
    assert notice_wording(True, True) == ELECTRONIC_OPTIONAL
    assert notice_wording(False, True) == ELECTRONIC_ONLY
