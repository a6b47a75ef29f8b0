"""What every flow shares: the current dependencies, waiting for a moment on the engine's clock,
and Persian markdown artifacts keyed by tender."""
from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from prefect.artifacts import create_markdown_artifact

from domain.clock import Clock, SimulatedClock
from services.deps import Deps, current


def deps() -> Deps:
    """The dependencies the process that started this flow entered (services.deps.use)."""
    return current()


def wait_until(clock: Clock, when: datetime) -> None:
    """Simulated time jumps; real time waits (the opening run is scheduled at the opening time)."""
    if isinstance(clock, SimulatedClock):
        if clock.now() < when:
            clock.set(when)
        return
    while clock.now() < when:
        time.sleep(min(30.0, (when - clock.now()).total_seconds()))


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key from ids (lowercase letters, digits and dashes only)."""
    return "-".join("".join(c if c.isalnum() else "-" for c in p.lower()) for p in parts)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def publish(key: str, title: str, lines: Sequence[str], description: str) -> None:
    """A markdown artifact: `## title` then `lines`."""
    create_markdown_artifact(key=key, markdown="\n".join([f"## {title}", "", *lines]), description=description)


SEAT_FA = {"chair": "رئیس کمیسیون", "finance": "مدیر مالی", "technical": "مدیر فنی", "security": "نمایندهٔ حراست"}
SESSION_FA = {"opening": "جلسهٔ بازگشایی", "price_opening": "جلسهٔ بازگشایی پاکت‌های ج"}


def publish_sitting(tender_id: str, session: str) -> list[str]:
    """The sitting's artifact in the Prefect UI: each seat of the opening keys, its holders by name and
    whether each released their part at their station (ids and Persian only: no part, key or PIN).
    Returns the member ids released so far."""
    from services import tender as svc

    d = deps()
    view = svc.load(d, tender_id)
    released = svc.released_members(d, tender_id, session)
    names = {mm.id: mm.name or mm.id for mm in view.members}
    seats = [*view.seats.voting.items(), ("security", view.seats.security)]
    rows = [[SEAT_FA.get(role, role), names.get(mid, mid), "آزاد شد ✓" if mid in released else "در انتظار"]
            for role, ids in seats for mid in ids]
    publish(artifact_key(tender_id, session, "sitting"), f"{SESSION_FA.get(session, session)} — مناقصهٔ {tender_id}",
            [f"نصاب: {view.seats.threshold} صندلی رأی‌دهنده و نمایندهٔ حراست", "",
             *table(["صندلی", "عضو", "سهم"], rows)],
            f"صندلی‌های {SESSION_FA.get(session, session)} {tender_id}")
    return released
