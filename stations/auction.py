"""The online auction from the stations (issue 14 part 1; tender-rules.md `online_auction`).

    register(officer, tender_id, unit, opens_at, closes_at, min_increment_rial)  -> the auction (dict)
    show(api, tender_id)                                   -> best price, close, status (never who)
    lodge_guarantee(signatory, tender_id, bidder_id, company_id, amount_rial, valid_until, ca_pem)
                                                           -> ReceiptFacts (the engine's receipt, verified)
    offer(signatory, tender_id, bidder_id, company_id, amount_rial, ca_pem) -> ReceiptFacts (verified)

The guarantee and every offer are documents signed on the company signatory's own token (the
session's role company_signatory@company); the engine's receipt is checked here with the CA
certificate only: signed by the engine, for this auction, bidder and amount, stating the SHA-256 of
exactly the bytes sent.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from cryptography import x509

from domain.auction.documents import (
    AuctionRequest,
    GuaranteeDoc,
    OfferDoc,
    ReceiptFacts,
    build_auction_request,
    build_guarantee,
    build_offer,
    read_receipt,
)
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services.signers import ENGINE_ROLE, ENGINE_UNIT
from signing.verify import TrustStore, split_signer_ref, verify_document
from signing.xmldsig import signed_document_root
from stations.client import XML, Api, Station


def register(officer: Station, tender_id: str, unit: str, opens_at: datetime, closes_at: datetime,
             min_increment_rial: int | None = None) -> dict[str, Any]:
    """The contracts officer (logged in as contracts_officer@unit) registers the online auction of the
    announced auction `tender_id`: the window (aware UTC) and the increment in rials (None: the
    policy's default). Returns the auction as GET /v1/auctions/{id} shows it.

    Raises: the API's refusals (INVALID_INPUT, WRONG_STAGE, NOT_AUTHORISED, ...), STORE_UNREACHABLE,
    TOKEN_*. Rule: tender-rules.md `online_auction`."""
    doc = build_auction_request(AuctionRequest(tender_id, unit, opens_at, closes_at, min_increment_rial))
    return dict(officer.post_signed("/v1/auctions", doc).json())


def show(api: Api, tender_id: str) -> dict[str, Any]:
    """The auction now (GET /v1/auctions/{id}): best price and least next offer (rials), the close
    with its extensions (UTC ISO 8601 and Jalali), the status; never who offered.

    Raises: NOT_FOUND, STORE_UNREACHABLE. Rule: tender-rules.md `online_auction`."""
    return dict(api.get(f"/v1/auctions/{tender_id}").json())


def verify_receipt(xml: bytes, ca_pem: bytes, kind: str, tender_id: str, bidder_id: str, amount_rial: int,
                   sent: bytes) -> ReceiptFacts:
    """The engine's AuctionReceipt `xml` checked at the station with the CA certificate: every signature
    valid and chained to the CA at its signing time, the engine's; of this `kind` (guarantee | offer),
    auction, bidder and amount; stating the SHA-256 of `sent`, the signed document as sent.

    Raises: SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, SIGNER_NOT_IN_ROLE; ENVELOPE_TAMPERED (a
    receipt of something else); MALFORMED_XML. Rule: tender-rules.md `online_auction` (offers are
    receipted like bids); R07, R08."""
    try:
        trust = TrustStore(x509.load_pem_x509_certificates(ca_pem))
    except ValueError:
        raise DomainError(Reason.CERT_UNTRUSTED, "گواهی مرجع صدور گواهی خوانا نیست") from None
    checks = verify_document(xml, trust, lambda *_: True, [(ENGINE_ROLE, ENGINE_UNIT)])
    if not checks:
        raise DomainError(Reason.SIGNATURE_INVALID, "رسید حراج امضا نشده است")
    for check in checks:
        if check.reason is not None:
            raise DomainError(check.reason, "امضای رسید حراج")
        if split_signer_ref(check.signer_ref) != (ENGINE_ROLE, ENGINE_UNIT):
            raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"رسید با سمت «{check.signer_ref}» امضا شده است")
    facts = read_receipt(signed_document_root(parse_untrusted(xml)))
    if (facts.kind, facts.tender_id, facts.bidder_id, facts.amount_rial, facts.document_sha256) != \
            (kind, tender_id, bidder_id, amount_rial, hashlib.sha256(sent).hexdigest()):
        raise DomainError(Reason.ENVELOPE_TAMPERED, "رسید سامانه با سند فرستاده‌شده نمی‌خواند")
    return facts


def _send(signatory: Station, path: str, doc: Any) -> tuple[bytes, bytes]:
    body = signatory.sign(doc)
    return body, signatory.request("POST", path, content=body, headers=XML).content


def lodge_guarantee(signatory: Station, tender_id: str, bidder_id: str, company_id: str, amount_rial: int,
                    valid_until: date, ca_pem: bytes) -> ReceiptFacts:
    """The company's signatory (logged in as company_signatory@company_id) lodges the bid guarantee
    (rials, valid until `valid_until`) signed on their token; returns the engine's verified receipt.

    Raises: the API's refusals (GUARANTEE_INSUFFICIENT, GUARANTEE_EXPIRES_EARLY, AUCTION_CLOSED,
    BID_NOT_OWNED, ...), verify_receipt's, STORE_UNREACHABLE, TOKEN_*. Rule: tender-rules.md
    `online_auction` (the guarantee (A) before any offer)."""
    doc = build_guarantee(GuaranteeDoc(tender_id, bidder_id, company_id, amount_rial, valid_until))
    sent, receipt = _send(signatory, f"/v1/auctions/{tender_id}/guarantee", doc)
    return verify_receipt(receipt, ca_pem, "guarantee", tender_id, bidder_id, amount_rial, sent)


def offer(signatory: Station, tender_id: str, bidder_id: str, company_id: str, amount_rial: int,
          ca_pem: bytes) -> ReceiptFacts:
    """The company's signatory (logged in as company_signatory@company_id) offers `amount_rial`, signed
    on their token; returns the engine's verified receipt (with the close after the offer).

    Raises: the API's refusals (AUCTION_CLOSED, OFFER_TOO_LOW, BELOW_BASE_PRICE, GUARANTEE_MISSING,
    BID_NOT_OWNED, ...), verify_receipt's, STORE_UNREACHABLE, TOKEN_*. Rule: tender-rules.md
    `online_auction`."""
    doc = build_offer(OfferDoc(tender_id, bidder_id, company_id, amount_rial))
    sent, receipt = _send(signatory, f"/v1/auctions/{tender_id}/offers", doc)
    return verify_receipt(receipt, ca_pem, "offer", tender_id, bidder_id, amount_rial, sent)
