"""The electronic tender, as the commission lives it.

    announce → (bidders submit sealed bids) → opening session: A, B[, C] → [price session: C]
      → Article 13 minutes signed in the session → Article 18 notification → contract signature

Human decisions (attendance, technical scores, confirming the minutes, the members' and the chair's
signatures at their own stations, the winner's signature) come from the dependencies' `Decisions`:
Prefect UI forms in production, scripted answers in rehearsals. Flows take ids only; everything
else comes from services.
"""
from __future__ import annotations

from prefect import flow, get_run_logger

from domain.persian import format_rial, persian_digits
from domain.reasons import DomainError, Reason
from domain.tender.commission import Member
from domain.tender.status import SessionStatus
from flows import runtime
from services import tender as svc
from tasks.notify import notify_bidders
from tasks.tender import draft_minutes, draft_notification, notify, open_envelopes, signed_minutes

BLOCKING = {Reason.QUORUM_NOT_MET, Reason.SECURITY_REP_ABSENT, Reason.TOKEN_PIN_INVALID, Reason.TOKEN_NOT_FOUND,
            Reason.NOT_AUTHORISED, Reason.STORE_TAMPERED}
STATUS_FA = {"accepted": "پذیرفته", "rejected": "رد", "returned_unopened": "بازنشده مسترد",
             "not_submitted": "ارسال نشده"}
ROLE_FA = runtime.SEAT_FA
SESSION_TITLE_FA = {"opening": "جلسهٔ بازگشایی", "price_opening": "جلسهٔ بازگشایی پاکت‌های ج"}


def sitting(tender_id: str, session: str = "opening") -> dict:
    """One sitting of the Article 13 commission, inside the tender's run: open the sitting, wait for
    the members to release their parts of the bids' keys from their own stations, rebuild each bid's
    key, open the envelopes in order, evaluate, and (when prices are known) wait for the members to
    sign the minutes at their stations (blocked with QUORUM_NOT_MET when they do not in time).

    Not a subflow: the tender's run suspends while members act at their stations, and Prefect
    suspends only top-level runs. A run resumed after a suspension, or rerun after a crash, starts
    over and continues from the store: a session already held is not held again and minutes
    already generated are signed as they are, so no envelope is opened twice."""
    deps = runtime.deps()
    view = svc.load(deps, tender_id)
    runtime.wait_until(deps.clock, svc.session_time(view.spec, session), tender_id)
    stored = svc.stored_session(deps, tender_id, session)
    prices_now = session == "price_opening" or view.spec.procedure.value == "one_stage"
    if stored is not None and not prices_now:
        return svc.SessionResult(SessionStatus.TECHNICAL_EVALUATED).to_dict()
    if stored is not None and svc.minutes_exist(deps, tender_id):
        participants = stored.participants
    else:
        members = {mm.id: member_label(mm) for mm in view.members}
        try:
            if stored is None:
                # The sitting's key on the engine's token; each member releases their parts from their
                # own station (issue 12: nobody held the means to open a bid before this moment).
                svc.open_sitting(deps, tender_id, session)
                deps.human().release_parts(tender_id, session, members, deps.clock.now())
                runtime.publish_sitting(tender_id, session)
                # The wait is over: without the quorum's and security's parts nothing can be opened,
                # whoever is present (blocked now rather than after asking the attendance).
                svc.require_released(deps, tender_id, session)
            present = stored.present if stored else svc.accept_attendance(
                deps, view, session, deps.human().attendance(tender_id, session, members, deps.clock.now()))
            outcome = open_envelopes(tender_id, session, present)
            if outcome.awaiting_scores is not None:
                # Two-stage: the commission scores envelope B before the sitting is recorded.
                scores = deps.human().technical_scores(tender_id, outcome.awaiting_scores)
                outcome = open_envelopes(tender_id, session, present, scores.scores)
        except DomainError as exc:
            if exc.reason not in BLOCKING:
                raise
            get_run_logger().warning("جلسه برگزار نشد: %s", exc.message_fa)
            return svc.block(deps, tender_id, exc.reason).to_dict()
        _bids_artifact(tender_id, session, outcome)
        if outcome.evaluation is None:
            return svc.SessionResult(SessionStatus.TECHNICAL_EVALUATED).to_dict()
        draft_minutes(tender_id, outcome)
        participants = outcome.participants
    return minutes_signed_in_session(tender_id, participants)


def minutes_signed_in_session(tender_id: str, participants: list[str]) -> dict:
    """After the minutes are generated: the deputy's representative confirms them, every member
    taking part (`participants`: member ids) signs them at their own station, and the sitting ends
    `awarded` or `retender` (blocked with QUORUM_NOT_MET when they do not sign in time). The engine
    only receives the signatures (R09, R10). Shared by every kind's sitting (tenders, online auctions)."""
    deps = runtime.deps()
    if not svc.minutes_confirmed(deps, tender_id):
        answer = deps.human().confirm_minutes(tender_id, svc.award_summary(deps, tender_id))
        if not svc.confirm_minutes(deps, tender_id, answer):
            return svc.SessionResult(SessionStatus.BLOCKED).to_dict()
    deps.human().minutes_signed(tender_id, svc.ARTICLE13, participants)
    try:
        minutes = signed_minutes(tender_id)
    except DomainError as exc:
        if exc.reason is not Reason.QUORUM_NOT_MET:
            raise
        get_run_logger().warning("صورتجلسه نهایی نشد: %s", exc.message_fa)
        return svc.block(deps, tender_id, exc.reason).to_dict()
    result = svc.conclude(deps, tender_id, minutes)
    _minutes_artifact(tender_id, minutes)
    return result.to_dict()


@flow(name="tender", flow_run_name="tender-{tender_id}", log_prints=True)
def tender_flow(tender_id: str) -> dict:
    """From the opening session to the winner's contract signature (the announcement and the
    bidders' submissions happen before, through `eproc` and the bidders' own tools). While members
    release or sign at their stations the run is suspended (on a deployment) and starts over from
    the store when resumed."""
    result = sitting(tender_id, "opening")
    if result["status"] == SessionStatus.TECHNICAL_EVALUATED.value:
        result = sitting(tender_id, "price_opening")
    if result["status"] != SessionStatus.AWARDED.value:
        return result
    notify_bidders(tender_id)  # each bidder's opening result from the final minutes (R26)
    return contract_signature(tender_id)


def contract_signature(tender_id: str) -> dict:
    """Article 18 notice to the winner; forfeiture and the runner-up; or re-tender (art. 21)."""
    deps = runtime.deps()
    declined: set[str] = set()
    for version, bidder in enumerate(svc.candidates(deps, tender_id), start=1):
        draft = draft_notification(tender_id, bidder, version)
        deps.human().minutes_signed(tender_id, draft.kind, draft.signers)  # the chair, at their station
        try:
            notify(tender_id, bidder, version)
        except DomainError as exc:
            if exc.reason is not Reason.QUORUM_NOT_MET:
                raise
            get_run_logger().warning("ابلاغ ماده ۱۸ امضا نشد: %s", exc.message_fa)
            return svc.block(deps, tender_id, exc.reason).to_dict()
        notified_at = deps.clock.now()
        if svc.record_signature_answer(deps, tender_id, bidder,
                                       deps.human().contract_signed(tender_id, bidder, notified_at)):
            break
        declined.add(bidder)
        runtime.wait_until(deps.clock, svc.signing_deadline(deps, tender_id, notified_at))
        svc.forfeit_guarantee(deps, tender_id, bidder)
    return svc.close_signing(deps, tender_id, declined).to_dict()


def member_label(member: Member) -> str:
    """How a member appears on the attendance form: name and role in Persian."""
    role = ROLE_FA.get(member.role.value, member.role.value)
    return f"{member.name} — {role}" if member.name else role


def _bids_artifact(tender_id: str, session: str, outcome: svc.SessionOutcome) -> None:
    evaluation = outcome.evaluation
    bids = evaluation.bids if evaluation else (outcome.technical or {})
    rows = []
    for bidder, e in sorted(bids.items()):
        rank = evaluation.rank_of(bidder) if evaluation else None
        cells = [bidder] + [STATUS_FA.get((o.status.value if o else "returned_unopened"), "") for o in (e.a, e.b, e.c)]
        cells += [persian_digits(format_rial(e.price_rial)) if e.price_rial else "—",
                  persian_digits(rank) if rank else "—", e.reason.message_fa if e.reason else "—"]
        rows.append(cells)
    title = f"{SESSION_TITLE_FA[session]} — مناقصهٔ {tender_id}"
    runtime.publish(runtime.artifact_key(tender_id, session.replace("_", "-")), title,
                    runtime.table(["پیشنهاددهنده", "پاکت الف", "پاکت ب", "پاکت ج", "قیمت (ریال)", "رتبه", "علت"], rows),
                    f"{SESSION_TITLE_FA[session]} {tender_id}")


def _minutes_artifact(tender_id: str, minutes: svc.MinutesResult) -> None:
    award = minutes.award
    runtime.publish(runtime.artifact_key(tender_id, "minutes"), f"صورتجلسهٔ ماده ۱۳ — {tender_id}",
                    [f"- نسخه: {persian_digits(minutes.version)}؛ نهایی: {'بله' if minutes.final else 'خیر'}",
                     f"- امضاکنندگان: {'، '.join(minutes.signers)}",
                     f"- برنده: {award.winner or '—'}؛ نفر دوم: {award.runner_up or '—'}"],
                    "صورتجلسهٔ ماده ۱۳")
