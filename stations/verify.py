"""What a station checks in the engine's answers, with the CA certificate only (a station has no
registry): every signature valid and chained to the CA at its signing time, the claimed role the
expected one (the notice: the unit's authorised signatory and the engine; a receipt: the engine), and
the content the one expected. Rule: "Stations and trust"; R02, R07, R08.
"""
from __future__ import annotations

from datetime import datetime

from cryptography import x509

from domain.documents.notice import SECURITY_SEAT, NoticeContent, read_notice
from domain.documents.receipt import NS as RECEIPT_NS, receipt_hashes
from domain.documents.session import SessionKeyContent, read_session_key
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from sealing.opening_key import OpeningSeats
from services.signers import ENGINE_ROLE, ENGINE_UNIT
from services.tender.files import NOTICE_SIGNATORY
from signing.verify import SignatureCheck, TrustStore, split_signer_ref, verify_document
from signing.xmldsig import signed_document_root


def _trust(ca_pem: bytes) -> TrustStore:
    try:
        return TrustStore(x509.load_pem_x509_certificates(ca_pem))
    except ValueError:
        raise DomainError(Reason.CERT_UNTRUSTED, "گواهی مرجع صدور گواهی خوانا نیست") from None


def _anyone(national_id: str, role: str, unit: str, at: datetime) -> bool:
    """A station has no registry: the claimed role is compared with the expected one instead."""
    return True


def _all_valid(checks: list[SignatureCheck], what: str) -> None:
    if not checks:
        raise DomainError(Reason.SIGNATURE_INVALID, f"{what} امضا نشده است")
    for check in checks:
        if check.reason is not None:
            raise DomainError(check.reason, f"امضای شمارهٔ {check.index + 1} {what}")


def verify_notice(xml: bytes, ca_pem: bytes) -> NoticeContent:
    """The notice `xml` as published, after checking it at the station with the CA certificate: every
    signature valid and chained to the CA at its signing time, the first by the unit's authorised
    signatory (NOTICE_SIGNATORY@the notice's unit), one by the engine (its publication).

    Raises: SIGNATURE_INVALID (unsigned, or not published by the engine), CERT_UNTRUSTED, CERT_EXPIRED,
    SIGNER_NOT_IN_ROLE (another role claimed), MALFORMED_XML, INVALID_INPUT.
    Rule: "Stations and trust" (bidders' tools check the notice's signature before sealing)."""
    checks = verify_document(xml, _trust(ca_pem), _anyone)
    _all_valid(checks, "آگهی")
    content = read_notice(signed_document_root(parse_untrusted(xml)))
    if split_signer_ref(checks[0].signer_ref) != (NOTICE_SIGNATORY, content.unit):
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"آگهی با سمت «{checks[0].signer_ref}» امضا شده است")
    if not any(split_signer_ref(c.signer_ref) == (ENGINE_ROLE, ENGINE_UNIT) for c in checks[1:]):
        raise DomainError(Reason.SIGNATURE_INVALID, "آگهی امضای انتشار سامانهٔ معاملات را ندارد")
    return content


def verify_receipt(xml: bytes, ca_pem: bytes, tender_id: str, bidder_id: str, hashes: dict[str, str]) -> None:
    """The engine's receipt `xml` checked at the station: signed by the engine (chain to the CA at its
    signing time), for this tender and bidder, stating exactly the hashes of the envelopes sent.

    Raises: SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, SIGNER_NOT_IN_ROLE; ENVELOPE_TAMPERED (another
    tender, bidder or hashes); MALFORMED_XML. Rule: R07, R08 (a signed, timestamped receipt of each
    envelope's hash)."""
    checks = verify_document(xml, _trust(ca_pem), _anyone, [(ENGINE_ROLE, ENGINE_UNIT)])
    _all_valid(checks, "رسید")
    root = signed_document_root(parse_untrusted(xml))
    if root.tag != f"{{{RECEIPT_NS}}}Receipt":
        raise DomainError(Reason.MALFORMED_XML, "سند، رسید پیشنهاد نیست")
    tender = root.find(f".//{{{RECEIPT_NS}}}Tender")
    bidder = root.find(f".//{{{RECEIPT_NS}}}Bidder")
    if tender is None or bidder is None or tender.get("id") != tender_id or bidder.get("id") != bidder_id \
            or receipt_hashes(root) != hashes:
        raise DomainError(Reason.ENVELOPE_TAMPERED, "رسید سامانه با پیشنهاد فرستاده‌شده نمی‌خواند")


def verify_session_key(xml: bytes, ca_pem: bytes, tender_id: str, session: str) -> SessionKeyContent:
    """The sitting's key `xml` checked at a member's station: signed by the engine (chain to the CA at
    its signing time), for this tender and sitting. Returns what it states (the public key to release to).

    Raises: SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, SIGNER_NOT_IN_ROLE; INVALID_INPUT (another
    tender or sitting); MALFORMED_XML. Rule: issue 12 (parts released to that sitting only)."""
    checks = verify_document(xml, _trust(ca_pem), _anyone, [(ENGINE_ROLE, ENGINE_UNIT)])
    _all_valid(checks, "کلید جلسه")
    content = read_session_key(signed_document_root(parse_untrusted(xml)))
    if (content.tender_id, content.session) != (tender_id, session):
        raise DomainError(Reason.INVALID_INPUT, "کلید جلسه از آنِ مناقصه یا جلسهٔ دیگری است")
    return content


def notice_seats(content: NoticeContent, ca_pem: bytes, at: datetime) -> OpeningSeats:
    """The seats of the opening keys as the verified notice states them, each holder's certificate
    checked at the station: it parses, has the SHA-256 the notice states, chains to the CA and is
    valid at `at` (aware UTC).

    Raises: CERT_UNTRUSTED, CERT_EXPIRED (a holder's certificate), INVALID_INPUT (seats that do not
    hold together, a certificate other than the one named). Rule: issue 12 (the bidder deals its bid's
    key to the certificates of the signed notice only)."""
    import base64
    import hashlib

    trust = _trust(ca_pem)
    certificates: dict[str, tuple[str, str]] = {}
    for mem in content.members:
        if not mem.certificate_b64:
            continue
        der = base64.b64decode(mem.certificate_b64)
        if hashlib.sha256(der).hexdigest() != mem.certificate_sha256:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی عضو «{mem.id}» با چکیدهٔ آگهی نمی‌خواند")
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی عضو «{mem.id}» خوانا نیست") from None
        if trust.chain(cert, []) is None:
            raise DomainError(Reason.CERT_UNTRUSTED, f"گواهی عضو «{mem.id}» در آگهی از مرجع نیست")
        if not cert.not_valid_before_utc <= at < cert.not_valid_after_utc:
            raise DomainError(Reason.CERT_EXPIRED, f"گواهی عضو «{mem.id}» در آگهی اکنون معتبر نیست")
        certificates[mem.id] = (mem.certificate_b64, mem.key_transport)
    voting = {role: ids for role, ids in content.seats.items() if role != SECURITY_SEAT}
    seats = OpeningSeats(content.tender_id, content.threshold, voting, content.seats.get(SECURITY_SEAT, ()),
                         {mid: certificates[mid] for ids in content.seats.values() for mid in ids
                          if mid in certificates})
    return seats
