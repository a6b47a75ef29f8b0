"""The online auction (حراج), as the commission lives it (issue 14 part 1; tender-rules.md
`online_auction`):

    announce (as an auction) → the auction registered → guarantees and offers through the API
      → the close on the engine's clock (extensions included) → the closing sitting → Article 13
      minutes signed at the members' stations → Article 18 notification → the winner's signature

Offers arrive through the API while the run waits for the close; the close can move later while it
waits (an offer in the last minutes), so the run waits again until the close it reads is past.
Minutes, signatures and the Article 18 round are the tenders' own (services.tender, flows.tender's
`contract_signature`); only the sitting differs: nothing is sealed, the result is the offers'.
Human decisions come from the dependencies' `Decisions`; ids only in parameters, results and logs."""
from __future__ import annotations

from prefect import flow, get_run_logger

from domain.reasons import DomainError
from domain.tender.status import SessionStatus
from flows import runtime
from flows.tender import BLOCKING, contract_signature, member_label, minutes_signed_in_session
from services import auction as auction_svc, tender as svc
from tasks.tender import draft_minutes


def wait_for_close(tender_id: str) -> None:
    """Return once the engine's clock is at or past the auction's close as the store states it (a
    simulated clock jumps; a real one waits, suspending a deployment's run for long waits).
    Raises: NOT_FOUND (no online auction under that id)."""
    deps = runtime.deps()
    while True:
        close = auction_svc.closes_at(deps, tender_id)
        if deps.clock.now() >= close:
            return
        runtime.wait_until(deps.clock, close, tender_id)


def closing_sitting(tender_id: str) -> dict:
    """The commission's sitting after the close: attendance confirmed by the chair, the result of the
    offers (services.auction.close_auction), the Article 13 minutes generated, confirmed by the
    deputy's representative and signed by every member taking part at their own station. A rerun
    continues from the store (the sitting and the minutes are not made twice)."""
    deps = runtime.deps()
    view = svc.load(deps, tender_id)
    stored = svc.stored_session(deps, tender_id, "opening")
    if stored is not None and svc.minutes_exist(deps, tender_id):
        participants = stored.participants
    else:
        members = {mm.id: member_label(mm) for mm in view.members}
        try:
            present = stored.present if stored else svc.accept_attendance(
                deps, view, "opening", deps.human().attendance(tender_id, "opening", members, deps.clock.now()))
            outcome = auction_svc.close_auction(deps, tender_id, present)
        except DomainError as exc:
            if exc.reason not in BLOCKING:
                raise
            get_run_logger().warning("جلسهٔ پایان حراج برگزار نشد: %s", exc.message_fa)
            return svc.block(deps, tender_id, exc.reason).to_dict()
        draft_minutes(tender_id, outcome)
        participants = outcome.participants
    return minutes_signed_in_session(tender_id, participants)


@flow(name="online-auction", flow_run_name="online-auction-{tender_id}", log_prints=True)
def online_auction_flow(tender_id: str) -> dict:
    """From the close of the online auction `tender_id` to the winner's contract signature (the
    registration, guarantees and offers happen before, through the API). Returns the tender flow's
    result shape: {"status", "reason", "contract_bidder", "forfeited", "notified"} once awarded,
    {"status", "reason"} otherwise."""
    wait_for_close(tender_id)
    result = closing_sitting(tender_id)
    if result["status"] != SessionStatus.AWARDED.value:
        return result
    return contract_signature(tender_id)
