"""What every flow shares: the current dependencies, waiting for a moment on the engine's clock or
for people at their stations (suspended, holding no worker), and Persian markdown artifacts keyed
by tender."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID, uuid4

from prefect import suspend_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext

from domain.clock import Clock, SimulatedClock
from services.deps import Deps, current


def deps() -> Deps:
    """The dependencies the process that started this flow entered (services.deps.use)."""
    return current()


# A suspended run is resumed at its deadline by a scheduled wake-up; Prefect fails a run resumed after
# its own pause timeout, so that timeout is the deadline plus this margin.
SUSPEND_GRACE_SECONDS = 3600
# Waits shorter than this sleep in place: suspending costs a process start when the run resumes.
SUSPEND_AFTER_SECONDS = 120


def wait_until(clock: Clock, when: datetime, tender_id: str | None = None) -> None:
    """Simulated time jumps; real time waits (the opening run is scheduled at the opening time). A long
    real wait of a tender's run (`tender_id`: the two-stage price opening, days later) suspends the
    run instead of holding a worker, woken at `when` (`suspend_until`)."""
    if isinstance(clock, SimulatedClock):
        if clock.now() < when:
            clock.set(when)
        return
    if tender_id is not None and (when - clock.now()).total_seconds() > SUSPEND_AFTER_SECONDS and can_suspend():
        suspend_until(tender_id, lambda: clock.now() >= when, when, "until")
    while clock.now() < when:
        time.sleep(min(30.0, (when - clock.now()).total_seconds()))


def can_suspend() -> bool:
    """Whether this run may suspend and be woken: a top-level run of a deployment (Prefect refuses to
    suspend subflows and runs without one), in a process wired with the workflow engine
    (`Deps.orchestrator`) that schedules its wake-up."""
    ctx = FlowRunContext.get()
    run = ctx.flow_run if ctx is not None else None
    return (run is not None and run.deployment_id is not None and run.parent_task_run_id is None
            and deps().orchestrator is not None)


def suspend_until(tender_id: str, ready: Callable[[], bool], deadline: datetime, what: str) -> None:
    """Return when `ready()` or at `deadline` (UTC, the engine's clock); otherwise suspend the run: it
    holds no worker, its process ends, and it starts over from the store when resumed, by the API as
    soon as what it waits for is complete (services.tender.progress) or by the wake-up scheduled at
    `deadline`, after which the caller finds the wait over and blocks with its reason. Only ids and
    times go to Prefect. `what` names the wait in the suspension's key (a fresh key each time: the
    store, not Prefect, says whether the wait is over; the API resumes only a run whose key, less its
    last `-<hex>`, is the wait it completed). Issue 12 part 4."""
    d = deps()
    now = d.clock.now()
    if ready() or now >= deadline:
        return
    assert d.orchestrator is not None  # can_suspend()
    d.orchestrator.wake_at(tender_id, deadline)
    suspend_flow_run(timeout=int((deadline - now).total_seconds()) + SUSPEND_GRACE_SECONDS,
                     key=f"{what}-{uuid4().hex}")


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key from ids (lowercase letters, digits and dashes only)."""
    return "-".join("".join(c if c.isalnum() else "-" for c in p.lower()) for p in parts)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def publish(key: str, title: str, lines: Sequence[str], description: str, flow_run_id: UUID | None = None) -> None:
    """A markdown artifact: `## title` then `lines`; of the current run, or of the run `flow_run_id`
    (the API refreshing a suspended run's view from outside it)."""
    markdown = "\n".join([f"## {title}", "", *lines])
    if flow_run_id is None:
        create_markdown_artifact(key=key, markdown=markdown, description=description)
        return
    from prefect import get_client
    from prefect.client.schemas.actions import ArtifactCreate

    with get_client(sync_client=True) as client:
        client.create_artifact(ArtifactCreate(key=key, type="markdown", data=markdown, description=description,
                                              flow_run_id=flow_run_id))


SEAT_FA = {"chair": "رئیس کمیسیون", "finance": "مدیر مالی", "technical": "مدیر فنی", "legal": "نمایندهٔ حقوقی",
           "security": "نمایندهٔ حراست"}
SESSION_FA = {"opening": "جلسهٔ بازگشایی", "price_opening": "جلسهٔ بازگشایی پاکت‌های ج"}
DOCUMENT_FA = {"article13": "صورتجلسهٔ ماده ۱۳", "article18": "ابلاغ ماده ۱۸", "article18-2": "ابلاغ ماده ۱۸ (نفر دوم)"}


def publish_sitting(tender_id: str, session: str, d: Deps | None = None, flow_run_id: UUID | None = None) -> list[str]:
    """The sitting's artifact in the Prefect UI: each seat of the opening keys, its holders by name and
    whether each released their part at their station (ids and Persian only: no part, key or PIN).
    `d`: the dependencies (default: the current ones); `flow_run_id`: the run it belongs to (default:
    the current one). Returns the member ids released so far."""
    from services import tender as svc

    d = d or deps()
    view = svc.load(d, tender_id)
    released = svc.released_members(d, tender_id, session)
    names = {mm.id: mm.name or mm.id for mm in view.members}
    seats = [*view.seats.voting.items(), ("security", view.seats.security)]
    rows = [[SEAT_FA.get(role, role), names.get(mid, mid), "آزاد شد ✓" if mid in released else "در انتظار"]
            for role, ids in seats for mid in ids]
    publish(artifact_key(tender_id, session, "sitting"), f"{SESSION_FA.get(session, session)} — مناقصهٔ {tender_id}",
            [f"نصاب: {view.seats.threshold} صندلی رأی‌دهنده و نمایندهٔ حراست", "",
             *table(["صندلی", "عضو", "سهم"], rows)],
            f"صندلی‌های {SESSION_FA.get(session, session)} {tender_id}", flow_run_id)
    return released


def publish_signatures(tender_id: str, kind: str, d: Deps | None = None, flow_run_id: UUID | None = None) -> list[str]:
    """Who has signed the tender's document `kind` at their station, live in the Prefect UI: each
    required signer by name and role, signed or waiting, and the SHA-256 of the exact bytes they sign
    (ids and Persian only). `d`, `flow_run_id`: as for `publish_sitting`. Returns the ids of the members
    who have signed."""
    from services import tender as svc

    doc = svc.minutes_to_sign(d or deps(), tender_id, kind)
    rows = [[mm.name or mm.id, SEAT_FA.get(mm.role.value, mm.role.value),
             "امضا کرد ✓" if mm.id in doc.signed else "در انتظار"] for mm in doc.required]
    title = DOCUMENT_FA.get(kind, kind)
    publish(artifact_key(tender_id, kind, "signatures"), f"امضای {title} — مناقصهٔ {tender_id}",
            [f"وضعیت: {'نهایی' if doc.final else 'در انتظار امضا'}؛ SHA-256: `{doc.sha256}`", "",
             *table(["امضاکننده", "سمت", "امضا"], rows)],
            f"امضاکنندگان {title} {tender_id}", flow_run_id)
    return list(doc.signed)
