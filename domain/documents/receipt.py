"""The signed, timestamped submission receipt: the hash of each sealed envelope as received,
so the opening can prove an envelope is the one the bidder sent (ENVELOPE_TAMPERED otherwise)."""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, time_attrs
from domain.reasons import DomainError, Reason

NS = "urn:tehran:eproc:receipt:1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
LETTERS = ("A", "B", "C")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_receipt(tender_id: str, bidder_id: str, received_at: datetime, envelope_sha256: Mapping[str, str],
                  receipt_id: str | None = None, supersedes: str | None = None,
                  version: int = 1, manifest_signer_serial: int | None = None) -> etree._Element:
    """envelope_sha256 maps A/B/C to the hex SHA-256 of each sealed envelope as received;
    manifest_signer_serial is the serial of the certificate that signed the bidder's manifest, so a
    manifest re-signed later by anyone else no longer matches the engine's receipt (R08)."""
    if not envelope_sha256 or set(envelope_sha256) - set(LETTERS):
        raise DomainError(Reason.INVALID_INPUT, "پاکت‌های رسید باید از الف، ب، ج باشند")
    root, body = new_document(NS, "Receipt", version)
    sub(body, "Tender", id=tender_id)
    sub(body, "Bidder", id=bidder_id)
    sub(body, "ReceivedAt", **time_attrs(received_at))
    if receipt_id is not None or supersedes is not None:
        sub(body, "Sequence", receipt_id=receipt_id, supersedes=supersedes)
    if manifest_signer_serial is not None:
        sub(body, "ManifestSigner", cert_serial=str(manifest_signer_serial))
    envs = sub(body, "Envelopes")
    for letter in LETTERS:
        if letter in envelope_sha256:
            digest = str(envelope_sha256[letter]).lower()
            if not _HEX64.match(digest):
                raise DomainError(Reason.INVALID_INPUT, f"چکیدهٔ پاکت {letter} SHA-256 نیست")
            sub(envs, "Envelope", letter=letter, sha256=digest)
    return root


def receipt_hashes(doc: etree._Element) -> dict[str, str]:
    return {e.get("letter"): e.get("sha256") for e in body_of(doc).iter(f"{{{NS}}}Envelope")}


def check_envelope(doc: etree._Element, letter: str, sealed: bytes) -> None:
    """Raise ENVELOPE_TAMPERED if the sealed bytes are not those the receipt records."""
    expected = receipt_hashes(doc).get(letter)
    if expected is None or not hmac.compare_digest(expected, sha256_hex(sealed)):
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"پاکت {letter}")


def receipt_facts(doc: etree._Element) -> tuple[str, str, str, int | None]:
    """What a receipt states beside its hashes: (tender id, bidder id, received-at UTC text, the
    manifest signer's certificate serial or None). Raises: MALFORMED_XML when it is not a receipt."""
    body = body_of(doc)
    tender, bidder, at = (body.find(f"{{{NS}}}{n}") for n in ("Tender", "Bidder", "ReceivedAt"))
    if tender is None or bidder is None or at is None:
        raise DomainError(Reason.MALFORMED_XML, "سند، رسید پیشنهاد نیست")
    signer = body.find(f"{{{NS}}}ManifestSigner")
    serial = int(str(signer.get("cert_serial"))) if signer is not None else None
    return str(tender.get("id")), str(bidder.get("id")), str(at.get("utc")), serial
