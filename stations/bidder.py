"""The bidders' stations (issue 11 part 4; R07, R08; "Stations and trust").

    notice_and_ca(api, tender_id)                       -> (signed notice XML, CA PEM), public reads
    seal_from_notice(tender_id, bidder_id, company_id, envelopes, notice_xml, ca_pem, signer, clock)
                                                        -> BidFile (sealed + signed manifest)
    upload(signatory, bid)                              -> Receipt (as answered)
    submit(signatory, bid, ca_pem)                      -> Receipt (the engine's signed receipt, verified)

The encryption material comes only from the signed notice, after its signatures and their chain to
the CA are verified: never from the engine's database. Plaintext never leaves the station; the
manifest of envelope hashes is signed on the company signatory's token.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from domain.clock import Clock
from domain.documents.notice import NoticeContent
from domain.reasons import DomainError, Reason
from sealing.envelopes import manifest_xml, seal_dealt
from services.signers import COMPANY_SIGNATORY, CertKeyWrapper, Signer
from services.tender.files import BidFile, pack_bid_file
from stations.client import Api, Station
from stations.verify import notice_seats, verify_notice, verify_receipt

CHUNK = 64 * 1024


def notice_and_ca(api: Api, tender_id: str) -> tuple[bytes, bytes]:
    """The tender's published notice (GET /v1/tenders/{id}/notice) and the CA certificate the server
    states (GET /v1/trust/ca). Raises: NOT_FOUND (not announced), STORE_UNREACHABLE."""
    return api.get(f"/v1/tenders/{tender_id}/notice").content, api.ca_pem()


def seal_from_notice(tender_id: str, bidder_id: str, company_id: str, envelopes: dict[str, bytes],
                     notice_xml: bytes, ca_pem: bytes, signer: Signer, clock: Clock) -> tuple[BidFile, NoticeContent]:
    """Deal the bid's own opening key to the seats of the verified notice (the security part and a
    Shamir share per voting seat, each wrapped to the certificates the notice states, checked with the
    CA), seal `envelopes` (letter -> canonical content bytes) to it and sign the manifest on `signer`'s
    token as the company's signatory at `clock.now()` (UTC). The key itself is forgotten at once: this
    station is the dealer and keeps nothing (issue 12). Returns the bid file and the notice's content.

    Raises: verify_notice's reasons (SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED,
    SIGNER_NOT_IN_ROLE, MALFORMED_XML); INVALID_INPUT (the notice of another tender); TOKEN_*.
    Rule: "Stations and trust" (the bidder's tool takes the key from the signed notice only); R07."""
    content = verify_notice(notice_xml, ca_pem)  # signatures and chain first: the seats come from nothing else
    if content.tender_id != tender_id:
        raise DomainError(Reason.INVALID_INPUT, f"آگهی از آنِ مناقصهٔ «{content.tender_id}» است")
    seats = notice_seats(content, ca_pem, clock.now())
    sealed = seal_dealt(tender_id, bidder_id, envelopes, seats.voting, list(seats.security), seats.threshold,
                        CertKeyWrapper.from_der(seats.certificates))
    manifest = etree.tostring(signer.sign(manifest_xml(sealed, clock.now()), clock, COMPANY_SIGNATORY, company_id),
                              xml_declaration=True, encoding="UTF-8")
    return BidFile(tender_id, bidder_id, company_id, sealed, manifest), content


@dataclass(frozen=True)
class Receipt:
    """The engine's signed receipt of a bid (XML, verified at the station) and the submission's number."""

    xml: bytes
    seq: int | None


def upload(signatory: Station, bid: BidFile, body: Path | bytes | None = None) -> Receipt:
    """Upload the bid file with the session of the company's signatory, streamed in 64 KiB chunks
    (`body`: the packed file on disk, or its bytes; default: `bid` packed here). Returns the receipt
    as answered, NOT yet verified (`submit` verifies it).

    Raises: the API's refusals (LATE_SUBMISSION, BID_NOT_OWNED, DUPLICATE_BID, BIDDER_SIGNATURE_INVALID,
    SIGNING_TIME_SKEW, NOT_AUTHORISED, REQUEST_TOO_LARGE, ...), STORE_UNREACHABLE.
    Rule: R07 (the deadline is judged at the engine's receipt time)."""
    path = f"/v1/tenders/{bid.tender_id}/bids"
    if isinstance(body, Path):
        answer = signatory.upload(path, body)
    else:
        data = body if body is not None else pack_bid_file(bid)

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(data), CHUNK):
                yield data[i:i + CHUNK]

        answer = signatory.request("POST", path, content=chunks(), headers={"content-type": "application/octet-stream"})
    return Receipt(answer.content, int(answer.headers.get("x-eproc-receipt-seq", "0")) or None)


# Login refusals after which the bid is still sent, without a session, to be refused on the record.
_SEND_ANYWAY = frozenset({Reason.NOT_AUTHENTICATED, Reason.NOT_AUTHORISED, Reason.CERT_REVOKED, Reason.CERT_EXPIRED,
                          Reason.CERT_UNTRUSTED, Reason.SIGNATURE_INVALID, Reason.SIGNER_NOT_IN_ROLE})


def login_as_signatory(signatory: Station, company_id: str) -> bool:
    """Open the session of the company's signatory; False (no session) when the engine refuses the login
    for the person's certificate or role, so that the bid still reaches the engine and is refused on
    the record (BIDDER_SIGNATURE_INVALID) rather than silently never sent (art. 16: every submission
    is kept). Raises: STORE_UNREACHABLE, TOKEN_* (the token itself)."""
    try:
        signatory.login(COMPANY_SIGNATORY, company_id)
    except DomainError as exc:
        if exc.reason not in _SEND_ANYWAY:
            raise
        return False
    return True


def submit(signatory: Station, bid: BidFile, ca_pem: bytes, body: Path | bytes | None = None) -> Receipt:
    """`upload`, then verify the engine's receipt with `ca_pem`: signed by the engine, for this tender
    and bidder, stating exactly the hashes of the envelopes sent.

    Raises: upload's reasons; verify_receipt's (SIGNATURE_INVALID, CERT_UNTRUSTED, ENVELOPE_TAMPERED,
    MALFORMED_XML). Rule: R07, R08 (a signed, timestamped receipt of each envelope's hash)."""
    receipt = upload(signatory, bid, body)
    verify_receipt(receipt.xml, ca_pem, bid.tender_id, bid.bidder_id, bid.sealed.hashes())
    return receipt
