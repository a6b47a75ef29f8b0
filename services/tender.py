"""The tender as the transactions system runs it: announce, receive sealed bids, open them in the
commission's session, generate and sign the Article 13 minutes, notify the winner (Article 18).

Each step reads what the store already holds first, so a retried or restarted flow never
submits, opens or signs twice. Rules come from domain/; cryptography from sealing/ and signing/.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Sequence

from cryptography import x509
from lxml import etree
from sqlalchemy.orm import sessionmaker

from config.policy import Policy
from domain.clock import Clock
from domain.formulas import Formula
from domain.persian import format_jalali_date, format_jalali_datetime, jalali_year, to_tehran
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.commission import Member, session_participants
from domain.tender.model import BidRecord, Letter, PriceList, PriceListItem, TenderSpec
from domain.tender.state import check_opening_time
from domain.documents.minutes import build_minutes, render_html
from domain.documents.notification import build_notification
from domain.documents.receipt import build_receipt
from domain.xmlsafe import parse_untrusted
from sealing import content as sealed_content
from sealing.envelopes import SealedBid, check_manifest, open_envelope
from sealing.opening_key import OpeningKeyPlan, create_opening_key, rebuild_private_key, unlock_shares
from services import codec
from services.faults import crash_point
from services.signers import (COMPANY_SIGNATORY, CertKeyWrapper, RoleCheck, Signer, Signers, TokenShareUnwrapper,
                              current_certificate, role_checker, trust_store)
from signing.verify import verify_document
from signing.xmldsig import signed_document_root
from store import models as m
from store.uow import UnitOfWork

VOTING = ("chair", "finance", "technical")
ENGINE_ACTOR = "engine"


@dataclass
class Deps:
    """Everything a tender step needs; built once per process by services.bootstrap."""

    sessions: sessionmaker
    clock: Clock
    policy: Policy
    ca_cert: x509.Certificate
    signers: Signers
    engine_signer: Signer
    portal: Any = None
    notifier: Any = None
    contacts: dict[str, str] = field(default_factory=dict)  # recipient id -> mobile

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    @property
    def role_check(self) -> RoleCheck:
        return role_checker(self.sessions)


# --- loading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TenderView:
    spec: TenderSpec
    members: list[Member]
    price_list: PriceList
    formulas: dict[str, Formula]
    plan: OpeningKeyPlan
    status: str


def load(deps: Deps, tender_id: str) -> TenderView:
    with deps.uow() as uow:
        row = uow.tenders.get(tender_id)
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
        data = json.loads(row.spec_json)
        pl_row = uow.price_lists.get(data["price_list"]["list_id"], data["price_list"]["version"])
        price_list = _price_list(pl_row)
        formulas = {}
        for name, (fid, version) in data["formulas"].items():
            f = uow.formulas.get(fid, version)
            formulas[name] = Formula(f.formula_id, f.version, f.expression, f.approved_by, f.approved_at,
                                     f.technical_council_ref)
        return TenderView(codec.spec_from_dict(data["spec"]), codec.members_from_list(data["commission"]),
                          price_list, formulas, OpeningKeyPlan.from_json(row.opening_plan_json), row.status)


def _price_list(row: m.PriceList) -> PriceList:
    """The approved price-list version as the domain sees it (read inside the unit of work)."""
    return PriceList(id=row.list_id, version=row.version,
                     items={i.code: PriceListItem(i.code, i.unit, i.unit_price) for i in row.items},
                     approved_by=row.approved_by, approved_at=row.approved_at)


# --- announcement (R02) -----------------------------------------------------------------------
def notice_text(policy: Policy, spec: TenderSpec) -> str:
    """The notice states the submission and signature rules in force for that unit and date."""
    day = to_tehran(spec.announce_at).date()
    rules = policy.effects(spec.unit, day)
    parts = [f"آگهی {'مناقصه' if spec.kind.value == 'tender' else 'معامله'}: {spec.title}.",
             f"مهلت ارسال پیشنهاد: {format_jalali_datetime(spec.deadline)}؛ زمان بازگشایی: "
             f"{format_jalali_datetime(spec.opening_at)}.",
             *[f"{p}." for p in policy.announcement.required_phrases]]
    if rules["physical_documents_accepted"]:
        parts.append(policy.announcement.physical_phrase + "؛ ارائهٔ هر دو الزامی است.")
    if rules["electronic_minutes_mandatory"]:
        parts.append("صورتجلسات فقط با امضای الکترونیکی اعضای کمیسیون معتبر است.")
    return " ".join(parts)


def announce(deps: Deps, spec: TenderSpec, members: Sequence[Member], price_list_ref: tuple[str, int],
             formulas: dict[str, Formula], actor: str = ENGINE_ACTOR) -> str:
    """Register the tender, create its opening key split among the commission, publish the notice."""
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.tenders.get(spec.id) is not None:
            return spec.id  # idempotent: announced already
        uow.units.get(spec.unit)
        min_days = deps.policy.defaults.min_submission_days
        if spec.kind.value == "tender" and spec.deadline - spec.announce_at < timedelta(days=min_days):
            raise DomainError(Reason.INVALID_INPUT, f"مهلت ارسال پیشنهاد کمتر از {min_days} روز است")
        pl = uow.price_lists.get(*price_list_ref)
        if pl is None:
            raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای {price_list_ref[0]} نسخهٔ {price_list_ref[1]} مصوب نیست")
        for f in formulas.values():
            if uow.formulas.get(f.id, f.version) is None:
                raise DomainError(Reason.POLICY_INVALID, f"فرمول {f.ref} مصوب و ثبت نشده است")
        price_list = _price_list(pl)
    estimate = ev.compute_estimate(spec, price_list, formulas["estimate"])
    _check_procedure_fits_threshold(deps.policy, spec, estimate.total_rial)
    plan = _opening_key(deps, spec, members, now)
    data = {"spec": codec.spec_to_dict(spec), "commission": codec.members_to_list(list(members)),
            "price_list": {"list_id": price_list.id, "version": price_list.version},
            "formulas": {k: [f.id, f.version] for k, f in formulas.items()}}
    text = notice_text(deps.policy, spec)
    with deps.uow() as uow:
        uow.tenders.add(m.Tender(id=spec.id, unit_id=spec.unit, kind=spec.kind.value,
                                 procedure=spec.procedure.value, title=spec.title, status="announced",
                                 estimate_rial=estimate.total_rial, spec_json=codec.dumps(data),
                                 opening_plan_json=plan.to_json(), announced_at=spec.announce_at,
                                 deadline=spec.deadline, opening_at=spec.opening_at,
                                 price_opening_at=spec.price_opening_at))
        uow.record(at=now, actor=actor, action="tender.announced", entity="tender", entity_id=spec.id,
                   payload={"estimate_rial": estimate.total_rial, "threshold": data["formulas"],
                            "opening_public_key": plan.public_key_b64, "notice": text})
        uow.commit()
    if deps.portal is not None:
        _publish_notice(deps, spec, text, data)
    return spec.id


def _check_procedure_fits_threshold(policy: Policy, spec: TenderSpec, estimate: int) -> None:
    cls = policy.threshold_class(estimate, jalali_year(spec.announce_at))
    if spec.kind.value == "price_inquiry" and cls == "large":
        raise DomainError(Reason.INVALID_INPUT, "معاملهٔ بزرگ باید با مناقصهٔ عمومی انجام شود، نه استعلام بها")


def _opening_key(deps: Deps, spec: TenderSpec, members: Sequence[Member], now: datetime) -> OpeningKeyPlan:
    """Shares go only to members holding a valid certificate now; readiness reports the others."""
    recipients: dict[str, tuple[x509.Certificate, str]] = {}
    for mem in members:
        found = current_certificate(deps.sessions, mem.national_id, now)
        if found is not None:
            recipients[mem.id] = found
    seats: dict[str, list[str]] = {r: [] for r in VOTING}
    security: list[str] = []
    by_id = {mm.id: mm for mm in members}
    for mem in members:
        if mem.id not in recipients:
            continue
        role = by_id[mem.alternate_for].role.value if mem.alternate_for else mem.role.value
        if role in seats:
            seats[role].append(mem.id)
        elif role == "security":
            security.append(mem.id)
    threshold = None
    if deps.policy.defaults.quorum == "majority":
        threshold = len(VOTING) // 2 + 1
    if not security:
        raise DomainError(Reason.SECURITY_REP_ABSENT, "نمایندهٔ حراست گواهی معتبر روی توکن ندارد")
    empty = [r for r, ids in seats.items() if not ids]
    if empty:
        raise DomainError(Reason.QUORUM_NOT_MET, "برای این سمت‌ها عضو دارای گواهی معتبر نیست: " + "، ".join(empty))
    return create_opening_key(spec.id, seats, security, CertKeyWrapper(recipients), threshold)


def _publish_notice(deps: Deps, spec: TenderSpec, text: str, data: dict[str, Any]) -> None:
    from integrations.announcement import Notice, NoticeDocument

    doc = json.dumps(data["spec"], ensure_ascii=False, indent=1).encode("utf-8")
    notice = Notice(tender_id=spec.id, unit=spec.unit, title=spec.title, text=text,
                    documents=(NoticeDocument("tender-documents.json", hashlib.sha256(doc).hexdigest(), len(doc),
                                              doc),),
                    published_at=spec.announce_at)
    deps.portal.publish_notice(notice, deps.policy.announcement.required_phrases)


# --- submission (bidder side seals and signs; the engine checks, stores, and signs a receipt) ---
@dataclass(frozen=True)
class SubmissionResult:
    accepted: bool
    reason: Reason | None
    receipt_xml: bytes | None
    seq: int | None


def submit_bid(deps: Deps, tender_id: str, bidder_ref: str, company_id: str, sealed: SealedBid,
               signed_manifest: bytes) -> SubmissionResult:
    now = deps.clock.now()
    view = load(deps, tender_id)
    try:
        if now > view.spec.deadline:
            raise DomainError(Reason.LATE_SUBMISSION, f"مهلت: {format_jalali_datetime(view.spec.deadline)}")
        manifest_doc = parse_untrusted(signed_manifest)
        _check_bidder_signature(deps, signed_manifest, company_id)
        manifest = signed_document_root(manifest_doc)
        check_manifest(sealed, manifest)
        if sealed.tender_id != tender_id or sealed.bidder_id != bidder_ref:
            raise DomainError(Reason.ENVELOPE_TAMPERED, "پیشنهاد برای مناقصه یا پیشنهاددهندهٔ دیگری مهر شده است")
        if sealed.opening_public_key_b64 != view.plan.public_key_b64:
            raise DomainError(Reason.ENVELOPE_TAMPERED, "پیشنهاد با کلید بازگشایی این مناقصه مهر نشده است")
    except DomainError as exc:
        _record_refused_submission(deps, tender_id, bidder_ref, company_id, now, exc)
        return SubmissionResult(False, exc.reason, None, None)

    digest = hashlib.sha256(signed_manifest).hexdigest()
    with deps.uow() as uow:
        latest = uow.bids.latest(tender_id, bidder_ref)
        if latest is not None and latest.refused_reason is None \
                and hashlib.sha256(latest.manifest_xml).hexdigest() == digest:
            return SubmissionResult(True, None, latest.receipt_xml, latest.seq)  # same bid again: same receipt
        seq = (latest.seq + 1) if latest is not None else 1
        supersedes = None
        for old in uow.bids.current(tender_id):
            if old.bidder_ref == bidder_ref:
                old.superseded = True
                supersedes = f"{tender_id}/{bidder_ref}/{old.seq}"
        receipt = build_receipt(tender_id, bidder_ref, now, sealed.hashes(), receipt_id=f"{tender_id}/{bidder_ref}/{seq}",
                                supersedes=supersedes)
        signed_receipt = deps.engine_signer.sign(receipt, deps.clock, "transactions_system", "municipality")
        receipt_bytes = etree.tostring(signed_receipt, xml_declaration=True, encoding="UTF-8")
        uow.bids.add(m.Bid(tender_id=tender_id, bidder_ref=bidder_ref, company_id=company_id, seq=seq,
                           received_at=now, sealed=sealed.to_bytes(), manifest_xml=signed_manifest,
                           receipt_xml=receipt_bytes), sealed.hashes())
        uow.record(at=now, actor=bidder_ref, action="bid.received", entity="tender", entity_id=tender_id,
                   payload={"bidder": bidder_ref, "seq": seq, "hashes": sealed.hashes(), "supersedes": supersedes})
        uow.commit()
    _notify(deps, bidder_ref, "bid_receipt", {"tender_title": view.spec.title,
                                             "received_at": format_jalali_datetime(now),
                                             "receipt_id": f"{tender_id}/{bidder_ref}/{seq}"},
            f"receipt:{tender_id}:{bidder_ref}:{seq}")
    return SubmissionResult(True, None, receipt_bytes, seq)


def _check_bidder_signature(deps: Deps, signed: bytes, company_id: str) -> None:
    checks = verify_document(signed, trust_store(deps.ca_cert, deps.sessions), deps.role_check,
                             [(COMPANY_SIGNATORY, company_id)])
    if not checks or any(not c.valid for c in checks):
        bad = next((c for c in checks if not c.valid), None)
        raise DomainError(Reason.BIDDER_SIGNATURE_INVALID, bad.reason.value if bad else "بدون امضا")


def _record_refused_submission(deps: Deps, tender_id: str, bidder_ref: str, company_id: str, now: datetime,
                               exc: DomainError) -> None:
    with deps.uow() as uow:
        latest = uow.bids.latest(tender_id, bidder_ref)
        seq = (latest.seq + 1) if latest else 1
        uow.bids.add(m.Bid(tender_id=tender_id, bidder_ref=bidder_ref, company_id=company_id, seq=seq,
                           received_at=now, sealed=b"", manifest_xml=b"", superseded=False,
                           refused_reason=exc.reason.value), {})
        uow.record(at=now, actor=bidder_ref, action="bid.refused", entity="tender", entity_id=tender_id,
                   reason=exc.reason, payload={"bidder": bidder_ref, "detail": exc.detail})
        uow.commit()


# --- opening sessions (art. 18-19) ------------------------------------------------------------
@dataclass
class SessionOutcome:
    session_kind: str
    participants: list[str]
    evaluation: ev.TenderEvaluation | None
    technical: dict[str, ev.BidEvaluation] | None = None


def participants_for(deps: Deps, view: TenderView, present: Iterable[str], at: datetime) -> list[Member]:
    """Present members whose certificate is valid and who hold their role at the session."""
    invalid = []
    for mem in view.members:
        role = mem.role.value
        holds = deps.role_check(mem.national_id, role, view.spec.unit, at)
        if current_certificate(deps.sessions, mem.national_id, at) is None or not holds:
            invalid.append(mem.id)
    session = session_participants(view.members, present, invalid)
    return list(session.participants)


def _unlock_key(deps: Deps, view: TenderView, participants: list[Member]):
    by_member = {mem.id: deps.signers.get(mem.national_id) for mem in participants}
    holders = [mid for mid in by_member if any(s.recipient_id == mid for s in view.plan.shares)]
    unlocked = unlock_shares(view.plan, TokenShareUnwrapper(by_member), holders)
    return rebuild_private_key(view.plan, unlocked)


def _records(deps: Deps, tender_id: str) -> tuple[list[BidRecord], dict[str, m.Bid]]:
    """Effective bids (last on-time submission per bidder) plus bidders refused at submission."""
    with deps.uow() as uow:
        rows = [b for b in uow.session.query(m.Bid).filter(m.Bid.tender_id == tender_id).order_by(m.Bid.seq)]
    latest_ok: dict[str, m.Bid] = {}
    refused: dict[str, m.Bid] = {}
    for b in rows:
        if b.refused_reason is None:
            latest_ok[b.bidder_ref] = b
        else:
            refused[b.bidder_ref] = b
    records = [BidRecord(bidder_id=ref, receipt_at=b.received_at) for ref, b in latest_ok.items()]
    records += [BidRecord(bidder_id=ref, receipt_at=b.received_at, refused=Reason(b.refused_reason))
                for ref, b in refused.items() if ref not in latest_ok]
    return records, latest_ok


def _opener(deps: Deps, view: TenderView, rows: dict[str, m.Bid], private_key, technical_scores=None):
    opened: list[tuple[str, str]] = []

    def opener(bidder_id: str, letter: Letter):
        row = rows[bidder_id]
        if letter == Letter.A:
            # The bidder's signature is checked again at opening, against the stored manifest.
            _check_bidder_signature(deps, row.manifest_xml, row.company_id)
        with deps.uow() as uow:
            env = uow.bids.envelope(row.id, letter.value)
            expected = env.sha256
        sealed = SealedBid.from_bytes(row.sealed)
        plain = open_envelope(sealed, letter.value, private_key, expected, tender_id=view.spec.id,
                              bidder_id=bidder_id)
        opened.append((bidder_id, letter.value))
        content = codec.to_domain(letter.value, sealed_content.decode_envelope(letter.value, plain))
        if letter == Letter.B and technical_scores is not None:
            content = replace(content, technical_score=technical_scores.get(bidder_id))
        return content

    return opener, opened


def opening_session(deps: Deps, tender_id: str, present: Iterable[str],
                    technical_scores: Callable[[list[str]], dict[str, int]] | None = None) -> SessionOutcome:
    """The (first) opening session: A, B and, in a one-stage tender, C; then evaluation."""
    view = load(deps, tender_id)
    now = deps.clock.now()
    check_opening_time(now, view.spec.opening_at)
    kind = "opening"
    stored = stored_session(deps, tender_id, kind)
    participants = participants_for(deps, view, stored["present"] if stored else present, now)
    private_key = _unlock_key(deps, view, participants)
    records, rows = _records(deps, tender_id)
    formula = view.formulas["abnormally-low"]
    estimate = ev.compute_estimate(view.spec, view.price_list, view.formulas["estimate"]).total_rial
    if view.spec.procedure.value == "one_stage":
        opener, opened = _opener(deps, view, rows, private_key)
        evaluation = ev.evaluate_tender(view.spec, estimate, records, formula, opener=opener)
        _record_session(deps, tender_id, kind, now, present, participants, opened, evaluation.bids, None)
        return SessionOutcome(kind, [p.id for p in participants], evaluation)
    # Two-stage: A and B now; the commission scores B; C waits for the price session.
    scores = stored["technical_scores"] if stored and stored.get("technical_scores") is not None else None
    evs = _two_stage_technical(deps, view, records, rows, private_key, scores, technical_scores)
    _record_session(deps, tender_id, kind, now, present, participants, evs["opened"], evs["bids"],
                    evs["scores"])
    return SessionOutcome(kind, [p.id for p in participants], None, evs["bids"])


def _two_stage_technical(deps, view, records, rows, private_key, scores, decide):
    opened_all: list[tuple[str, str]] = []
    opener, opened = _opener(deps, view, rows, private_key)
    evs: dict[str, ev.BidEvaluation] = {}
    loaded: dict[str, BidRecord] = {}
    for rec in records:
        if ev.evaluate_submission(view.spec, rec).accepted:
            try:
                rec = replace(rec, a=opener(rec.bidder_id, Letter.A))
            except DomainError as exc:
                rec = _integrity_failure(rec, exc, Letter.A)
        evs[rec.bidder_id] = ev.open_a(view.spec, rec)
        loaded[rec.bidder_id] = rec
    for bid_id, e in list(evs.items()):
        if ev.wants(e, Letter.B):
            try:
                loaded[bid_id] = replace(loaded[bid_id], b=opener(bid_id, Letter.B))
            except DomainError as exc:
                loaded[bid_id] = _integrity_failure(loaded[bid_id], exc, Letter.B)
            evs[bid_id] = ev.open_b(view.spec, loaded[bid_id], e, ev.BStage.QUALIFICATION)
    qualified = [b for b, e in evs.items() if ev.wants(e, Letter.B) or (e.b is not None and e.b.accepted
                                                                         and not e.b_complete)]
    if scores is None:
        scores = decide(sorted(qualified)) if decide is not None else {
            b: int(loaded[b].b.technical_score) for b in qualified if loaded[b].b.technical_score is not None}
    for bid_id in qualified:
        rec = loaded[bid_id]
        rec = replace(rec, b=replace(rec.b, technical_score=scores.get(bid_id)))
        evs[bid_id] = ev.open_b(view.spec, rec, evs[bid_id], ev.BStage.TECHNICAL)
    opened_all.extend(opened)
    return {"bids": evs, "opened": opened_all, "scores": scores}


def _integrity_failure(rec: BidRecord, exc: DomainError, letter: Letter) -> BidRecord:
    if exc.reason is Reason.ENVELOPE_TAMPERED:
        return replace(rec, tampered=letter)
    if exc.reason is Reason.BIDDER_SIGNATURE_INVALID:
        return replace(rec, signature_invalid=True)
    raise exc


def price_session(deps: Deps, tender_id: str, present: Iterable[str]) -> SessionOutcome:
    """Two-stage: the later session that opens C only for bids at or above the technical minimum."""
    view = load(deps, tender_id)
    now = deps.clock.now()
    check_opening_time(now, view.spec.price_opening_at)
    technical = stored_session(deps, tender_id, "opening")
    if technical is None:
        raise DomainError(Reason.WRONG_STAGE, "جلسهٔ ارزیابی فنی هنوز برگزار نشده است")
    stored = stored_session(deps, tender_id, "price_opening")
    participants = participants_for(deps, view, stored["present"] if stored else present, now)
    private_key = _unlock_key(deps, view, participants)
    records, rows = _records(deps, tender_id)
    scores = technical["technical_scores"]
    opener, opened = _opener(deps, view, rows, private_key, technical_scores=scores)
    estimate = ev.compute_estimate(view.spec, view.price_list, view.formulas["estimate"]).total_rial
    # Replaying A and B with the recorded scores is deterministic; C is read only for qualified bids.
    evaluation = ev.evaluate_tender(view.spec, estimate, records, view.formulas["abnormally-low"], opener=opener)
    _record_session(deps, tender_id, "price_opening", now, present, participants,
                    [o for o in opened if o[1] == "C"], evaluation.bids, None)
    return SessionOutcome("price_opening", [p.id for p in participants], evaluation)


def stored_session(deps: Deps, tender_id: str, kind: str) -> dict | None:
    with deps.uow() as uow:
        row = uow.session.query(m.Session).filter_by(tender_id=tender_id, kind=kind).one_or_none()
        return json.loads(row.attendees_json) if row else None


def _record_session(deps, tender_id, kind, now, present, participants, opened, bids, scores) -> None:
    with deps.uow() as uow:
        if uow.session.query(m.Session).filter_by(tender_id=tender_id, kind=kind).one_or_none() is None:
            uow.session.add(m.Session(tender_id=tender_id, kind=kind, held_at=now, attendees_json=codec.dumps(
                {"present": sorted(present), "participants": [p.id for p in participants],
                 "technical_scores": scores})))
            for bidder_id, letter in opened:
                uow.record(at=now, actor=ENGINE_ACTOR, action="envelope.opened", entity="tender",
                           entity_id=tender_id, payload={"bidder": bidder_id, "envelope": letter, "session": kind})
        for bid in uow.bids.current(tender_id):
            e = bids.get(bid.bidder_ref)
            if e is None:
                continue
            for letter, outcome in (("A", e.a), ("B", e.b), ("C", e.c)):
                env = uow.bids.envelope(bid.id, letter)
                if env is not None and outcome is not None:
                    env.outcome = outcome.status.value
                    env.reason = outcome.reason.value if outcome.reason else None
                    if outcome.status.value in ("accepted", "rejected") and env.opened_at is None:
                        env.opened_at = now
        tender = uow.tenders.get(tender_id)
        tender.status = f"{kind}_held"
        uow.commit()


# --- Article 13 minutes (R06, R09, R10) ----------------------------------------------------------
@dataclass
class MinutesResult:
    final: bool
    version: int
    signers: list[str]
    xml: bytes
    html: str
    award: dict[str, Any]  # as the minutes state it (domain.documents.minutes.award_of)


def draft_minutes(deps: Deps, tender_id: str, outcome: SessionOutcome) -> None:
    """Generate the minutes from the evaluation and keep them before anyone signs, so a restart
    signs these very bytes and never needs to open an envelope again."""
    view = load(deps, tender_id)
    with deps.uow() as uow:
        if uow.minutes.latest(tender_id, "article13") is not None:
            return
    participants = [mm for mm in view.members if mm.id in outcome.participants]
    estimate = ev.compute_estimate(view.spec, view.price_list, view.formulas["estimate"])
    doc = build_minutes(view.spec, estimate, outcome.evaluation, view.formulas.values(), participants,
                        deps.clock.now(), 1)
    _save_minutes(deps, tender_id, "article13", 1, doc, final=False, action="article13.generated")


def sign_minutes(deps: Deps, tender_id: str, participants_ids: list[str]) -> MinutesResult:
    """Every member taking part signs the stored minutes in the session (R10: no draft circulates,
    no signature inbox). Progress is kept after each signature: a restart never signs twice."""
    view = load(deps, tender_id)
    participants = [mm for mm in view.members if mm.id in participants_ids]
    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, "article13")
    if row is None:
        raise DomainError(Reason.WRONG_STAGE, "صورتجلسه هنوز تولید نشده است")
    if row.final:
        return _minutes_result(deps, view, row)
    from signing.xmldsig import signatures as existing_signatures

    doc = parse_untrusted(row.xml)
    signed_by = {s.signer_ref for s in existing_signatures(doc)} if doc.tag.endswith("SignedDocument") else set()
    for mem in participants:
        ref = f"{mem.role.value}@{view.spec.unit}"
        if ref in signed_by:
            continue
        doc = deps.signers.get(mem.national_id).sign(doc, deps.clock, mem.role.value, view.spec.unit)
        _save_minutes(deps, tender_id, "article13", row.version, doc, final=False)
        signed_by.add(ref)
        crash_point("article13.signed")
    checks = verify_document(etree.tostring(doc), trust_store(deps.ca_cert, deps.sessions), deps.role_check,
                             [(mm.role.value, view.spec.unit) for mm in participants])
    bad = next((c for c in checks if not c.valid), None)
    if bad is not None or len(checks) < len(participants):
        raise DomainError(bad.reason if bad else Reason.QUORUM_NOT_MET, "صورتجلسه نهایی نشد")
    with deps.uow() as uow:
        for c in checks:
            _signature_row(uow, "article13", tender_id, c)
        uow.commit()
    row = _save_minutes(deps, tender_id, "article13", row.version, doc, final=True)
    return _minutes_result(deps, view, row)


def _signature_row(uow: UnitOfWork, kind: str, doc_id: str, check) -> None:
    exists = uow.session.query(m.SignatureRow).filter_by(document_kind=kind, document_id=doc_id,
                                                         signer_national_id=check.national_id).one_or_none()
    if exists is None:
        uow.session.add(m.SignatureRow(document_kind=kind, document_id=doc_id, signer_national_id=check.national_id,
                                       role=check.role, cert_serial=str(check.cert_serial),
                                       signed_at=check.signing_time, reason=None))


def _save_minutes(deps: Deps, tender_id: str, kind: str, version: int, doc, final: bool,
                  action: str | None = None) -> m.Minutes:
    xml = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = uow.session.query(m.Minutes).filter_by(tender_id=tender_id, kind=kind, version=version).one_or_none()
        if row is not None and row.final:
            raise DomainError(Reason.MINUTES_FINAL)
        if row is None:
            row = uow.minutes.add(m.Minutes(tender_id=tender_id, kind=kind, version=version, xml=xml, final=final,
                                            created_at=now))
        else:
            row.xml, row.final = xml, final
        uow.record(at=now, actor=ENGINE_ACTOR, action=action or f"{kind}.{'final' if final else 'signed'}", entity="tender",
                   entity_id=tender_id, payload={"version": version,
                                                 "sha256": hashlib.sha256(xml).hexdigest()})
        if final and kind == "article13":
            uow.tenders.get(tender_id).status = "minutes_final"
        uow.commit()
        return row


def _minutes_result(deps: Deps, view: TenderView, row: m.Minutes) -> MinutesResult:
    from domain.documents.minutes import award_of
    from signing.xmldsig import signatures as sigs

    doc = parse_untrusted(row.xml)
    by_ref = {f"{mm.role.value}@{view.spec.unit}": mm.id for mm in view.members}
    signers = [by_ref.get(s.signer_ref, s.signer_ref) for s in sigs(doc)]
    return MinutesResult(row.final, row.version, signers, row.xml, render_html(signed_document_root(doc)),
                         award_of(signed_document_root(doc)))


# --- Article 18 notification (R11) and the contract signature ----------------------------------------
def final_minutes(deps: Deps, tender_id: str) -> tuple[bytes, dict[str, Any], list[str]]:
    """The final Article 13 minutes: signed XML, the award they state, and who signed them."""
    from domain.documents.minutes import award_of
    from signing.xmldsig import signatures as sigs

    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, "article13")
        if row is None or not row.final:
            raise DomainError(Reason.WRONG_STAGE, "صورتجلسهٔ ماده ۱۳ هنوز نهایی نشده است")
        xml = row.xml
    doc = parse_untrusted(xml)
    view = load(deps, tender_id)
    by_ref = {f"{mm.role.value}@{view.spec.unit}": mm.id for mm in view.members}
    return xml, award_of(signed_document_root(doc)), [by_ref.get(s.signer_ref, s.signer_ref) for s in sigs(doc)]


def notify_winner(deps: Deps, tender_id: str, bidder_id: str, version: int = 1) -> bytes:
    """The Article 18 notification, generated from the final minutes and e-signed by the chair."""
    kind = "article18" if version == 1 else f"article18-{version}"
    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, kind)
        if row is not None and row.final:
            return row.xml
    view = load(deps, tender_id)
    xml, award, signers = final_minutes(deps, tender_id)
    from domain.documents.minutes import MinutesVersions

    content = signed_document_root(parse_untrusted(xml))
    approved = MinutesVersions(["commission"], lambda v: content)
    approved.record_signature("commission", approved.version)
    notified_at = deps.clock.now()
    doc = build_notification(approved, notified_at, bidder_id=bidder_id, version=1)
    chair = _chair(view, signers)
    doc = deps.signers.get(chair.national_id).sign(doc, deps.clock, chair.role.value, view.spec.unit)
    checks = verify_document(etree.tostring(doc), trust_store(deps.ca_cert, deps.sessions), deps.role_check,
                             [(chair.role.value, view.spec.unit)])
    if not checks or not checks[0].valid:
        raise DomainError(checks[0].reason if checks else Reason.SIGNATURE_INVALID, "ابلاغ ماده ۱۸")
    with deps.uow() as uow:
        _signature_row(uow, kind, tender_id, checks[0])
        uow.commit()
    row = _save_minutes(deps, tender_id, kind, 1, doc, final=True)
    _notify(deps, bidder_id, "winner_notification",
            {"tender_title": view.spec.title, "amount_rial": award["prices"].get(bidder_id),
             "signing_deadline": format_jalali_date(ev.signing_deadline(view.spec, notified_at))},
            f"article18:{tender_id}:{bidder_id}")
    return row.xml


def _chair(view: TenderView, signers: list[str]) -> Member:
    """The chair signs; if the chair did not take part, the chair's alternate who did."""
    taking_part = set(signers)
    for mem in view.members:
        if mem.role.value == "chair" and mem.id in taking_part:
            return mem
    chair_ids = {mm.id for mm in view.members if mm.role.value == "chair"}
    for mem in view.members:
        if mem.alternate_for in chair_ids and mem.id in taking_part:
            return mem
    raise DomainError(Reason.QUORUM_NOT_MET, "رئیس کمیسیون یا جانشین او در جلسه نبود")


def _notify(deps: Deps, recipient: str, template: str, params: dict, dedup: str) -> None:
    if deps.notifier is None or recipient not in deps.contacts:
        return
    deps.notifier.notify(deps.contacts[recipient], recipient, template, params, dedup)
