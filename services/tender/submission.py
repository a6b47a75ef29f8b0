"""Receiving sealed bids: the bidder's tool seals and signs; the engine checks the deadline, the
signature and the manifest, stores ciphertext only, supersedes an earlier bid and signs a receipt
(R05, R07, R08)."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from lxml import etree
from sqlalchemy import Row, or_, select

from domain.documents.receipt import build_receipt, check_envelope, receipt_facts, receipt_hashes
from domain.limits import check_size
from domain.persian import format_jalali_datetime
from domain.reasons import DomainError, Reason
from domain.tender.state import check_submission_time
from domain.xmlsafe import parse_untrusted
from sealing.envelopes import SealedBid, bid_key_id, check_manifest, manifest_hashes
from services.checkpoints import checkpoint, store_turn
from services.contract.blacklist import check_contractor_not_blacklisted
from services.deps import Deps
from services.notify import notify
from services.signers import COMPANY_SIGNATORY, ENGINE_ROLE, ENGINE_UNIT, SignerFacts, read_signer_facts, trust_store
from services.tender.view import BidTerms, load_bid_terms
from signing.verify import verify_document
from signing.xmldsig import signed_document_root
from store import audit, models as m
from store.uow import UnitOfWork


@dataclass(frozen=True)
class SubmissionResult:
    """The engine's answer to a submission: accepted or the refusal's reason code, the signed receipt
    (XML bytes) and the submission's sequence number for that bidder."""

    accepted: bool
    reason: Reason | None
    receipt_xml: bytes | None
    seq: int | None


# Optimistic rounds before the last resort of judging and writing in one transaction (see submit_bid).
_OPTIMISTIC_ROUNDS = 3


@dataclass(frozen=True)
class _BidderState:
    """What the store holds about a bidder reference and its company in a tender, read in one unit of
    work with the signer's registry facts: enough to judge a submission outside any transaction."""

    owner: str | None
    refs: frozenset[str]
    latest_seq: int | None  # the bidder reference's latest submission, accepted or refused
    latest_accepted: m.Bid | None  # that submission when it was accepted (an identical one gets its receipt)
    superseded_seqs: tuple[int, ...]  # current accepted submissions a new bid supersedes
    facts: SignerFacts | None

    @classmethod
    def read(cls, uow: UnitOfWork, tender_id: str, bidder_ref: str, company_id: str,
             manifest_doc: etree._Element | None, at: datetime) -> _BidderState:
        rows = _bid_rows(uow, tender_id, bidder_ref, company_id)
        mine = [r for r in rows if r.bidder_ref == bidder_ref]  # in seq order
        accepted = [r for r in mine if r.refused_reason is None]
        # The blobs only of an accepted latest submission, which an identical resubmission compares with.
        latest = uow.bids.latest(tender_id, bidder_ref) if mine and mine[-1].refused_reason is None else None
        return cls(owner=accepted[0].company_id if accepted else None,  # as BidRepository.owner
                   refs=_refs(rows, company_id),
                   latest_seq=mine[-1].seq if mine else None,
                   latest_accepted=latest,
                   superseded_seqs=tuple(r.seq for r in accepted if not r.superseded),
                   facts=read_signer_facts(uow, manifest_doc, at) if manifest_doc is not None else None)

    def unchanged_in(self, uow: UnitOfWork, tender_id: str, bidder_ref: str, company_id: str) -> bool:
        """No submission under this reference, and no other accepted reference of the company, was
        written since this state was read."""
        rows = _bid_rows(uow, tender_id, bidder_ref, company_id)
        seqs = [r.seq for r in rows if r.bidder_ref == bidder_ref]
        return (seqs[-1] if seqs else None) == self.latest_seq and _refs(rows, company_id) == self.refs


def _bid_rows(uow: UnitOfWork, tender_id: str, bidder_ref: str, company_id: str) -> Sequence[Row[Any]]:
    """The submissions (no blobs) under `bidder_ref` or of `company_id` in the tender, by reference and
    seq: one read for what BidRepository.owner, .refs_of_company, .latest and .current_of answer."""
    return uow.session.execute(
        select(m.Bid.bidder_ref, m.Bid.seq, m.Bid.company_id, m.Bid.refused_reason, m.Bid.superseded)
        .where(m.Bid.tender_id == tender_id, or_(m.Bid.bidder_ref == bidder_ref, m.Bid.company_id == company_id))
        .order_by(m.Bid.bidder_ref, m.Bid.seq)).all()


def _refs(rows: Sequence[Row[Any]], company_id: str) -> frozenset[str]:
    """As BidRepository.refs_of_company: the references of the company's accepted bids."""
    return frozenset(r.bidder_ref for r in rows if r.company_id == company_id and r.refused_reason is None)


@dataclass(frozen=True)
class _NewReceipt:
    seq: int
    supersedes: str | None
    receipt_bytes: bytes
    superseded: tuple[int, ...] = ()  # the bidder's current accepted submissions this one supersedes


def submit_bid(deps: Deps, tender_id: str, bidder_ref: str, company_id: str, sealed: SealedBid,
               signed_manifest: bytes) -> SubmissionResult:
    """Receive a sealed bid and the bidder's signed manifest (R07, R08; art. 16 of the Tender Law).

    The deadline is judged at the engine's receipt time; the manifest's signature must be the company's
    registered signatory's; the envelopes must match the manifest, and the bid's own key plan the seats
    of the notice (issue 12). A
    refusal is stored and audited and returned (never raised): LATE_SUBMISSION, INVALID_INPUT (larger than
    the policy's max_bid_bytes), MALFORMED_XML,
    BIDDER_SIGNATURE_INVALID, BID_NOT_OWNED, BLACKLISTED (R25), ENVELOPE_TAMPERED. The same bid sent again gets the same receipt; a new
    bid of the same bidder supersedes the earlier one.

    Transactions (SQLite has one writer, and every unit of work takes its lock): everything the checks
    need (the tender, the bidder's earlier submissions, the signer's role and recorded CRLs) is read in
    one unit of work; the checks and the receipt's signature run outside any; the write re-reads the
    bidder's latest submission and the company's accepted references and starts over if another
    submission changed them meanwhile, so two submissions never both judge against the same state.
    After a few such rounds the submission is judged and written in one transaction.

    Raises: INVALID_INPUT (unknown tender), STORE_TAMPERED (load_bid_terms), TOKEN_NOT_FOUND,
    TOKEN_PIN_INVALID (the engine's token), AUDIT_APPEND_ONLY (the receipt's checkpoint)."""
    now = deps.clock.now()
    sealed_bytes = sealed.to_bytes()
    parse_error: DomainError | None = None
    manifest_doc: etree._Element | None = None
    try:
        manifest_doc = parse_untrusted(signed_manifest)
    except DomainError as exc:  # judged in its turn, after the deadline and the size
        parse_error = exc
    for round_no in range(_OPTIMISTIC_ROUNDS + 1):
        if round_no == _OPTIMISTIC_ROUNDS:  # last resort: judge, sign and write in one transaction
            with store_turn(deps), deps.uow() as uow:
                view = load_bid_terms(deps, tender_id, uow)
                state = _BidderState.read(uow, tender_id, bidder_ref, company_id, manifest_doc, now)
                outcome = _judge(deps, view, state, now, tender_id, bidder_ref, company_id, sealed, sealed_bytes,
                                 signed_manifest, manifest_doc, parse_error)
                if isinstance(outcome, _NewReceipt):
                    entry_seq = _write(uow, outcome, now, tender_id, bidder_ref, company_id, sealed, sealed_bytes,
                                       signed_manifest)
                    uow.commit()
            break
        with store_turn(deps), deps.uow() as uow:
            view = load_bid_terms(deps, tender_id, uow)
            state = _BidderState.read(uow, tender_id, bidder_ref, company_id, manifest_doc, now)
        outcome = _judge(deps, view, state, now, tender_id, bidder_ref, company_id, sealed, sealed_bytes,
                         signed_manifest, manifest_doc, parse_error)
        if not isinstance(outcome, _NewReceipt):
            break
        with store_turn(deps), deps.uow() as uow:
            if not state.unchanged_in(uow, tender_id, bidder_ref, company_id):
                continue  # another submission under this reference or company came first: judge again
            entry_seq = _write(uow, outcome, now, tender_id, bidder_ref, company_id, sealed, sealed_bytes,
                               signed_manifest)
            uow.commit()
        break
    if isinstance(outcome, DomainError):
        _record_refused_submission(deps, tender_id, bidder_ref, company_id, now, outcome)
        return SubmissionResult(False, outcome.reason, None, None)
    if isinstance(outcome, SubmissionResult):
        return outcome  # the same bid again: the same receipt
    seq = outcome.seq
    # R21: a signed, published head at or after this receipt's entry before the receipt goes out (one
    # signature covers the receipts of a burst that were written meanwhile: services.checkpoints).
    checkpoint(deps, f"receipt:{tender_id}/{bidder_ref}/{seq}", covering=entry_seq)
    notify(deps, bidder_ref, "bid_receipt", {"tender_title": view.spec.title,
                                             "received_at": format_jalali_datetime(now),
                                             "receipt_id": f"{tender_id}/{bidder_ref}/{seq}"},
           f"receipt:{tender_id}:{bidder_ref}:{seq}", company_id=company_id)
    return SubmissionResult(True, None, outcome.receipt_bytes, seq)


def _judge(deps: Deps, view: BidTerms, state: _BidderState, now: datetime, tender_id: str, bidder_ref: str,
           company_id: str, sealed: SealedBid, sealed_bytes: bytes, signed_manifest: bytes,
           manifest_doc: etree._Element | None, parse_error: DomainError | None,
           ) -> DomainError | SubmissionResult | _NewReceipt:
    """The checks in their order (the first failure is the refusal), then the same receipt for the same
    bid, or a new receipt signed on the engine's token."""
    try:
        check_submission_time(now, view.spec.deadline)
        check_size(len(sealed_bytes) + len(signed_manifest), deps.policy.content_limits().max_bid_bytes,
                   "پیشنهاد")  # R08: a bid larger than the policy's cap is refused before any other work
        if parse_error is not None:
            raise parse_error
        assert manifest_doc is not None
        signer_serial = check_bidder_signature(deps, signed_manifest, company_id, now, facts=state.facts)
        _check_owner_rule(state.owner, state.refs, bidder_ref, company_id)
        # R25: the company (authenticated by its signatory just above) may not be on the blacklist today.
        check_contractor_not_blacklisted(deps, company_id, now, f"ارسال پیشنهاد {bidder_ref}")
        manifest = signed_document_root(manifest_doc)
        check_manifest(sealed, manifest)
        if sealed.tender_id != tender_id or sealed.bidder_id != bidder_ref:
            raise DomainError(Reason.ENVELOPE_TAMPERED, "پیشنهاد برای مناقصه یا پیشنهاددهندهٔ دیگری مهر شده است")
        if sealed.key_plan is None:
            raise DomainError(Reason.INVALID_INPUT, "پیشنهاد طرح کلید بازگشایی خود را ندارد")
        # The bidder dealt its bid's key: it must follow the seats the notice states (issue 12).
        view.seats.check_plan(sealed.key_plan, bid_key_id(tender_id, bidder_ref))
    except DomainError as exc:
        return exc
    latest = state.latest_accepted
    if latest is not None and latest.seq == state.latest_seq \
            and hashlib.sha256(latest.manifest_xml).hexdigest() == hashlib.sha256(signed_manifest).hexdigest():
        return SubmissionResult(True, None, latest.receipt_xml, latest.seq)  # same bid again: same receipt
    seq = (state.latest_seq + 1) if state.latest_seq is not None else 1
    supersedes = f"{tender_id}/{bidder_ref}/{state.superseded_seqs[-1]}" if state.superseded_seqs else None
    receipt = build_receipt(tender_id, bidder_ref, now, sealed.hashes(), receipt_id=f"{tender_id}/{bidder_ref}/{seq}",
                            supersedes=supersedes, manifest_signer_serial=signer_serial)
    signed_receipt = deps.engine().sign(receipt, deps.clock, ENGINE_ROLE, ENGINE_UNIT)
    return _NewReceipt(seq, supersedes, etree.tostring(signed_receipt, xml_declaration=True, encoding="UTF-8"),
                       state.superseded_seqs)


def _write(uow: UnitOfWork, new: _NewReceipt, now: datetime, tender_id: str, bidder_ref: str, company_id: str,
           sealed: SealedBid, sealed_bytes: bytes, signed_manifest: bytes) -> int:
    """Store the accepted bid, supersede the bidder's current ones and audit the receipt; returns the
    audit entry's seq (what the receipt's checkpoint must cover). `new.superseded`: the bidder's current
    accepted submissions as read in this transaction, or in an earlier one whose state `unchanged_in`
    confirmed in this one (any submission under the reference changes its latest seq)."""
    uow.bids.supersede(tender_id, bidder_ref, new.superseded)  # a refused attempt supersedes nothing
    uow.bids.add(m.Bid(tender_id=tender_id, bidder_ref=bidder_ref, company_id=company_id, seq=new.seq,
                       received_at=now, sealed=sealed_bytes, manifest_xml=signed_manifest,
                       receipt_xml=new.receipt_bytes), sealed.hashes())
    # As uow.record, keeping the entry: its seq is what the receipt's checkpoint must cover.
    entry = audit.append(uow.session, at=now, actor=bidder_ref, action="bid.received", entity="tender",
                         entity_id=tender_id,
                         payload={"bidder": bidder_ref, "seq": new.seq, "hashes": sealed.hashes(),
                                  "supersedes": new.supersedes,
                                  "receipt_sha256": hashlib.sha256(new.receipt_bytes).hexdigest()})
    return int(entry.seq)


def check_owner(deps: Deps, tender_id: str, bidder_ref: str, company_id: str) -> None:
    """A bid belongs to the company whose signatory signed it: only that company may replace it,
    and a company has one bid in a tender ("Stations and trust"; art. 16 of the Tender Law).

    Raises: BID_NOT_OWNED when an accepted bid under `bidder_ref` belongs to another company;
    DUPLICATE_BID when the company already has an accepted bid under another reference."""
    with deps.uow() as uow:
        owner = uow.bids.owner(tender_id, bidder_ref)
        refs = set(uow.bids.refs_of_company(tender_id, company_id))
    _check_owner_rule(owner, refs, bidder_ref, company_id)


def _check_owner_rule(owner: str | None, refs: Set[str], bidder_ref: str, company_id: str) -> None:
    if owner is not None and owner != company_id:
        raise DomainError(Reason.BID_NOT_OWNED, f"پیشنهاددهندهٔ «{bidder_ref}»")
    if refs - {bidder_ref}:
        raise DomainError(Reason.DUPLICATE_BID, f"این شرکت با شناسهٔ «{sorted(refs)[0]}» پیشنهاد داده است")


def check_bidder_signature(deps: Deps, signed: bytes, company_id: str, received_at: datetime, *,
                           facts: SignerFacts | None = None) -> int:
    """Verify a document signed by a company's signatory: chain, and validity, CRL revocation and role
    at `received_at`, when the engine received it (at submission the clock's now, at opening the bid's
    stored receipt time), with the claimed signing time within the policy's skew of it (R05, R07).
    `facts`: the signer's registry role and recorded CRLs as read_signer_facts read them at
    `received_at` in the caller's unit of work (else they are read now, each in its own).

    Returns the serial of the signer's certificate (the engine's receipt records it).
    Raises: BIDDER_SIGNATURE_INVALID (the detail names the signing reason code, e.g. SIGNING_TIME_SKEW)."""
    if facts is not None:
        trust, roles = facts.trust(deps.ca_cert, deps.sessions), facts.role_check(deps.sessions)
    else:
        trust, roles = trust_store(deps.ca_cert, deps.sessions), deps.role_check
    checks = verify_document(signed, trust, roles, [(COMPANY_SIGNATORY, company_id)], received_at=received_at,
                             max_skew=deps.policy.signing_time_skew())
    failed = next((c.reason for c in checks if c.reason is not None), None)
    if len(checks) != 1 or failed is not None or checks[0].cert_serial is None:
        raise DomainError(Reason.BIDDER_SIGNATURE_INVALID, failed.value if failed else "یک امضای معتبر لازم است")
    return checks[0].cert_serial


def _record_refused_submission(deps: Deps, tender_id: str, bidder_ref: str, company_id: str, now: datetime,
                               exc: DomainError) -> None:
    with store_turn(deps), deps.uow() as uow:
        latest = uow.bids.latest(tender_id, bidder_ref)
        seq = (latest.seq + 1) if latest else 1
        uow.bids.add(m.Bid(tender_id=tender_id, bidder_ref=bidder_ref, company_id=company_id, seq=seq,
                           received_at=now, sealed=b"", manifest_xml=b"", superseded=False,
                           refused_reason=exc.reason.value), {})
        uow.record(at=now, actor=bidder_ref, action="bid.refused", entity="tender", entity_id=tender_id,
                   reason=exc.reason, payload={"bidder": bidder_ref, "detail": exc.detail})
        uow.commit()



def verified_receipt(deps: Deps, receipt_xml: bytes, received_at: datetime | None = None, *,
                     facts: SignerFacts | None = None) -> etree._Element:
    """The engine's signed receipt, after verifying the transactions system's signature on it as of
    `received_at`, or (None) as of the receipt time the receipt itself states: the signature covers
    it, so a changed `bids.received_at` column cannot make a genuine receipt fail (the engine signs
    the receipt when it receives the bid). `facts`: the registry role and the recorded CRLs of its
    signer as the caller read them for that time in its own unit of work (a sitting reads every
    receipt's in one: services.tender.signer_facts); else they are read now, each in its own.

    Raises: ENVELOPE_TAMPERED when the stored receipt is missing, altered or not signed by the
    transactions system (R08: what the store holds is verified before it feeds a decision)."""
    if not receipt_xml:
        raise DomainError(Reason.ENVELOPE_TAMPERED, "رسید پیشنهاد در سامانه نیست")
    if received_at is None:
        received_at = receipt_time(signed_document_root(parse_untrusted(receipt_xml)))
    if facts is not None:
        trust, roles = facts.trust(deps.ca_cert, deps.sessions), facts.role_check(deps.sessions)
    else:
        trust, roles = trust_store(deps.ca_cert, deps.sessions), deps.role_check
    checks = verify_document(receipt_xml, trust, roles, [(ENGINE_ROLE, ENGINE_UNIT)], received_at=received_at,
                             max_skew=deps.policy.signing_time_skew())
    failed = next((c.reason for c in checks if c.reason is not None), None)
    if len(checks) != 1 or failed is not None:
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"امضای رسید نامعتبر است ({failed.value if failed else '—'})")
    # The engine knows its own certificate: a role granted in the registry does not make a receipt.
    if checks[0].cert_serial != deps.engine().cert.serial_number:
        raise DomainError(Reason.ENVELOPE_TAMPERED, "رسید را سامانهٔ معاملات امضا نکرده است")
    return signed_document_root(parse_untrusted(receipt_xml))


def receipt_time(receipt: etree._Element) -> datetime:
    """The receipt time (UTC) a receipt states. Raises: MALFORMED_XML when it is not a receipt."""
    return datetime.strptime(receipt_facts(receipt)[2], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def audited_receipts(deps: Deps, tender_id: str) -> dict[tuple[str, int], str]:
    """SHA-256 of every receipt the engine issued for the tender, as the audit log recorded it when
    the bid was received: (bidder ref, seq) -> hex digest (one read for a whole opening)."""
    out: dict[tuple[str, int], str] = {}
    with deps.uow() as uow:
        for payload in uow.audit.payloads("bid.received", tender_id):
            key = (str(payload.get("bidder")), int(payload.get("seq") or 0))
            # The first entry for a submission is the one written at receipt; later ones are not trusted.
            if payload.get("receipt_sha256") and key not in out:
                out[key] = str(payload["receipt_sha256"])
    return out


def check_receipt_audited(row: m.Bid, audited: dict[tuple[str, int], str]) -> None:
    """The stored receipt is byte for byte the one the audit log recorded at receipt (R08).

    Raises: ENVELOPE_TAMPERED when it differs or was never recorded."""
    digest = hashlib.sha256(row.receipt_xml or b"").hexdigest()
    if audited.get((row.bidder_ref, row.seq)) != digest:
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"رسید ذخیره‌شدهٔ {row.bidder_ref} با گزارش ممیزی نمی‌خواند")


def signed_envelope_hash(row: m.Bid, receipt: etree._Element, sealed: SealedBid, letter: str) -> str:
    """The SHA-256 (hex) of envelope `letter` as both signed documents state it, after checking the
    stored ciphertext against them: the bidder's signed manifest and the engine's signed receipt.
    The mutable `envelopes.sha256` column is never trusted for this (R08). `receipt`: the receipt's
    content as `verified_receipt` returned it.

    Raises: ENVELOPE_TAMPERED when the stored bid, manifest or receipt disagree or are altered."""
    manifest = signed_document_root(parse_untrusted(row.manifest_xml))
    env = next((e for e in sealed.envelopes if e.letter == letter), None)
    if env is None:
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"پاکت {letter} در پیشنهاد ذخیره‌شده نیست", letter=letter)
    # Each envelope is judged on its own: a tampered C must not hide valid A and B.
    signed = manifest_hashes(manifest).get(letter)
    if signed is None or signed != receipt_hashes(receipt).get(letter):
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"چکیدهٔ پاکت {letter} در فهرست امضاشده و رسید یکی نیست",
                          letter=letter)
    check_envelope(receipt, letter, env.ciphertext)
    return signed
