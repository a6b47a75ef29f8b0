"""Telling the people concerned (R26): the tasks the tender and contract flows end with. Each sends
what the store says is owed and not yet sent (one message per event and recipient, so a rerun or a
second event sends nothing again); its result names dedup keys and recipient ids only."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services import notify as notify_svc
from services.deps import current


@task(name="notify-bidders", cache_policy=NO_CACHE)
def notify_bidders(tender_id: str) -> dict:
    """Receipts and, once the minutes are final, each bidder's opening result (R26), from the
    contractor registry's contacts. Returns `Delivery.to_dict()` (dedup keys, recipient ids).
    Raises: what `services.notify.notify_tender` raises."""
    return notify_svc.notify_tender(current(), tender_id).to_dict()


@task(name="notify-contractor", cache_policy=NO_CACHE)
def notify_contractor(tracking_number: str) -> dict:
    """Each stage passed, the contract code, statements approved or returned, payments made (R26),
    to the contractor's registry contacts. Returns `Delivery.to_dict()`.
    Raises: what `services.notify.notify_contract` raises."""
    return notify_svc.notify_contract(current(), tracking_number).to_dict()
