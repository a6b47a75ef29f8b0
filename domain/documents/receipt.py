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
                  version: int = 1) -> etree._Element:
    """envelope_sha256 maps A/B/C to the hex SHA-256 of each sealed envelope as received."""
    if not envelope_sha256 or set(envelope_sha256) - set(LETTERS):
        raise DomainError(Reason.INVALID_INPUT, "پاکت‌های رسید باید از الف، ب، ج باشند")
    root, body = new_document(NS, "Receipt", version)
    sub(body, "Tender", id=tender_id)
    sub(body, "Bidder", id=bidder_id)
    sub(body, "ReceivedAt", **time_attrs(received_at))
    if receipt_id is not None or supersedes is not None:
        sub(body, "Sequence", receipt_id=receipt_id, supersedes=supersedes)
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
