"""Ports the application steps use that are not outside systems: where people's decisions come from.

Outside systems (financial, project control, transparency, portal, SMS, contractor registry) have
their `Protocol`s in `integrations/`; this module holds the one port that belongs to the engine's
own operators: the decisions a flow waits for (Prefect UI forms in production, scripted answers in
rehearsals). Every answer says who gave it (a national ID), so the audit log records it. It also
holds the workflow engine's side that the API needs (`Orchestrator`: Prefect in production)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Attendance:
    """The chair's answer on attendance: member ids present, whether the chair confirmed, and the
    national ID of whoever answered (R08: only a confirmed attendance opens a session)."""

    present: list[str]
    confirmed: bool
    answered_by: str


@dataclass(frozen=True)
class Scores:
    """Envelope B technical scores (0-100) per bidder, and who entered them."""

    scores: dict[str, int]
    answered_by: str


@dataclass(frozen=True)
class Confirmation:
    """A yes/no answer (minutes confirmed, contract signed), who gave it, and an optional note."""

    confirmed: bool
    answered_by: str
    note: str = ""


class Decisions(Protocol):
    """The human decisions of a tender run, each asked at its moment (R08-R11)."""

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> Attendance:
        """Members present at the session, chosen from `members` (id -> name and role)."""
        ...

    def technical_scores(self, tender_id: str, bidders: list[str]) -> Scores:
        """Envelope B technical score (0-100) per qualified bidder of a two-stage tender."""
        ...

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> Confirmation:
        """Whether the notified bidder signed the contract within the signing period (art. 18)."""
        ...

    def release_parts(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> None:
        """The members (`members`: id -> name and role) present at `at` release their parts of the bids' keys at their
        own stations for this sitting (issue 12); returns when the quorum and the security
        representative have, or when the wait ends (the sitting then finds them missing and blocks)."""
        ...

    def confirm_minutes(self, tender_id: str, summary: str) -> Confirmation:
        """The deputy's representative confirms the generated minutes before members sign (R09)."""
        ...

    def minutes_signed(self, tender_id: str, kind: str, signers: list[str]) -> None:
        """The required members (`signers`: member ids) sign the tender's document `kind` (article13,
        article18, article18-2) at their own stations, in the session; returns when they have, or when
        the wait times out (the flow then finds the document not final and blocks the tender with
        QUORUM_NOT_MET). The engine never signs for them (R10, R11; "Stations and trust")."""
        ...


class Orchestrator(Protocol):
    """The workflow engine as the API and the waiting flows see it (Prefect in production; absent in
    rehearsals, whose flows run in-process). Everything it carries is an id or a time: never a part,
    a key, a PIN or bid content."""

    def schedule_tender(self, tender_id: str, unit: str, opening_at: datetime, kind: str = "tender") -> dict[str, Any]:
        """Schedule the tender's run at `opening_at` (UTC), once per tender, tagged with `unit` and the
        transaction `kind`.
        Returns `{"id", "name", "scheduled_for" (ISO, UTC), "tags"}`."""
        ...

    def progress(self, tender_id: str, session: str | None, kind: str | None, ready: bool) -> None:
        """Something the tender's run waits for moved (a member released in `session`, or signed the
        document `kind`): refresh what operators see and, when `ready` (the wait is over), resume the
        tender's run suspended waiting for it."""
        ...

    def wake_at(self, tender_id: str, when: datetime) -> None:
        """Resume the tender's suspended run at `when` (UTC), whatever happened by then: the wait's
        deadline, after which the run ends `blocked` with its reason (issue 12 part 4)."""
        ...

    def wake(self, tender_id: str, waiting_for: str | None = None) -> None:
        """Resume the tender's run suspended now waiting for `waiting_for` (`release-<session>`,
        `sign-<kind>`; None: whatever it waits for). None suspended: nothing happens."""
        ...

    def emit(self, event: str, resource_id: str, ids: dict[str, str]) -> None:
        """Emit `event` about the resource `resource_id` (e.g. `eproc.contract.<tracking number>`) with
        `ids` (label -> id: tender id, tracking number, contract code, statement ref/id) as its labels
        and payload, so the deployments whose triggers expect it start a run (issue 13 part 3;
        services.contract.events). Ids only: never a key, a PIN or a document's content."""
        ...
