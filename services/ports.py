"""Ports the application steps use that are not outside systems: where people's decisions come from.

Outside systems (financial, project control, transparency, portal, SMS, contractor registry) have
their `Protocol`s in `integrations/`; this module holds the one port that belongs to the engine's
own operators: the decisions a flow waits for (Prefect UI forms in production, scripted answers
in rehearsals)."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Decisions(Protocol):
    """The human decisions of a tender run, each asked at its moment (R08-R11)."""

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> list[str]:
        """Member ids present at the session, chosen from `members` (id -> display name)."""
        ...

    def technical_scores(self, tender_id: str, bidders: list[str]) -> dict[str, int]:
        """Envelope B technical score (0-100) per qualified bidder of a two-stage tender."""
        ...

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> bool:
        """Whether the notified bidder signed the contract within the signing period (art. 18)."""
        ...

    def confirm_minutes(self, tender_id: str, summary: str) -> bool:
        """The deputy's representative confirms the generated minutes before members sign (R09)."""
        ...
