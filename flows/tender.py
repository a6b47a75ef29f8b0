"""The electronic tender, as the commission lives it.

    announce → (bidders submit sealed bids) → opening session: A, B[, C] → [price session: C]
      → Article 13 minutes signed in the session → Article 18 notification → contract signature

Human decisions (attendance, technical scores, the winner's signature) go through
services.bootstrap.decisions(): Prefect UI forms in production, scripted answers in pilots.
"""
from __future__ import annotations

import time
from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from domain.clock import SimulatedClock
from domain.persian import format_rial, persian_digits
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from services import bootstrap, tender as svc
from store import models as m
from tasks.tender import draft_minutes, notify, open_envelopes, sign_minutes

BLOCKING = {Reason.QUORUM_NOT_MET, Reason.SECURITY_REP_ABSENT, Reason.TOKEN_PIN_INVALID, Reason.TOKEN_NOT_FOUND}
STATUS_FA = {"accepted": "پذیرفته", "rejected": "رد", "returned_unopened": "بازنشده مسترد",
             "not_submitted": "ارسال نشده"}


def wait_until(clock, when: datetime) -> None:
    """Simulated time jumps; real time waits (the opening run is scheduled at the opening time)."""
    if isinstance(clock, SimulatedClock):
        if clock.now() < when:
            clock.set(when)
        return
    while clock.now() < when:
        time.sleep(min(30.0, (when - clock.now()).total_seconds()))


@flow(name="tender-session", flow_run_name="{tender_id}-{session}", log_prints=True)
def tender_session_flow(tender_id: str, session: str = "opening") -> dict:
    """One sitting of the Article 13 commission: unlock the opening key with the members' tokens,
    open the envelopes in order, evaluate, and (when prices are known) sign the minutes.

    A rerun after a crash continues from the store: a session already held is not held again
    and minutes already generated are signed as they are, so no envelope is opened twice."""
    deps = bootstrap.current()
    logger = get_run_logger()
    view = svc.load(deps, tender_id)
    at = view.spec.opening_at if session == "opening" else view.spec.price_opening_at
    wait_until(deps.clock, at)
    stored = svc.stored_session(deps, tender_id, session)
    prices_now = session == "price_opening" or view.spec.procedure.value == "one_stage"
    if stored is not None and not prices_now:
        return {"status": "technical_evaluated", "reason": None}
    if stored is not None and _minutes_exist(deps, tender_id):
        participants = stored["participants"]
    else:
        members = {mm.id: mm.name or mm.role.value for mm in view.members}
        present = stored["present"] if stored else bootstrap.decisions().attendance(
            tender_id, session, members, deps.clock.now())
        try:
            outcome = open_envelopes(tender_id, session, present)
        except DomainError as exc:
            if exc.reason not in BLOCKING:
                raise
            logger.warning("جلسه برگزار نشد: %s", exc.message_fa)
            _set_status(deps, tender_id, "blocked", exc.reason)
            return {"status": "blocked", "reason": exc.reason.value}
        bids = outcome.evaluation.bids if outcome.evaluation else outcome.technical
        _bids_artifact(tender_id, session, bids, outcome.evaluation)
        if outcome.evaluation is None:
            return {"status": "technical_evaluated", "reason": None}
        draft_minutes(tender_id, outcome)
        participants = outcome.participants
    if not _minutes_confirmed(deps, tender_id):
        award = outcome_summary(deps, tender_id)
        if not bootstrap.decisions().confirm_minutes(tender_id, award):
            _set_status(deps, tender_id, "minutes_not_confirmed", None)
            return {"status": "blocked", "reason": None}
        with deps.uow() as uow:
            uow.record(at=deps.clock.now(), actor="deputy-representative", action="article13.confirmed",
                       entity="tender", entity_id=tender_id)
            uow.commit()
    minutes = sign_minutes(tender_id, participants)
    award = minutes.award
    status = "awarded" if award["status"] == "awarded" else "retender"
    reason = None
    if status == "retender":
        with deps.uow() as uow:
            reason = Reason(uow.tenders.get(tender_id).reason or Reason.TOO_FEW_VALID_BIDS.value)
        reason = _award_reason(minutes) or reason
    _set_status(deps, tender_id, "minutes_final" if status == "awarded" else "retender", reason)
    create_markdown_artifact(key=f"{_key(tender_id)}-minutes", markdown=_minutes_md(tender_id, minutes),
                             description="صورتجلسهٔ ماده ۱۳")
    return {"status": status, "reason": reason.value if reason else None}


def _minutes_confirmed(deps, tender_id: str) -> bool:
    with deps.uow() as uow:
        return uow.session.query(m.AuditEntry).filter_by(action="article13.confirmed",
                                                         entity_id=tender_id).first() is not None


def outcome_summary(deps, tender_id: str) -> str:
    from domain.documents.minutes import award_of
    from domain.xmlsafe import parse_untrusted

    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, "article13")
    award = award_of(parse_untrusted(row.xml))
    return f"برنده: {award['winner'] or '—'}، نفر دوم: {award['runner_up'] or '—'}، وضعیت: {award['status']}"


def _minutes_exist(deps, tender_id: str) -> bool:
    with deps.uow() as uow:
        return uow.minutes.latest(tender_id, "article13") is not None


def _award_reason(minutes: svc.MinutesResult) -> Reason | None:
    from domain.xmlsafe import parse_untrusted
    from signing.xmldsig import signed_document_root

    root = signed_document_root(parse_untrusted(minutes.xml))
    award = root.find("{urn:tehran:eproc:minutes:1}Body").find("{urn:tehran:eproc:minutes:1}Award")
    return Reason(award.get("reason")) if award.get("reason") else None


@flow(name="tender", flow_run_name="tender-{tender_id}", log_prints=True)
def tender_flow(tender_id: str) -> dict:
    """From the opening session to the winner's contract signature (the announcement and the
    bidders' submissions happen before, through `eproc` and the bidders' own tools)."""
    deps = bootstrap.current()
    view = svc.load(deps, tender_id)
    result = tender_session_flow(tender_id, "opening")
    if result["status"] == "technical_evaluated":
        result = tender_session_flow(tender_id, "price_opening")
    if result["status"] != "awarded":
        return result
    return contract_signature(tender_id, view)


def contract_signature(tender_id: str, view: svc.TenderView) -> dict:
    """Article 18 notice to the winner; forfeiture and the runner-up; or re-tender (art. 21)."""
    deps = bootstrap.current()
    _, award, _ = svc.final_minutes(deps, tender_id)
    declines: set[str] = set()
    candidates = [award["winner"]] + ([award["runner_up"]] if award["runner_up"] else [])
    for version, bidder in enumerate(candidates, start=1):
        notify(tender_id, bidder, version)
        notified_at = deps.clock.now()
        if bootstrap.decisions().contract_signed(tender_id, bidder, notified_at):
            break
        declines.add(bidder)
        wait_until(deps.clock, ev.signing_deadline(view.spec, notified_at))
        with deps.uow() as uow:
            uow.record(at=deps.clock.now(), actor="engine", action="guarantee.forfeited", entity="tender",
                       entity_id=tender_id, reason=Reason.GUARANTEE_FORFEITED, payload={"bidder": bidder})
            uow.commit()
    ranking = tuple(ev.PricedBid(b, p, deps.clock.now()) for b, p in award["prices"].items())
    result = ev.signing_round(ev.AwardResult(ev.AwardStatus.AWARDED, None, ranking, award["winner"],
                                             award["runner_up"]), declines)
    status = "contracted" if result.contract_bidder else "retender"
    _set_status(deps, tender_id, status, result.reason if not result.contract_bidder else None)
    return {"status": "awarded" if result.contract_bidder else "retender",
            "reason": result.reason.value if result.reason and not result.contract_bidder else None,
            "contract_bidder": result.contract_bidder, "forfeited": list(result.forfeited),
            "notified": list(result.notified)}


def _set_status(deps, tender_id: str, status: str, reason: Reason | None) -> None:
    with deps.uow() as uow:
        t = uow.tenders.get(tender_id)
        if t.status != status:
            t.status, t.reason = status, reason.value if reason else None
            uow.record(at=deps.clock.now(), actor="engine", action=f"tender.{status}", entity="tender",
                       entity_id=tender_id, reason=reason)
            uow.commit()


def _key(tender_id: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in tender_id.lower())


def _bids_artifact(tender_id: str, session: str, bids: dict, evaluation) -> None:
    rows = ["| پیشنهاددهنده | پاکت الف | پاکت ب | پاکت ج | قیمت (ریال) | رتبه | علت |", "|---|---|---|---|---|---|---|"]
    for bidder, e in sorted(bids.items()):
        rank = evaluation.rank_of(bidder) if evaluation else None
        reason = e.reason.message_fa if e.reason else "—"
        cells = [bidder] + [STATUS_FA.get((o.status.value if o else "returned_unopened"), "") for o in (e.a, e.b, e.c)]
        cells += [persian_digits(format_rial(e.price_rial)) if e.price_rial else "—",
                  persian_digits(rank) if rank else "—", reason]
        rows.append("| " + " | ".join(cells) + " |")
    title = "جلسهٔ بازگشایی" if session == "opening" else "جلسهٔ بازگشایی پاکت‌های ج"
    create_markdown_artifact(key=f"{_key(tender_id)}-{session.replace('_', '-')}",
                             markdown=f"## {title} — مناقصهٔ {tender_id}\n\n" + "\n".join(rows),
                             description=f"{title} {tender_id}")


def _minutes_md(tender_id: str, minutes: svc.MinutesResult) -> str:
    award = minutes.award
    lines = [f"## صورتجلسهٔ ماده ۱۳ — {tender_id}", "",
             f"- نسخه: {persian_digits(minutes.version)}؛ نهایی: {'بله' if minutes.final else 'خیر'}",
             f"- امضاکنندگان: {'، '.join(minutes.signers)}",
             f"- برنده: {award['winner'] or '—'}؛ نفر دوم: {award['runner_up'] or '—'}"]
    return "\n".join(lines)
