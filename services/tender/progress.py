"""What the tender's run waits for, seen from the API's side: the announcement schedules the run, and a
member's release or signature made at their station moves the waiting run on (issue 11 part 3,
issue 12 part 4).

The run suspends (holding no worker) while members act at their stations; the API, which receives
what they send, tells the workflow engine (`Deps.orchestrator`) so operators see the seats and
signatures at once and the run resumes as soon as what it waits for is complete. Without an
orchestrator (rehearsals, a station working alone) these steps do nothing."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.deps import Deps
from services.tender.minutes import all_signed
from services.tender.release import quorum_released
from services.tender.view import load


def schedule_opening(deps: Deps, tender_id: str) -> dict[str, Any] | None:
    """After the notice is published: the tender's run scheduled at its opening time (UTC) by the
    workflow engine, once per tender. Returns the run (`{"id", "name", "scheduled_for", "tags"}`) or
    None without an orchestrator. Raises: INVALID_INPUT (unknown tender). Rule: R01 (the opening
    happens at the announced time, electronically)."""
    if deps.orchestrator is None:
        return None
    spec = load(deps, tender_id).spec
    return deps.orchestrator.schedule_tender(tender_id, spec.unit, spec.opening_at, spec.kind.value)


def after_release(deps: Deps, tender_id: str, session: str) -> None:
    """A member's release was stored: refresh the sitting's view; resume the run when the quorum and
    the security representative have released (R08). Raises: INVALID_INPUT (unknown tender)."""
    if deps.orchestrator is not None:
        deps.orchestrator.progress(tender_id, session, None, quorum_released(deps, tender_id, session))


def after_signature(deps: Deps, tender_id: str, kind: str) -> None:
    """A member's signature on the document `kind` was stored: refresh who has signed; resume the run
    when every required member has (R10, R11). Raises: INVALID_INPUT (unknown kind or tender)."""
    if deps.orchestrator is not None:
        deps.orchestrator.progress(tender_id, None, kind, all_signed(deps, tender_id, kind))


def sitting_deadline(deps: Deps, tender_id: str, session: str, wait_seconds: int) -> datetime | None:
    """When the wait for the members' releases ends (UTC): `wait_seconds` after the sitting's key was
    made; None before the sitting is open. Raises nothing."""
    with deps.uow() as uow:
        row = uow.session_keys.get(tender_id, session)
        return row.created_at + timedelta(seconds=wait_seconds) if row is not None else None


def signing_wait_deadline(deps: Deps, tender_id: str, kind: str, wait_seconds: int) -> datetime | None:
    """When the wait for the signatures on the document `kind` ends (UTC): `wait_seconds` after its
    latest version was generated; None before it is. Raises nothing."""
    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, kind)
        return row.created_at + timedelta(seconds=wait_seconds) if row is not None else None
