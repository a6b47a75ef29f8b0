"""The commission's sittings (art. 18-19 of the transactions regulation; R08): rebuild each bid's key
from the parts the present members released at their own stations (services.tender.release), open
A, B and C in order through the domain's staged evaluation
(an excluded bid's later envelopes are never decrypted), and record what was opened."""
from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.documents.receipt import receipt_facts
from domain.documents.xmlcommon import utc_text
from domain.money import to_decimal
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.commission import Member, session_participants
from domain.tender.model import BidRecord, Letter, TenderSpec, effective_bids
from domain.tender.state import check_opening_time
from domain.xmlsafe import parse_untrusted
from sealing import content as sealed_content
from sealing.envelopes import BlobHeader, SealedBid, open_envelope
from sealing.opening_key import rebuild_private_key
from services import codec
from services.deps import Deps
from services.faults import crash_point
from services.ports import Attendance
from services.signers import SignerFacts, current_certificate, trust_store
from services.tender.release import bid_parts, close_sitting, released_members, released_parts, sealed_header
from services.tender.signer_facts import SittingSignerFacts
from services.tender.status import set_status
from services.tender.submission import (
    audited_receipts,
    check_bidder_signature,
    check_receipt_audited,
    receipt_time,
    signed_envelope_hash,
    verified_receipt,
)
from services.tender.view import ENGINE_ACTOR, TenderView, load
from signing.xmldsig import signed_document_root
from store import models as m


@dataclass
class SessionOutcome:
    """What a sitting found: who took part, the evaluation when prices are known, the two-stage
    technical result otherwise, and the bidders whose technical score the commission must give."""

    session_kind: str
    participants: list[str]
    evaluation: ev.TenderEvaluation | None
    technical: dict[str, ev.BidEvaluation] | None = None
    awaiting_scores: list[str] | None = None


def session_time(spec: TenderSpec, session: str) -> datetime:
    """When sitting `session` may open (aware UTC): "opening" at the opening time, "price_opening"
    (envelope C of a two-stage tender) at the price-opening time (R08).

    Raises: WRONG_STAGE when the tender has no separate price session."""
    when = spec.opening_at if session == "opening" else spec.price_opening_at
    if when is None:
        raise DomainError(Reason.WRONG_STAGE, f"مناقصهٔ «{spec.id}» جلسهٔ جداگانهٔ بازگشایی پاکت ج ندارد")
    return when


def participants_for(deps: Deps, view: TenderView, present: Iterable[str], at: datetime) -> list[Member]:
    """Present members whose certificate is valid and who hold their role at the session.

    Returns the members taking part (domain.tender.commission.session_participants). Raises nothing."""
    invalid = []
    trust = trust_store(deps.ca_cert, deps.sessions)  # revocation from the CA-signed CRL, as signatures are judged
    for mem in view.members:
        role = mem.role.value
        holds = deps.role_check(mem.national_id, role, view.spec.unit, at)
        if current_certificate(deps.sessions, mem.national_id, at, trust) is None or not holds:
            invalid.append(mem.id)
    session = session_participants(view.members, present, invalid)
    return list(session.participants)


def _bid_keys(deps: Deps, view: TenderView, session: str, participants: list[Member]):
    """The bids' keys for this sitting, rebuilt one by one from the parts the participants released at
    their stations (services.tender.release): `key_for(bidder_id, sealed)`. The released seats are
    checked first, so nothing is decrypted without the quorum and the security representative.

    Raises (at once): SECURITY_REP_ABSENT, QUORUM_NOT_MET, WRONG_STAGE (the sitting is not open),
    STORE_TAMPERED; (per bid, from key_for): ENVELOPE_TAMPERED when a bid's key cannot be rebuilt."""
    tender_id = view.spec.id
    taking_part = {p.id for p in participants}
    released = [mid for mid in released_members(deps, tender_id, session) if mid in taking_part]
    view.seats.check_released(released)
    parts = released_parts(deps, tender_id, session, released)
    cache: dict[str, Any] = {}

    def key_for(bidder_id: str, sealed: SealedBid):
        if bidder_id not in cache:
            if sealed.key_plan is None:
                raise DomainError(Reason.ENVELOPE_TAMPERED, "پیشنهاد طرح کلید بازگشایی ندارد")
            try:
                cache[bidder_id] = rebuild_private_key(sealed.key_plan, bid_parts(parts, tender_id, bidder_id))
            except DomainError as exc:  # the bidder's own dealing does not open: that bid alone is out
                raise DomainError(Reason.ENVELOPE_TAMPERED, f"کلید پیشنهاد «{bidder_id}» بازسازی نشد: {exc.detail}") \
                    from None
        return cache[bidder_id]

    return key_for


def accept_attendance(deps: Deps, view: TenderView, session: str, attendance: Attendance) -> list[str]:
    """The attendance the chair (or the chair's alternate) confirmed, audited with who answered
    (R08: only a confirmed attendance opens a session). Returns the member ids present.

    Raises (audited): QUORUM_NOT_MET when the attendance was not confirmed; NOT_AUTHORISED when
    whoever answered is not the commission's chair or the chair's alternate holding that role now."""
    now = deps.clock.now()
    chair_ids = {mm.id for mm in view.members if mm.role.value == "chair"}
    chairs = [mm for mm in view.members if mm.id in chair_ids or mm.alternate_for in chair_ids]
    who = next((mm for mm in chairs if mm.national_id == attendance.answered_by), None)
    error = None
    if who is None or not deps.role_check(who.national_id, who.role.value, view.spec.unit, now):
        error = DomainError(Reason.NOT_AUTHORISED, f"پاسخ‌دهندهٔ فرم حضور رئیس جلسه نیست: {attendance.answered_by}")
    elif not attendance.confirmed:
        error = DomainError(Reason.QUORUM_NOT_MET, "رئیس جلسه حضور اعضا را تأیید نکرد")
    with deps.uow() as uow:
        uow.record(at=now, actor=attendance.answered_by or "unknown", action="session.attendance", entity="tender",
                   entity_id=view.spec.id, reason=error.reason if error else None,
                   payload={"session": session, "present": sorted(attendance.present),
                            "confirmed": attendance.confirmed})
        uow.commit()
    if error is not None:
        raise error
    return list(attendance.present)


def _record_started(deps: Deps, tender_id: str, kind: str, present: Iterable[str],
                    participants: list[Member]) -> None:
    """Audited and committed before the first envelope is decrypted, so a process killed during
    decryption still leaves who opened what session when (R08 crash traces)."""
    with deps.uow() as uow:
        uow.record(at=deps.clock.now(), actor=ENGINE_ACTOR, action="session.started", entity="tender",
                   entity_id=tender_id, payload={"session": kind, "present": sorted(present),
                                                 "participants": [p.id for p in participants]})
        uow.commit()


def _records(deps: Deps, view: TenderView) -> tuple[list[BidRecord], dict[str, m.Bid], dict[int, Any]]:
    """The effective bids (domain.tender.model.effective_bids: the last on-time submission per
    bidder, art. 16), the stored row of each accepted one, and per accepted row its engine receipt as
    verified (or the refusal to raise when its envelopes are opened).

    What decides which bids count is checked against what was signed and audited, not the mutable
    columns: every submission the audit log recorded as received must be in the store, accepted,
    and no accepted row may lack that record (STORE_TAMPERED, the session does not open); the receipt
    time is the one the engine signed (R08)."""
    with deps.uow() as uow:
        rows = list(uow.bids.all_for(view.spec.id, sealed=False))  # the blobs are read envelope by envelope
    audited = audited_receipts(deps, view.spec.id)
    accepted = {(b.bidder_ref, b.seq): b for b in rows if b.refused_reason is None}
    missing = sorted(set(audited) - set(accepted))
    unknown = sorted(set(accepted) - set(audited))
    if missing or unknown:
        raise DomainError(Reason.STORE_TAMPERED, "پیشنهادهای ذخیره‌شده با رسیدهای ثبت‌شده در گزارش ممیزی نمی‌خوانند: "
                          + "، ".join(f"{b}#{n}" for b, n in missing + unknown))
    receipts: dict[int, Any] = {}
    submissions = []
    stated, facts = _receipt_facts(deps, rows)
    for b in rows:
        at = b.received_at
        if b.refused_reason is None:
            try:
                check_receipt_audited(b, audited)
                receipt = verified_receipt(deps, b.receipt_xml or b"", stated.get(b.id), facts=facts.get(b.id))
                tender, bidder, signed_at, _ = receipt_facts(receipt)
                if (tender, bidder) != (view.spec.id, b.bidder_ref):
                    raise DomainError(Reason.ENVELOPE_TAMPERED, f"رسید به پیشنهاد دیگری تعلق دارد: {bidder}")
                if utc_text(at) != signed_at:  # the column was changed: the signed time decides
                    at = receipt_time(receipt)
                receipts[b.id] = receipt
            except DomainError as exc:
                receipts[b.id] = exc
        submissions.append(BidRecord(bidder_id=b.bidder_ref, receipt_at=at,
                                     refused=Reason(b.refused_reason) if b.refused_reason else None))
    records = effective_bids(view.spec, submissions)
    by_time = {(r.bidder_id, r.receipt_at): b for r, b in zip(submissions, rows) if b.refused_reason is None}
    return records, {r.bidder_id: by_time[(r.bidder_id, r.receipt_at)] for r in records if r.refused is None}, receipts


def _receipt_facts(deps: Deps, rows: list[m.Bid]) -> tuple[dict[int, datetime], dict[int, SignerFacts | None]]:
    """Per accepted row whose receipt parses: the receipt time it states (what verified_receipt verifies
    it as of, when not told) and the signer facts for verifying it then, all read in one unit of work
    (services.tender.signer_facts). A receipt that does not parse is left out: verified_receipt
    refuses it, where it did. Raises: nothing."""
    known = SittingSignerFacts()
    stated: dict[int, datetime] = {}
    facts: dict[int, SignerFacts | None] = {}
    with deps.uow() as uow:
        for b in rows:
            if b.refused_reason is None and b.receipt_xml:
                try:
                    stated[b.id] = receipt_time(signed_document_root(parse_untrusted(b.receipt_xml)))
                except (DomainError, ValueError):  # raised by verified_receipt, where it was
                    continue
                facts[b.id] = known.facts(uow, b.receipt_xml, stated[b.id])
    return stated, facts


AHEAD_THREADS = 1  # background threads reading and checking the next envelopes (0: in the sitting's own)


@dataclass
class _Prepared:
    """What opening one envelope needs before its decryption, each step's result or its refusal, in
    the order the opener takes them: the bidder's signature (A only), the envelope read from the store,
    its hash as both signed documents state it."""

    signature: DomainError | None = None
    sealed: SealedBid | DomainError | None = None
    expected: str | DomainError | None = None


class _Ahead:
    """Reads the envelopes a sitting opens next, in the order it opens them (every A, then every B, then
    every C, in the order of the bids), `batch` bids at a time in one background thread and one unit
    of work, and checks each against the signed manifest and receipt (and, for A, the bidder's
    signature) while the sitting decrypts the ones before: reading a ciphertext and checking
    signatures and hashes decrypts nothing, so an excluded bid's later envelopes stay sealed (R08).
    Each bid's header is read once (the headers of all current bids in one query) and only the opened
    envelope's ciphertext is loaded."""

    def __init__(self, deps: Deps, rows: dict[str, m.Bid], receipts: dict[int, Any], batch: int = 8) -> None:
        self.deps, self.rows, self.receipts, self.batch = deps, rows, receipts, batch
        self.order = [b for b in rows if not isinstance(receipts.get(rows[b].id), DomainError)]
        self.position = {b: i for i, b in enumerate(self.order)}
        self.heads: dict[int, BlobHeader] = {}
        self.prefixes: dict[int, bytes] | None = None  # each bid's first bytes, until its header is parsed
        self.signer_facts = SittingSignerFacts()  # read batch by batch, kept for the sitting
        self.pending: dict[tuple[str, str], Future] = {}
        self.scheduled: dict[str, int] = {}  # letter -> position after the last bid scheduled
        self.pool: Any = (ThreadPoolExecutor(max_workers=AHEAD_THREADS, thread_name_prefix="sitting-ahead")
                          if AHEAD_THREADS else _Inline())

    def __enter__(self) -> _Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def get(self, bidder_id: str, letter: str) -> _Prepared:
        """What opening `letter` of `bidder_id` needs, prepared ahead (or now, out of order)."""
        key = (bidder_id, letter)
        if key not in self.pending:
            self._schedule(letter, self.position.get(bidder_id, 0), [bidder_id])
        future = self.pending.pop(key)
        at = self.position.get(bidder_id, 0)
        for skipped in [k for k in self.pending if k[1] == letter and self.position[k[0]] < at]:
            del self.pending[skipped]  # a bid the rules no longer open at this envelope: its ciphertext is let go
        if self.scheduled.get(letter, 0) < at + 1 + self.batch:  # keep the next batch in flight
            self._schedule(letter, self.scheduled.get(letter, at + 1), None)
        return future.result()[bidder_id]

    def _schedule(self, letter: str, start: int, only: list[str] | None) -> None:
        ids = only if only is not None else [b for b in self.order[start:start + self.batch]
                                             if (b, letter) not in self.pending]
        if only is None:
            self.scheduled[letter] = start + self.batch
        if ids:
            future = self.pool.submit(self._prepare, ids, letter)
            for b in ids:
                self.pending[(b, letter)] = future

    def _prepare(self, bidder_ids: list[str], letter: str) -> dict[str, _Prepared]:
        out = {b: _Prepared() for b in bidder_ids}
        facts: dict[str, SignerFacts | None] = {}
        with self.deps.uow() as uow:
            if letter == Letter.A.value:  # the signers' registry roles and CRLs, in the reads' unit of work
                uow.bids.companies_of(self.rows[b].id for b in bidder_ids)  # the batch's companies, one query
                for b in bidder_ids:
                    row = self.rows[b]
                    at = _catch(lambda row=row: receipt_time(self.receipts[row.id]))  # raised by _signature
                    facts[b] = None if isinstance(at, DomainError) else self.signer_facts.facts(uow, row.manifest_xml, at)
            for b, read in self._read_batch(uow, bidder_ids, letter).items():
                out[b].sealed = read
        if letter == Letter.A.value:
            for b in bidder_ids:
                out[b].signature = _catch(lambda b=b: self._signature(b, facts[b]))
        for b in bidder_ids:
            sealed = out[b].sealed
            if isinstance(sealed, SealedBid):
                row = self.rows[b]
                out[b].expected = _catch(lambda row=row, sealed=sealed: signed_envelope_hash(
                    row, self.receipts[row.id], sealed, letter))
        return out

    def _signature(self, bidder_id: str, facts: SignerFacts | None) -> None:
        # The bidder's signature is checked again at opening, against the stored manifest, and must
        # be the one the engine's receipt recorded (a manifest re-signed later is not the bid).
        row = self.rows[bidder_id]
        receipt = self.receipts[row.id]
        serial = check_bidder_signature(self.deps, row.manifest_xml, row.company_id, receipt_time(receipt),
                                        facts=facts)
        if receipt_facts(receipt)[3] != serial:
            raise DomainError(Reason.BIDDER_SIGNATURE_INVALID, "امضاکنندهٔ فهرست با رسید سامانه یکی نیست")

    def _read_batch(self, uow: Any, bidder_ids: list[str], letter: str) -> dict[str, SealedBid | DomainError]:
        """Each bid's sealed blob with envelope `letter`'s ciphertext only (the batch's ciphertexts in one
        query), or its refusal: INVALID_INPUT (the stored blob is malformed, or longer or shorter than
        its header says, as SealedBid.from_bytes)."""
        heads = {b: _catch(lambda b=b: self._head(uow, self.rows[b])) for b in bidder_ids}
        spans: dict[int, list[tuple[int, int]]] = {}
        for b, head in heads.items():
            if isinstance(head, BlobHeader):
                span = head.span(letter)
                spans[self.rows[b].id] = [span] if span is not None else []
        read = uow.bids.sealed_slices_many(spans) if spans else {}
        out: dict[str, SealedBid | DomainError] = {}
        for b, head in heads.items():
            if isinstance(head, DomainError):
                out[b] = head
                continue
            length, parts = read[self.rows[b].id]
            out[b] = _catch(lambda head=head, length=length, parts=parts: self._sealed(head, letter, length, parts))
        return out

    def _head(self, uow: Any, row: m.Bid) -> BlobHeader:
        """Bid `row`'s parsed header, read once per sitting (every current bid's in one query).

        Raises: INVALID_INPUT (a malformed header)."""
        head = self.heads.get(row.id)
        if head is None:
            if self.prefixes is None:  # every current bid's header in one query (on SQLite, one blob read each)
                self.prefixes = {bid_id: prefix for bid_id, _, _, prefix
                                 in uow.bids.current_prefixes(row.tender_id, BlobHeader.PREFIX)}
            prefix = self.prefixes.pop(row.id, None)
            if prefix is None or BlobHeader.length_from_prefix(prefix) > len(prefix):  # as sealed_header reads it
                prefix = sealed_header(uow, row.id)
            head = self.heads[row.id] = BlobHeader.parse(prefix)
        return head

    @staticmethod
    def _sealed(head: BlobHeader, letter: str, length: int, parts: list[bytes]) -> SealedBid:
        if length != head.length:
            raise DomainError(Reason.INVALID_INPUT, "طول پروندهٔ پیشنهاد مهروموم‌شده با سرآیند آن نمی‌خواند")
        return head.sealed_bid({letter: parts[0]} if parts else {})


class _Inline:
    """An executor that runs each job at once, in the caller's thread (AHEAD_THREADS = 0)."""

    def submit(self, fn: Any, *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # delivered by result(), as a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, **_: Any) -> None:
        pass


def _catch(step: Any) -> Any:
    """step()'s result, or the DomainError it raised (raised again when the opener reaches that step)."""
    try:
        return step()
    except DomainError as exc:
        return exc


def _opener(deps: Deps, view: TenderView, rows: dict[str, m.Bid], receipts: dict[int, Any], key_for,
            ahead: _Ahead, technical_scores=None):
    opened: list[tuple[str, str]] = []

    def opener(bidder_id: str, letter: Letter):
        row = rows[bidder_id]
        receipt = receipts[row.id]
        if isinstance(receipt, DomainError):
            raise receipt
        ready = ahead.get(bidder_id, letter.value)
        for step in (ready.signature, ready.sealed, ready.expected):
            if isinstance(step, DomainError):
                raise step
        sealed, expected = ready.sealed, ready.expected
        assert isinstance(sealed, SealedBid) and isinstance(expected, str)
        # signed_envelope_hash (ahead) hashed this very ciphertext and found `expected`: not hashed again.
        plain = open_envelope(sealed, letter.value, key_for(bidder_id, sealed), expected, tender_id=view.spec.id,
                              bidder_id=bidder_id, ciphertext_sha256=expected)
        opened.append((bidder_id, letter.value))
        crash_point("envelope.decrypted")
        content = codec.to_domain(letter.value, sealed_content.decode_envelope(letter.value, plain,
                                                                               deps.policy.content_limits()))
        if letter == Letter.B and technical_scores is not None:
            content = replace(content, technical_score=technical_scores.get(bidder_id))
        return content

    return opener, opened


def opening_session(deps: Deps, tender_id: str, present: Iterable[str],
                    technical_scores: dict[str, int] | None = None) -> SessionOutcome:
    """The (first) opening session: A, B and, in a one-stage tender, C; then evaluation (R08).

    `present`: member ids the chair confirmed present. Two-stage tenders need the commission's
    technical scores of envelope B (0-100 per bidder): without them (and none recorded) nothing is
    recorded and the outcome lists the bidders awaiting a score (`awaiting_scores`); the caller asks
    the commission and calls again with `technical_scores`.

    Raises: STORE_TAMPERED (the tender's data differs from what was announced, or the bid set from
    what was receipted), OPENING_TOO_EARLY, QUORUM_NOT_MET, SECURITY_REP_ABSENT, TOKEN_NOT_FOUND, TOKEN_PIN_INVALID."""
    view = load(deps, tender_id)
    now = deps.clock.now()
    check_opening_time(now, view.spec.opening_at)
    kind = "opening"
    stored = stored_session(deps, tender_id, kind)
    participants = participants_for(deps, view, stored.present if stored else present, now)
    _record_started(deps, tender_id, kind, present, participants)
    key_for = _bid_keys(deps, view, kind, participants)
    records, rows, receipts = _records(deps, view)
    rules = deps.policy.price_rules(view.formulas["abnormally-low"])
    estimate = ev.compute_estimate(view.spec, view.price_list, view.formulas["estimate"]).total_rial
    if view.spec.procedure.value == "one_stage":
        with _Ahead(deps, rows, receipts) as ahead:
            opener, opened = _opener(deps, view, rows, receipts, key_for, ahead)
            evaluation = ev.evaluate_tender(view.spec, estimate, records, rules, opener=opener)
        _record_session(deps, tender_id, kind, now, present, participants, opened, evaluation.bids, None)
        close_sitting(deps, tender_id, kind)
        return SessionOutcome(kind, [p.id for p in participants], evaluation)
    # Two-stage: A and B now; the commission scores B; C waits for the price session.
    scores = stored.technical_scores if stored and stored.technical_scores is not None else technical_scores
    evs = _two_stage_technical(deps, view, records, rows, receipts, key_for, scores)
    if evs["scores"] is None:
        return SessionOutcome(kind, [p.id for p in participants], None, evs["bids"], awaiting_scores=evs["qualified"])
    _record_session(deps, tender_id, kind, now, present, participants, evs["opened"], evs["bids"],
                    evs["scores"])
    close_sitting(deps, tender_id, kind)
    return SessionOutcome(kind, [p.id for p in participants], None, evs["bids"])


def _two_stage_technical(deps: Deps, view: TenderView, records: list[BidRecord], rows: dict[str, m.Bid],
                         receipts: dict[int, Any], key_for: Any, scores: dict[str, int] | None) -> dict[str, Any]:
    with _Ahead(deps, rows, receipts) as ahead:
        return _two_stage_opened(view, records, scores, _opener(deps, view, rows, receipts, key_for, ahead))


def _two_stage_opened(view: TenderView, records: list[BidRecord], scores: dict[str, int] | None,
                      opening: Any) -> dict[str, Any]:
    opened_all: list[tuple[str, str]] = []
    opener, opened = opening
    evs: dict[str, ev.BidEvaluation] = {}
    loaded: dict[str, BidRecord] = {}
    for rec in records:
        if ev.evaluate_submission(view.spec, rec).accepted:
            try:
                rec = replace(rec, a=opener(rec.bidder_id, Letter.A))
            except DomainError as exc:
                rec = ev.excluded(rec, Letter.A, exc)
        evs[rec.bidder_id] = ev.open_a(view.spec, rec)
        loaded[rec.bidder_id] = rec
    for bid_id, e in list(evs.items()):
        if ev.wants(e, Letter.B):
            try:
                loaded[bid_id] = replace(loaded[bid_id], b=opener(bid_id, Letter.B))
            except DomainError as exc:
                loaded[bid_id] = ev.excluded(loaded[bid_id], Letter.B, exc)
            evs[bid_id] = ev.open_b(view.spec, loaded[bid_id], e, ev.BStage.QUALIFICATION)
    qualified = [b for b, e in evs.items() if ev.wants(e, Letter.B) or (e.b is not None and e.b.accepted
                                                                         and not e.b_complete)]
    if scores is None:
        return {"bids": evs, "opened": opened, "scores": None, "qualified": sorted(qualified)}
    for bid_id in qualified:
        rec = loaded[bid_id]
        if rec.b is None:
            raise DomainError(Reason.WRONG_STAGE, f"پاکت ب پیشنهاد {bid_id} رمزگشایی نشده است")
        score = scores.get(bid_id)
        rec = replace(rec, b=replace(rec.b, technical_score=to_decimal(score) if score is not None else None))
        evs[bid_id] = ev.open_b(view.spec, rec, evs[bid_id], ev.BStage.TECHNICAL)
    opened_all.extend(opened)
    return {"bids": evs, "opened": opened_all, "scores": scores, "qualified": sorted(qualified)}


def price_session(deps: Deps, tender_id: str, present: Iterable[str]) -> SessionOutcome:
    """Two-stage: the later session that opens C only for bids at or above the technical minimum.

    Raises: STORE_TAMPERED (stored tender data or bid set changed), OPENING_TOO_EARLY, WRONG_STAGE (not a two-stage tender, technical session not held),
    QUORUM_NOT_MET, SECURITY_REP_ABSENT, TOKEN_NOT_FOUND, TOKEN_PIN_INVALID."""
    view = load(deps, tender_id)
    now = deps.clock.now()
    check_opening_time(now, session_time(view.spec, "price_opening"))
    technical = stored_session(deps, tender_id, "opening")
    if technical is None:
        raise DomainError(Reason.WRONG_STAGE, "جلسهٔ ارزیابی فنی هنوز برگزار نشده است")
    stored = stored_session(deps, tender_id, "price_opening")
    participants = participants_for(deps, view, stored.present if stored else present, now)
    _record_started(deps, tender_id, "price_opening", present, participants)
    key_for = _bid_keys(deps, view, "price_opening", participants)
    records, rows, receipts = _records(deps, view)
    scores = technical.technical_scores
    estimate = ev.compute_estimate(view.spec, view.price_list, view.formulas["estimate"]).total_rial
    with _Ahead(deps, rows, receipts) as ahead:
        opener, opened = _opener(deps, view, rows, receipts, key_for, ahead, technical_scores=scores)
        # Replaying A and B with the recorded scores is deterministic; C is read only for qualified bids.
        evaluation = ev.evaluate_tender(view.spec, estimate, records,
                                        deps.policy.price_rules(view.formulas["abnormally-low"]), opener=opener)
    _record_session(deps, tender_id, "price_opening", now, present, participants,
                    [o for o in opened if o[1] == "C"], evaluation.bids, None)
    close_sitting(deps, tender_id, "price_opening")
    return SessionOutcome("price_opening", [p.id for p in participants], evaluation)


@dataclass(frozen=True)
class HeldSession:
    """A sitting as recorded: member ids present and taking part, and the technical scores of B
    (two-stage opening session; None otherwise)."""

    present: list[str]
    participants: list[str]
    technical_scores: dict[str, int] | None


def stored_session(deps: Deps, tender_id: str, kind: str) -> HeldSession | None:
    """The sitting `kind` (opening | price_opening) as recorded, or None when it has not been held."""
    with deps.uow() as uow:
        row = uow.sessions_held.get(tender_id, kind)
    if row is None:
        return None
    data = json.loads(row.attendees_json)
    return HeldSession(list(data["present"]), list(data["participants"]), data.get("technical_scores"))


def _record_session(deps, tender_id, kind, now, present, participants, opened, bids, scores) -> None:
    with deps.uow() as uow:
        if uow.sessions_held.get(tender_id, kind) is None:
            uow.sessions_held.add(m.Session(tender_id=tender_id, kind=kind, held_at=now, attendees_json=codec.dumps(
                {"present": sorted(present), "participants": [p.id for p in participants],
                 "technical_scores": scores})))
            # One audit entry per envelope opened, appended as one write (same chain as one by one).
            uow.audit.append_many([dict(at=now, actor=ENGINE_ACTOR, action="envelope.opened", entity="tender",
                                        entity_id=tender_id,
                                        payload={"bidder": bidder_id, "envelope": letter, "session": kind})
                                   for bidder_id, letter in opened])
        # Each envelope's outcome, in one statement; opened_at set once (the first sitting that opened it).
        outcomes = []
        for bid in uow.bids.current(tender_id, sealed=False):
            e = bids.get(bid.bidder_ref)
            if e is None:
                continue
            for letter, outcome in (("A", e.a), ("B", e.b), ("C", e.c)):
                if outcome is not None:
                    status = outcome.status.value
                    outcomes.append((bid.id, letter, status, outcome.reason.value if outcome.reason else None,
                                     now if status in ("accepted", "rejected") else None))
        uow.bids.set_outcomes(outcomes)
        set_status(uow, tender_id, f"{kind}_held", None, now, record=False)
        uow.commit()

