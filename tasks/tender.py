"""Thin Prefect tasks over services.tender; dependencies come from services.bootstrap.

No task result caching: the store is the source of truth and every service step is idempotent
against it, so a retry re-reads state instead of trusting a cached value."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services import bootstrap, tender as svc


@task(name="open-envelopes", cache_policy=NO_CACHE, retries=1)
def open_envelopes(tender_id: str, session: str, present: list[str]) -> svc.SessionOutcome:
    deps = bootstrap.current()
    if session == "opening":
        scores = lambda bidders: bootstrap.decisions().technical_scores(tender_id, bidders)  # noqa: E731
        return svc.opening_session(deps, tender_id, present, scores)
    return svc.price_session(deps, tender_id, present)


@task(name="generate-article13-minutes", cache_policy=NO_CACHE)
def draft_minutes(tender_id: str, outcome: svc.SessionOutcome) -> None:
    svc.draft_minutes(bootstrap.current(), tender_id, outcome)


@task(name="sign-article13-minutes", cache_policy=NO_CACHE)
def sign_minutes(tender_id: str, participants: list[str]) -> svc.MinutesResult:
    return svc.sign_minutes(bootstrap.current(), tender_id, participants)


@task(name="article18-notification", cache_policy=NO_CACHE)
def notify(tender_id: str, bidder: str, version: int) -> bytes:
    return svc.notify_winner(bootstrap.current(), tender_id, bidder, version)
