"""The tender's life as an explicit state machine, one transition table per procedure
(as ProZorro has per procedure type); anything else is WRONG_STAGE."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from domain.reasons import DomainError, Reason
from domain.tender.model import Procedure


class TenderState(str, Enum):
    ANNOUNCED = "announced"
    SUBMISSION_CLOSED = "submission_closed"
    OPENING_A_B = "opening_a_b"
    TECHNICAL_EVALUATION = "technical_evaluation"
    PRICE_OPENING = "price_opening"
    EVALUATED = "evaluated"
    MINUTES_SIGNED = "minutes_signed"
    NOTIFIED = "notified"
    CONTRACTED = "contracted"
    RETENDER = "retender"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


S = TenderState
TERMINAL = frozenset({S.CONTRACTED, S.RETENDER, S.CANCELLED})
# States that wait on the commission (quorum, security representative) and so can block.
_BLOCKABLE = frozenset({S.SUBMISSION_CLOSED, S.OPENING_A_B, S.TECHNICAL_EVALUATION, S.PRICE_OPENING,
                        S.EVALUATED, S.MINUTES_SIGNED})

_COMMON: dict[TenderState, frozenset[TenderState]] = {
    S.ANNOUNCED: frozenset({S.SUBMISSION_CLOSED}),
    # Too few valid bids after A/B: nothing left to price, straight to the evaluated result.
    S.PRICE_OPENING: frozenset({S.EVALUATED}),
    S.EVALUATED: frozenset({S.MINUTES_SIGNED}),
    # Minutes of a failed tender (TOO_FEW_VALID_BIDS) are signed, then it is re-tendered.
    S.MINUTES_SIGNED: frozenset({S.NOTIFIED, S.RETENDER}),
    # NOTIFIED -> NOTIFIED: the winner did not sign and the runner-up is notified.
    S.NOTIFIED: frozenset({S.NOTIFIED, S.CONTRACTED, S.RETENDER}),
}

TRANSITIONS: dict[Procedure, dict[TenderState, frozenset[TenderState]]] = {
    Procedure.ONE_STAGE: {
        **_COMMON,
        S.SUBMISSION_CLOSED: frozenset({S.OPENING_A_B}),
        S.OPENING_A_B: frozenset({S.PRICE_OPENING, S.EVALUATED}),
    },
    Procedure.TWO_STAGE: {
        **_COMMON,
        S.SUBMISSION_CLOSED: frozenset({S.TECHNICAL_EVALUATION}),
        S.TECHNICAL_EVALUATION: frozenset({S.PRICE_OPENING, S.EVALUATED}),
    },
}


@dataclass(frozen=True)
class TenderLifecycle:
    """Immutable: advance() returns the next lifecycle; history is the states passed through."""

    procedure: Procedure
    state: TenderState = S.ANNOUNCED
    blocked_from: TenderState | None = None
    history: tuple[TenderState, ...] = (S.ANNOUNCED,)

    def allowed(self) -> frozenset[TenderState]:
        if self.state in TERMINAL:
            return frozenset()
        if self.state is S.BLOCKED:
            # Resume where it stopped once the missing member or share arrives, or give up.
            return frozenset({self.blocked_from, S.CANCELLED})  # type: ignore[arg-type]
        nxt = set(TRANSITIONS[Procedure(self.procedure)].get(self.state, frozenset()))
        nxt.add(S.CANCELLED)
        if self.state in _BLOCKABLE:
            nxt.add(S.BLOCKED)
        return frozenset(nxt)

    def advance(self, to: TenderState | str) -> TenderLifecycle:
        to = TenderState(to)
        if to not in self.allowed():
            raise DomainError(Reason.WRONG_STAGE, f"{self.state.value} → {to.value}",
                              state=self.state.value, to=to.value)
        blocked_from = self.state if to is S.BLOCKED else None
        return TenderLifecycle(self.procedure, to, blocked_from, (*self.history, to))

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


def check_opening_time(now: datetime, opening_at: datetime) -> None:
    """No envelope is opened before the scheduled session time."""
    if now < opening_at:
        raise DomainError(Reason.OPENING_TOO_EARLY, f"{now.isoformat()} < {opening_at.isoformat()}")


def check_submission_time(now: datetime, deadline: datetime) -> None:
    """A bid received after the deadline is refused; one received exactly at it is on time."""
    if now > deadline:
        raise DomainError(Reason.LATE_SUBMISSION, f"{now.isoformat()} > {deadline.isoformat()}")
