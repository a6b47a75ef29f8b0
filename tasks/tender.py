"""Thin Prefect tasks over services.tender; dependencies come from the process's container.

No task result caching: the store is the source of truth and every service step is idempotent
against it, so a retry re-reads state instead of trusting a cached value."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services import tender as svc
from services.deps import current


@task(name="open-envelopes", cache_policy=NO_CACHE, retries=1)
def open_envelopes(tender_id: str, session: str, present: list[str],
                   technical_scores: dict[str, int] | None = None) -> svc.SessionOutcome:
    """Unlock the opening key with the present members' tokens and open the session's envelopes."""
    if session == "opening":
        return svc.opening_session(current(), tender_id, present, technical_scores)
    return svc.price_session(current(), tender_id, present)


@task(name="generate-article13-minutes", cache_policy=NO_CACHE)
def draft_minutes(tender_id: str, outcome: svc.SessionOutcome) -> None:
    """Generate and keep the minutes before anyone signs."""
    svc.draft_minutes(current(), tender_id, outcome)


@task(name="article13-minutes-signed", cache_policy=NO_CACHE)
def signed_minutes(tender_id: str) -> svc.MinutesResult:
    """The final minutes once every member taking part signed them at their own station (R10)."""
    return svc.signed_minutes(current(), tender_id)


@task(name="article18-notification-draft", cache_policy=NO_CACHE)
def draft_notification(tender_id: str, bidder: str, version: int) -> svc.NotificationDraft:
    """Generate and keep the Article 18 notification for the chair to sign at their station."""
    return svc.draft_notification(current(), tender_id, bidder, version)


@task(name="article18-notification", cache_policy=NO_CACHE)
def notify(tender_id: str, bidder: str, version: int) -> bytes:
    """The chair's e-signed Article 18 notification, verified and sent to the bidder."""
    return svc.notify_winner(current(), tender_id, bidder, version)
