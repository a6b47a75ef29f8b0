"""The tender's state machine and the opening-time guard."""
from __future__ import annotations

from datetime import timedelta

import pytest

from domain.reasons import DomainError, Reason
from domain.tender.state import TenderLifecycle, TenderState as S, check_opening_time, check_submission_time
from tender_helpers import T0


def _walk(procedure, states):
    lc = TenderLifecycle(procedure)
    for s in states:
        lc = lc.advance(s)
    return lc


def test_one_stage_and_two_stage_paths():
    one = _walk("one_stage", ["submission_closed", "opening_a_b", "price_opening", "evaluated",
                              "minutes_signed", "notified", "notified", "contracted"])
    assert one.finished and one.history[0] is S.ANNOUNCED and one.history[-1] is S.CONTRACTED
    two = _walk("two_stage", ["submission_closed", "technical_evaluation", "price_opening", "evaluated",
                              "minutes_signed", "retender"])
    assert two.state is S.RETENDER


@pytest.mark.parametrize("procedure, path, bad", [
    ("one_stage", ["submission_closed"], "technical_evaluation"),
    ("two_stage", ["submission_closed"], "opening_a_b"),
    ("one_stage", [], "opening_a_b"),
    ("one_stage", ["submission_closed", "opening_a_b", "price_opening", "evaluated"], "notified"),
    ("one_stage", ["cancelled"], "submission_closed"),
    ("one_stage", ["submission_closed", "opening_a_b", "evaluated", "minutes_signed", "notified", "contracted"], "retender"),
])
def test_illegal_transitions_are_wrong_stage(procedure, path, bad):
    lc = _walk(procedure, path)
    with pytest.raises(DomainError) as exc:
        lc.advance(bad)
    assert exc.value.reason is Reason.WRONG_STAGE


def test_blocked_resumes_only_where_it_stopped():
    lc = _walk("two_stage", ["submission_closed", "technical_evaluation", "blocked"])
    assert lc.allowed() == {S.TECHNICAL_EVALUATION, S.CANCELLED}
    with pytest.raises(DomainError):
        lc.advance("price_opening")
    assert lc.advance("technical_evaluation").state is S.TECHNICAL_EVALUATION
    assert not lc.finished


def test_r08_opening_before_scheduled_time_is_refused():
    with pytest.raises(DomainError) as exc:
        check_opening_time(T0 - timedelta(seconds=1), T0)
    assert exc.value.reason is Reason.OPENING_TOO_EARLY
    check_opening_time(T0, T0)
    check_opening_time(T0 + timedelta(hours=1), T0)


def test_submission_after_deadline_is_late():
    check_submission_time(T0, T0)
    with pytest.raises(DomainError) as exc:
        check_submission_time(T0 + timedelta(minutes=3), T0)
    assert exc.value.reason is Reason.LATE_SUBMISSION
