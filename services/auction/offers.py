"""Guarantees and offers of an online auction, received as documents signed on the bidder's token
(api.signed verified them at receipt) and judged on the engine's clock (tender-rules.md
`online_auction`; R07, R08 "receipted like bids").

Each is stored in the order received with its outcome, audited, and when accepted answered with the
engine's signed receipt (the SHA-256 of the signed document received, the amount, the receipt time and
for an offer the close after it). The judgment runs inside one transaction that first appends to the
audit log, which serialises writers (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL): two
offers arriving together are judged one after the other, each against the state the other left."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from domain.auction import rules
from domain.auction.documents import ReceiptFacts, build_receipt, read_guarantee, read_offer
from domain.reasons import DomainError, Reason
from domain.tender.evaluation import evaluate_a
from domain.tender.model import EnvelopeA, Guarantee
from services.auction.terms import load_terms
from services.auth import VerifiedDocument
from services.checkpoints import checkpoint
from services.deps import Deps
from services.signers import ENGINE_ROLE, ENGINE_UNIT
from services.tender.view import load_bid_terms
from store import audit, models as m
from store.uow import UnitOfWork


@dataclass(frozen=True)
class Received:
    """The engine's answer to a guarantee or an offer: accepted or the refusal's reason code (with its
    Persian detail), the signed receipt (XML bytes, accepted only) and its number for the tender."""

    accepted: bool
    reason: Reason | None
    detail: str
    receipt_xml: bytes | None
    seq: int


def _offers(rows: list[m.AuctionOffer], accepted_at: dict[str, datetime]) -> list[rules.Offer]:
    return [rules.Offer(r.bidder_ref, r.amount_rial, r.received_at,
                        r.bidder_ref in accepted_at and accepted_at[r.bidder_ref] <= r.received_at) for r in rows]


def _guarantee_accepted_at(rows: list[m.AuctionGuarantee]) -> dict[str, datetime]:
    """Bidder -> when its first accepted guarantee was received (UTC)."""
    out: dict[str, datetime] = {}
    for g in rows:
        if g.accepted and g.bidder_ref not in out:
            out[g.bidder_ref] = g.received_at
    return out


def _state(uow: UnitOfWork, terms: rules.AuctionTerms) -> tuple[rules.AuctionState, list[rules.OfferOutcome]]:
    guarantees = list(uow.auctions.guarantees(terms.tender_id))
    offers = list(uow.auctions.offers(terms.tender_id))
    return rules.replay(terms, _offers(offers, _guarantee_accepted_at(guarantees)))


def auction_state(deps: Deps, tender_id: str) -> tuple[rules.AuctionTerms, rules.AuctionState, list[rules.OfferOutcome]]:
    """The auction replayed from its stored offers (domain.auction.rules.replay): terms, the state now
    (best offer, close, extensions) and each offer's outcome in the order received.

    Raises: NOT_FOUND (no online auction under that id); STORE_TAMPERED when a stored outcome is not
    what the rules give for the stored offers."""
    terms = load_terms(deps, tender_id)
    with deps.uow() as uow:
        state, outcomes = _state(uow, terms)
        stored = list(uow.auctions.offers(tender_id))
    for row, outcome in zip(stored, outcomes, strict=True):
        if row.accepted != outcome.accepted or (row.reason or None) != (outcome.reason.value if outcome.reason else None):
            raise DomainError(Reason.STORE_TAMPERED, f"پیشنهاد شمارهٔ {row.seq} حراج «{tender_id}»")
    return terms, state, outcomes


def public_state(deps: Deps, tender_id: str) -> dict[str, Any]:
    """What every bidder may see now (domain.auction.rules.public_view): the best price, the least next
    offer, the close and extensions, the status; never who offered.

    Raises: NOT_FOUND, STORE_TAMPERED. Rule: tender-rules.md `online_auction`."""
    terms, state, _ = auction_state(deps, tender_id)
    return rules.public_view(terms, state, deps.clock.now())


def _owner(uow: UnitOfWork, tender_id: str, bidder_ref: str, company_id: str) -> None:
    """A bidder reference belongs to the company that first lodged a guarantee under it; a company has
    one reference per auction. Raises: BID_NOT_OWNED, DUPLICATE_BID."""
    for g in uow.auctions.guarantees(tender_id):
        if g.bidder_ref == bidder_ref and g.company_id != company_id:
            raise DomainError(Reason.BID_NOT_OWNED, f"پیشنهاددهندهٔ «{bidder_ref}»")
        if g.company_id == company_id and g.bidder_ref != bidder_ref:
            raise DomainError(Reason.DUPLICATE_BID, f"این شرکت با شناسهٔ «{g.bidder_ref}» در حراج است")


def _receipt(deps: Deps, facts: ReceiptFacts) -> bytes:
    signed = deps.engine().sign(build_receipt(facts), deps.clock, ENGINE_ROLE, ENGINE_UNIT)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _check_request(doc: VerifiedDocument, tender_id: str, doc_tender: str, company_id: str) -> None:
    if doc_tender != tender_id:
        raise DomainError(Reason.INVALID_INPUT, "سند از آنِ حراج دیگری است")
    if company_id != doc.unit:
        raise DomainError(Reason.NOT_AUTHORISED, "سند با سمت امضاکنندهٔ شرکت دیگری امضا شده است")


def lodge_guarantee(deps: Deps, tender_id: str, doc: VerifiedDocument) -> Received:
    """A bidder's guarantee (AuctionGuarantee signed as the company's signatory, verified at receipt),
    judged at `doc.received_at` by envelope A's rule (domain.tender.evaluation.evaluate_a: amount and
    validity against the tender's) until the auction closes. Stored, audited and, when accepted,
    receipted (checkpoint first). A refusal is returned, not raised.

    Refusal reasons: GUARANTEE_INSUFFICIENT, GUARANTEE_EXPIRES_EARLY, AUCTION_CLOSED, BID_NOT_OWNED,
    DUPLICATE_BID. Raises: NOT_FOUND (no such auction), INVALID_INPUT, NOT_AUTHORISED (another tender,
    another company than the signer's), MALFORMED_XML. Rule: tender-rules.md `online_auction` (the bid
    guarantee (A) is required before a bidder may offer) and "Opening" (A)."""
    g = read_guarantee(doc.root)
    _check_request(doc, tender_id, g.tender_id, g.company_id)
    terms = load_terms(deps, tender_id)
    spec = load_bid_terms(deps, tender_id).spec
    now = doc.received_at
    receipt: bytes | None = None
    with deps.uow() as uow:
        uow.record(at=now, actor=g.bidder_id, action="auction.guarantee.received", entity="tender", entity_id=tender_id,
                   payload={"bidder": g.bidder_id, "company": g.company_id, "document_sha256": doc.sha256})
        seq = len(uow.auctions.guarantees(tender_id)) + 1
        reason: Reason | None = None
        detail = ""
        try:
            _owner(uow, tender_id, g.bidder_id, g.company_id)
            state, _ = _state(uow, terms)
            if rules.is_closed(state, now):
                raise DomainError(Reason.AUCTION_CLOSED)
            reason = evaluate_a(spec, EnvelopeA(Guarantee(g.amount_rial, g.valid_until))).reason
        except DomainError as exc:
            reason, detail = exc.reason, exc.detail
        if reason is None:
            receipt = _receipt(deps, ReceiptFacts("guarantee", seq, tender_id, g.bidder_id, g.amount_rial, now,
                                                  doc.sha256))
        uow.auctions.add_guarantee(m.AuctionGuarantee(
            tender_id=tender_id, seq=seq, bidder_ref=g.bidder_id, company_id=g.company_id, amount_rial=g.amount_rial,
            valid_until=g.valid_until, received_at=now, accepted=reason is None,
            reason=reason.value if reason else None, document_xml=doc.xml, receipt_xml=receipt))
        entry = audit.append(uow.session, at=now, actor="engine", action="auction.guarantee." + ("accepted" if reason is None
                                                                                        else "refused"),
                                 entity="tender", entity_id=tender_id, reason=reason,
                                 payload={"bidder": g.bidder_id, "seq": seq, "detail": detail,
                                          "receipt_sha256": hashlib.sha256(receipt).hexdigest() if receipt else None})
        entry_seq = int(entry.seq)
        uow.commit()
    if receipt is not None:
        checkpoint(deps, f"auction-guarantee:{tender_id}/{g.bidder_id}/{seq}", covering=entry_seq)
    return Received(reason is None, reason, detail, receipt, seq)


def submit_offer(deps: Deps, tender_id: str, doc: VerifiedDocument) -> Received:
    """A bidder's offer (AuctionOffer signed as the company's signatory, verified at receipt), judged
    at `doc.received_at` against the state every earlier offer left (domain.auction.rules.accept_offer:
    window, guarantee, base price, increment; an accepted offer in the last minutes extends the close).
    Stored in the order received with its outcome, audited and, when accepted, receipted with the
    close after it (checkpoint first). A refusal is returned, not raised.

    Refusal reasons: AUCTION_CLOSED, GUARANTEE_MISSING, BELOW_BASE_PRICE, OFFER_TOO_LOW, BID_NOT_OWNED,
    DUPLICATE_BID. Raises: NOT_FOUND, INVALID_INPUT, AMOUNT_OUT_OF_RANGE, NOT_AUTHORISED, MALFORMED_XML.
    Rule: tender-rules.md `online_auction`; R07 (judged at the engine's receipt time)."""
    o = read_offer(doc.root)
    _check_request(doc, tender_id, o.tender_id, o.company_id)
    terms = load_terms(deps, tender_id)
    now = doc.received_at
    receipt: bytes | None = None
    with deps.uow() as uow:
        uow.record(at=now, actor=o.bidder_id, action="auction.offer.received", entity="tender", entity_id=tender_id,
                   payload={"bidder": o.bidder_id, "amount_rial": o.amount_rial, "document_sha256": doc.sha256})
        seq = len(uow.auctions.offers(tender_id)) + 1
        state, _ = _state(uow, terms)
        accepted_at = _guarantee_accepted_at(list(uow.auctions.guarantees(tender_id)))
        try:
            _owner(uow, tender_id, o.bidder_id, o.company_id)
        except DomainError as exc:
            # Not this bidder's to make: refused before the auction's own rules, never stored as an offer.
            uow.record(at=now, actor="engine", action="auction.offer.refused", entity="tender", entity_id=tender_id,
                       reason=exc.reason, payload={"bidder": o.bidder_id, "detail": exc.detail})
            uow.commit()
            return Received(False, exc.reason, exc.detail, None, 0)
        offer = rules.Offer(o.bidder_id, o.amount_rial, now,
                            o.bidder_id in accepted_at and accepted_at[o.bidder_id] <= now)
        outcome = rules.accept_offer(terms, state, offer)
        if outcome.accepted:
            receipt = _receipt(deps, ReceiptFacts("offer", seq, tender_id, o.bidder_id, o.amount_rial, now, doc.sha256,
                                                  outcome.closes_at))
        uow.auctions.add_offer(m.AuctionOffer(
            tender_id=tender_id, seq=seq, bidder_ref=o.bidder_id, company_id=o.company_id, amount_rial=o.amount_rial,
            received_at=now, accepted=outcome.accepted, reason=outcome.reason.value if outcome.reason else None,
            extended=outcome.extended, closes_at=outcome.closes_at, document_xml=doc.xml, receipt_xml=receipt))
        entry = audit.append(uow.session, at=now, actor="engine",
                                 action="auction.offer." + ("accepted" if outcome.accepted else "refused"),
                                 entity="tender", entity_id=tender_id, reason=outcome.reason,
                                 payload={"bidder": o.bidder_id, "seq": seq, "amount_rial": o.amount_rial,
                                          "extended": outcome.extended, "closes_at": outcome.closes_at.isoformat(),
                                          "receipt_sha256": hashlib.sha256(receipt).hexdigest() if receipt else None})
        entry_seq = int(entry.seq)
        uow.commit()
    if receipt is not None:
        checkpoint(deps, f"auction-offer:{tender_id}/{seq}", covering=entry_seq)
    return Received(outcome.accepted, outcome.reason, outcome.detail, receipt, seq)

