"""What the store and the operators see of a tender's progress, and the one rule for moving it:
forward only, so a rerun after a crash never lowers it (R08).

`TenderStatus` is the stored status (tenders.status); `SessionStatus` is what a sitting of the
commission ends in (the result of a tender-session run)."""
from __future__ import annotations

from enum import Enum


class TenderStatus(str, Enum):
    ANNOUNCED = "announced"
    OPENING_HELD = "opening_held"
    PRICE_OPENING_HELD = "price_opening_held"
    BLOCKED = "blocked"                        # quorum or security representative missing; may resume
    MINUTES_NOT_CONFIRMED = "minutes_not_confirmed"  # the deputy's representative refused; may resume
    MINUTES_FINAL = "minutes_final"
    RETENDER = "retender"
    CONTRACTED = "contracted"


class SessionStatus(str, Enum):
    TECHNICAL_EVALUATED = "technical_evaluated"  # two-stage: A and B opened, C waits for its session
    BLOCKED = "blocked"
    AWARDED = "awarded"
    RETENDER = "retender"


T = TenderStatus
_RANK = {T.ANNOUNCED: 0, T.OPENING_HELD: 1, T.PRICE_OPENING_HELD: 2, T.MINUTES_FINAL: 3, T.RETENDER: 4,
         T.CONTRACTED: 4}
# Pauses: entered from any open status, left to wherever the tender resumes.
_PAUSES = frozenset({T.BLOCKED, T.MINUTES_NOT_CONFIRMED})
_TERMINAL = frozenset({T.RETENDER, T.CONTRACTED})


def advance_status(current: TenderStatus, target: TenderStatus) -> TenderStatus:
    """The status after asking to move from `current` to `target`: `target` when it is forward (or a
    pause of an open tender, or a resumption from a pause), otherwise `current` unchanged.

    Never raises: a rerun repeating an earlier step is normal, not an error (R08 restarts)."""
    if current in _TERMINAL:
        return current
    if target in _PAUSES or current in _PAUSES:
        return target
    return target if _RANK[target] >= _RANK[current] else current
