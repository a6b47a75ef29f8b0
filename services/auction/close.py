"""The online auction's close (tender-rules.md `online_auction` and "Award and the Article 13 minutes"):
after the window closes on the engine's clock, the commission sits (attendance as for any sitting:
services.tender.sessions.accept_attendance, members with a valid certificate and role:
participants_for), the result is put in the shape the Article 13 minutes are generated from
(domain.auction.rules.evaluation) and the sitting is recorded; minutes, signatures and Article 18
follow through services.tender exactly as for other kinds."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.auction import rules
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.status import TenderStatus
from services import codec
from services.auction.offers import auction_state
from services.deps import Deps
from services.tender.sessions import SessionOutcome, participants_for, stored_session
from services.tender.status import set_status
from services.tender.view import ENGINE_ACTOR, load
from store import models as m

SESSION = "opening"  # the sitting the minutes' signers are read from (services.tender.minutes)


def closes_at(deps: Deps, tender_id: str) -> datetime:
    """When the online auction closes as its accepted offers left it (UTC, extensions included).

    Raises: NOT_FOUND (no online auction under that id), STORE_TAMPERED."""
    return auction_state(deps, tender_id)[1].closes_at


def _guarantees(deps: Deps, tender_id: str) -> tuple[dict[str, ev.Outcome], dict[str, datetime]]:
    """Per bidder: envelope A as judged (accepted if any guarantee of theirs was, else the last
    refusal), and when their first guarantee was received (UTC)."""
    outcomes: dict[str, ev.Outcome] = {}
    received: dict[str, datetime] = {}
    with deps.uow() as uow:
        rows = list(uow.auctions.guarantees(tender_id))
    for g in rows:
        received.setdefault(g.bidder_ref, g.received_at)
        if outcomes.get(g.bidder_ref, ev.NOT_SUBMITTED).accepted:
            continue
        outcomes[g.bidder_ref] = ev.ACCEPTED if g.accepted else ev.rejected(Reason(g.reason or "GUARANTEE_MISSING"))
    return outcomes, received


def close_auction(deps: Deps, tender_id: str, present: Iterable[str]) -> SessionOutcome:
    """The closing sitting of the online auction `tender_id`, with the members `present` (the chair's
    confirmed attendance): after the close (the engine's clock), the members taking part are those
    present with a valid certificate and role; the offers are replayed and awarded (highest valid
    offer, ties to the earlier receipt); the sitting is recorded (once: a rerun returns the same
    outcome with the participants recorded) and the tender moves to `opening_held`.

    Returns a SessionOutcome whose evaluation the Article 13 minutes are generated from
    (services.tender.minutes.draft_minutes). Raises: WRONG_STAGE (before the close), NOT_FOUND,
    QUORUM_NOT_MET, SECURITY_REP_ABSENT, STORE_TAMPERED. Rule: tender-rules.md `online_auction`,
    "Commission" (quorum) and "Award and the Article 13 minutes"."""
    view = load(deps, tender_id)
    terms, state, outcomes = auction_state(deps, tender_id)
    now = deps.clock.now()
    if not rules.is_closed(state, now):
        raise DomainError(Reason.WRONG_STAGE, "حراج هنوز پایان نیافته است")
    held = stored_session(deps, tender_id, SESSION)
    if held is not None:
        members = {mm.id: mm for mm in view.members}
        participants = [members[mid] for mid in held.participants]
    else:
        participants = participants_for(deps, view, present, now)
    guarantees, received = _guarantees(deps, tender_id)
    result = rules.evaluation(view.spec, terms.base_rial, guarantees, received, outcomes,
                              deps.policy.price_rules(view.formulas["abnormally-low"]))
    if held is None:
        with deps.uow() as uow:
            if uow.sessions_held.get(tender_id, SESSION) is None:
                uow.sessions_held.add(m.Session(tender_id=tender_id, kind=SESSION, held_at=now, attendees_json=codec.dumps(
                    {"present": sorted(present), "participants": [p.id for p in participants],
                     "technical_scores": None})))
                uow.record(at=now, actor=ENGINE_ACTOR, action="auction.closed", entity="tender", entity_id=tender_id,
                           payload={"closes_at": state.closes_at.isoformat(), "extensions": state.extensions,
                                    "best_rial": state.best_rial, "offers": len(outcomes),
                                    "participants": [p.id for p in participants]})
                set_status(uow, tender_id, TenderStatus.OPENING_HELD, None, now, record=False)
                uow.commit()
    return SessionOutcome(SESSION, [p.id for p in participants], result)
