"""The tender's clock rules: the opening-time guard and the submission deadline (the stored status
and its forward-only moves are domain.tender.status)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from tender_helpers import T0

from domain.reasons import DomainError, Reason
from domain.tender.state import check_opening_time, check_submission_time, is_late


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
    assert not is_late(T0, T0) and is_late(T0 + timedelta(microseconds=1), T0)
