"""Telling people what concerns them (R26): one SMS per event, through the notifier port."""
from __future__ import annotations

from typing import Any

from services.deps import Deps


def notify(deps: Deps, recipient: str, template: str, params: dict[str, Any], dedup: str) -> None:
    """Send `template` with `params` to the recipient's registered mobile, once per `dedup` key.

    Nothing is sent where no notifier is wired or the recipient has no contact."""
    if deps.notifier is None or recipient not in deps.contacts:
        return
    deps.notifier.notify(deps.contacts[recipient], recipient, template, params, dedup)
