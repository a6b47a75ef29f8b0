"""The tender's clock rules: when a bid is on time and when envelopes may be opened.

The tender's stored status and its forward-only moves live in domain.tender.status.
"""
from __future__ import annotations

from datetime import datetime

from domain.persian import format_jalali_datetime
from domain.reasons import DomainError, Reason


def is_late(received_at: datetime, deadline: datetime) -> bool:
    """Whether a bid received at `received_at` (aware UTC) missed `deadline`; exactly at it is on time.

    Raises: nothing. Rule: R02; tender-rules.md "Announcement and submission" (LATE_SUBMISSION)."""
    return received_at > deadline


def check_submission_time(now: datetime, deadline: datetime) -> None:
    """A bid received after the deadline is refused; one received exactly at it is on time.

    Raises: LATE_SUBMISSION. Rule: R02; tender-rules.md "Announcement and submission"."""
    if is_late(now, deadline):
        raise DomainError(Reason.LATE_SUBMISSION, f"مهلت: {format_jalali_datetime(deadline)}")


def check_opening_time(now: datetime, opening_at: datetime) -> None:
    """No envelope is opened before the scheduled session time (aware UTC datetimes).

    Raises: OPENING_TOO_EARLY. Rule: R08; tender-rules.md "Opening" (only at or after the scheduled time)."""
    if now < opening_at:
        raise DomainError(Reason.OPENING_TOO_EARLY, f"{now.isoformat()} < {opening_at.isoformat()}")
