"""The online auction's canonical documents (namespace urn:tehran:eproc:auction:1), each signed with
XMLDSig like every other request (api.signed) or by the engine (its receipts):

    AuctionRequest    the unit's contracts officer registers the auction's window and increment
    AuctionGuarantee  the company's signatory lodges its bid guarantee (envelope A, in the open)
    AuctionOffer      the company's signatory offers an amount (rials)
    AuctionReceipt    the engine's signed receipt of a guarantee or an offer (SHA-256 of what it received)

Builders take plain values; readers take the root inside the signed envelope and raise MALFORMED_XML
when a part is missing. Times are aware UTC (written twice: UTC and Jalali Tehran)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, time_attrs
from domain.persian import format_jalali_date, parse_jalali_date
from domain.reasons import DomainError, Reason

NS = "urn:tehran:eproc:auction:1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _el(root: etree._Element, name: str) -> etree._Element:
    found = body_of(root).find(_q(name))
    if found is None:
        raise DomainError(Reason.MALFORMED_XML, f"سند حراج بخش «{name}» ندارد")
    return found


def _kind(root: etree._Element, name: str) -> None:
    if root.tag != _q(name):
        raise DomainError(Reason.MALFORMED_XML, f"سند باید «{name}» حراج باشد")


def _int(value: str | None, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise DomainError(Reason.MALFORMED_XML, f"{what} عدد صحیح نیست") from None


def _utc(value: str | None) -> datetime:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise DomainError(Reason.MALFORMED_XML, f"زمان نامعتبر: {value!r}") from None


@dataclass(frozen=True)
class AuctionRequest:
    """The contracts officer's registration of a tender's online auction: the window (aware UTC)
    and the minimum increment in rials (None: the policy's default rate of the base price)."""

    tender_id: str
    unit: str
    opens_at: datetime
    closes_at: datetime
    min_increment_rial: int | None = None


def build_auction_request(req: AuctionRequest) -> etree._Element:
    """The AuctionRequest document to sign. Raises: INVALID_INPUT (a naive time)."""
    root, body = new_document(NS, "AuctionRequest", 1)
    sub(body, "Tender", id=req.tender_id, unit=req.unit)
    window = sub(body, "Window")
    sub(window, "OpensAt", **time_attrs(req.opens_at))
    sub(window, "ClosesAt", **time_attrs(req.closes_at))
    if req.min_increment_rial is not None:
        sub(body, "MinIncrement", rial=req.min_increment_rial)
    return root


def read_auction_request(root: etree._Element) -> AuctionRequest:
    """What an AuctionRequest states. Raises: MALFORMED_XML."""
    _kind(root, "AuctionRequest")
    tender, window = _el(root, "Tender"), _el(root, "Window")
    opens, closes = window.find(_q("OpensAt")), window.find(_q("ClosesAt"))
    if opens is None or closes is None:
        raise DomainError(Reason.MALFORMED_XML, "بازهٔ حراج ناقص است")
    inc = body_of(root).find(_q("MinIncrement"))
    return AuctionRequest(str(tender.get("id")), str(tender.get("unit")), _utc(opens.get("utc")),
                          _utc(closes.get("utc")), None if inc is None else _int(inc.get("rial"), "حداقل افزایش"))


@dataclass(frozen=True)
class GuaranteeDoc:
    """A bidder's guarantee for an online auction: amount (rials) and the date it is valid until
    (Jalali on paper, a Gregorian `date` here)."""

    tender_id: str
    bidder_id: str
    company_id: str
    amount_rial: int
    valid_until: date


def build_guarantee(doc: GuaranteeDoc) -> etree._Element:
    """The AuctionGuarantee document the company's signatory signs. Raises nothing."""
    root, body = new_document(NS, "AuctionGuarantee", 1)
    sub(body, "Tender", id=doc.tender_id)
    sub(body, "Bidder", id=doc.bidder_id, company=doc.company_id)
    sub(body, "Guarantee", amount_rial=doc.amount_rial, valid_until=format_jalali_date(doc.valid_until))
    return root


def read_guarantee(root: etree._Element) -> GuaranteeDoc:
    """What an AuctionGuarantee states. Raises: MALFORMED_XML, INVALID_INPUT (a date that is not Jalali)."""
    _kind(root, "AuctionGuarantee")
    tender, bidder, g = _el(root, "Tender"), _el(root, "Bidder"), _el(root, "Guarantee")
    return GuaranteeDoc(str(tender.get("id")), str(bidder.get("id")), str(bidder.get("company")),
                        _int(g.get("amount_rial"), "مبلغ تضمین"), parse_jalali_date(str(g.get("valid_until"))))


@dataclass(frozen=True)
class OfferDoc:
    """A bidder's offer: the amount in rials."""

    tender_id: str
    bidder_id: str
    company_id: str
    amount_rial: int


def build_offer(doc: OfferDoc) -> etree._Element:
    """The AuctionOffer document the company's signatory signs. Raises nothing."""
    root, body = new_document(NS, "AuctionOffer", 1)
    sub(body, "Tender", id=doc.tender_id)
    sub(body, "Bidder", id=doc.bidder_id, company=doc.company_id)
    sub(body, "Offer", amount_rial=doc.amount_rial)
    return root


def read_offer(root: etree._Element) -> OfferDoc:
    """What an AuctionOffer states. Raises: MALFORMED_XML."""
    _kind(root, "AuctionOffer")
    tender, bidder, offer = _el(root, "Tender"), _el(root, "Bidder"), _el(root, "Offer")
    return OfferDoc(str(tender.get("id")), str(bidder.get("id")), str(bidder.get("company")),
                    _int(offer.get("amount_rial"), "مبلغ پیشنهاد"))


@dataclass(frozen=True)
class ReceiptFacts:
    """What the engine's receipt states: of a `guarantee` or an `offer`, its number for that tender,
    the tender and bidder, the amount (rials), when it was received (UTC), the SHA-256 (hex) of the
    signed document received, and for an offer the close after it (UTC)."""

    kind: str
    seq: int
    tender_id: str
    bidder_id: str
    amount_rial: int
    received_at: datetime
    document_sha256: str
    closes_at: datetime | None = None


def build_receipt(facts: ReceiptFacts) -> etree._Element:
    """The AuctionReceipt the engine signs. Raises: INVALID_INPUT (not a SHA-256, an unknown kind)."""
    if facts.kind not in ("guarantee", "offer") or not _HEX64.match(facts.document_sha256):
        raise DomainError(Reason.INVALID_INPUT, "رسید حراج نامعتبر است")
    root, body = new_document(NS, "AuctionReceipt", 1)
    sub(body, "Tender", id=facts.tender_id)
    sub(body, "Bidder", id=facts.bidder_id)
    sub(body, "Received", kind=facts.kind, seq=facts.seq, amount_rial=facts.amount_rial,
        document_sha256=facts.document_sha256)
    sub(body, "ReceivedAt", **time_attrs(facts.received_at))
    if facts.closes_at is not None:
        sub(body, "ClosesAt", **time_attrs(facts.closes_at))
    return root


def read_receipt(root: etree._Element) -> ReceiptFacts:
    """What an AuctionReceipt states. Raises: MALFORMED_XML."""
    _kind(root, "AuctionReceipt")
    tender, bidder, rec, at = (_el(root, n) for n in ("Tender", "Bidder", "Received", "ReceivedAt"))
    closes = body_of(root).find(_q("ClosesAt"))
    return ReceiptFacts(str(rec.get("kind")), _int(rec.get("seq"), "شماره"), str(tender.get("id")),
                        str(bidder.get("id")), _int(rec.get("amount_rial"), "مبلغ"), _utc(at.get("utc")),
                        str(rec.get("document_sha256")), None if closes is None else _utc(closes.get("utc")))
