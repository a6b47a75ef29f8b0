"""The documents of a sitting with no single key holder (issue 12; R04, R08, "Stations and trust"):

- `SessionKey`: the engine's key for one sitting, published signed by the engine. Members' stations
  wrap the parts they release to it (RSA-OAEP, `mechanism`), so a released part is never stored
  unwrapped before the sitting decrypts.

    <SessionKey xmlns="urn:tehran:eproc:session:1">
      <Body Id="body" version="1">
        <Sitting tender="D12-1400-017" session="opening"/>
        <Key mechanism="RSA_PKCS_OAEP_SHA256" public_key="<base64 DER SubjectPublicKeyInfo>"/>
        <CreatedAt utc="..." jalali="..."/>
      </Body>
    </SessionKey>

- `PartsRelease`: one member's parts of every bid's key for that sitting, signed on the member's
  token: the parts as JSON {key id: base64 part}, encrypted with AES-256-GCM under a fresh key that is
  wrapped to the session key; the associated data binds tender, sitting and member.

    <PartsRelease xmlns="urn:tehran:eproc:session:1">
      <Body Id="body" version="1">
        <Sitting tender="..." session="opening" member="m3" session_key_sha256="<hex>"/>
        <Parts count="12" wrapped_key="<base64>" nonce="<base64>" ciphertext="<base64>"/>
      </Body>
    </PartsRelease>
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, time_attrs, version_of
from domain.reasons import DomainError, Reason

NS = "urn:tehran:eproc:session:1"
SESSIONS = ("opening", "price_opening")
_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,39}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SessionKeyContent:
    """The engine's key of a sitting: tender id, sitting (opening | price_opening), the RSA public key
    (DER SubjectPublicKeyInfo), the RSA-OAEP variant to wrap to it, and when it was made (aware UTC)."""

    tender_id: str
    session: str
    public_key_der: bytes
    mechanism: str
    created_at: datetime


@dataclass(frozen=True)
class PartsReleaseContent:
    """A member's release for a sitting: the session key it is wrapped to (SHA-256 of that signed
    document), how many parts, and the encrypted parts (wrapped AES key, nonce, ciphertext)."""

    tender_id: str
    session: str
    member_id: str
    session_key_sha256: str
    count: int
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes


def release_ad(tender_id: str, session: str, member_id: str) -> bytes:
    """Associated data of a release's ciphertext: the parts cannot be moved to another sitting or member."""
    return f"eproc-parts-release/1\x00{tender_id}\x00{session}\x00{member_id}".encode()


def _invalid(detail: str) -> DomainError:
    return DomainError(Reason.INVALID_INPUT, detail)


def _check_sitting(tender_id: str, session: str) -> None:
    if not tender_id or len(tender_id) > 64 or session not in SESSIONS:
        raise _invalid(f"جلسهٔ نامعتبر: «{tender_id[:64]}» / «{session[:20]}»")


def build_session_key(k: SessionKeyContent, version: int = 1) -> etree._Element:
    """The unsigned SessionKey document (the engine signs it). Raises: INVALID_INPUT. Rule: issue 12."""
    _check_sitting(k.tender_id, k.session)
    if not k.public_key_der or not k.mechanism:
        raise _invalid("کلید جلسه خالی است")
    root, body = new_document(NS, "SessionKey", version)
    sub(body, "Sitting", tender=k.tender_id, session=k.session)
    sub(body, "Key", mechanism=k.mechanism, public_key=base64.b64encode(k.public_key_der).decode("ascii"))
    sub(body, "CreatedAt", **time_attrs(k.created_at))
    return root


def build_parts_release(r: PartsReleaseContent, version: int = 1) -> etree._Element:
    """The unsigned PartsRelease document (the member signs it on their token). Raises: INVALID_INPUT.
    Rule: issue 12 (parts released for that sitting only, protected in transit)."""
    _check_sitting(r.tender_id, r.session)
    if not _MEMBER.match(r.member_id) or not _HEX64.match(r.session_key_sha256) or r.count < 0:
        raise _invalid("شناسهٔ عضو، چکیدهٔ کلید جلسه یا شمار سهم‌ها نامعتبر است")
    root, body = new_document(NS, "PartsRelease", version)
    sub(body, "Sitting", tender=r.tender_id, session=r.session, member=r.member_id,
        session_key_sha256=r.session_key_sha256)
    sub(body, "Parts", count=r.count, wrapped_key=_b64(r.wrapped_key), nonce=_b64(r.nonce),
        ciphertext=_b64(r.ciphertext))
    return root


def _body(doc: etree._Element, name: str) -> etree._Element:
    if doc.tag != f"{{{NS}}}{name}":
        raise DomainError(Reason.MALFORMED_XML, f"سند {name} نیست")
    try:
        if version_of(doc) != 1:
            raise ValueError
    except (TypeError, ValueError):
        raise DomainError(Reason.MALFORMED_XML, f"نسخهٔ سند {name} پشتیبانی نمی‌شود") from None
    return body_of(doc)


def _one(body: etree._Element, name: str) -> etree._Element:
    found = body.findall(f"{{{NS}}}{name}")
    if len(found) != 1:
        raise DomainError(Reason.MALFORMED_XML, f"سند باید دقیقاً یک {name} داشته باشد")
    return found[0]


def _unb64(value: str | None, what: str) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(Reason.MALFORMED_XML, f"«{what}» base64 نیست") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def read_session_key(doc: etree._Element) -> SessionKeyContent:
    """What a SessionKey document states. Raises: MALFORMED_XML, INVALID_INPUT. Rule: issue 12."""
    body = _body(doc, "SessionKey")
    sitting, key, created = _one(body, "Sitting"), _one(body, "Key"), _one(body, "CreatedAt")
    try:
        at = datetime.fromisoformat((created.get("utc") or "").replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(Reason.MALFORMED_XML, "زمان ساخت کلید جلسه خوانا نیست") from None
    content = SessionKeyContent(sitting.get("tender", ""), sitting.get("session", ""),
                                _unb64(key.get("public_key"), "public_key"), key.get("mechanism", ""), at)
    build_session_key(content)
    return content


def read_parts_release(doc: etree._Element) -> PartsReleaseContent:
    """What a PartsRelease document states. Raises: MALFORMED_XML, INVALID_INPUT. Rule: issue 12."""
    body = _body(doc, "PartsRelease")
    sitting, parts = _one(body, "Sitting"), _one(body, "Parts")
    count = parts.get("count", "")
    if not count.isascii() or not count.isdigit() or len(count) > 9:
        raise DomainError(Reason.MALFORMED_XML, "شمار سهم‌ها عدد نیست")
    content = PartsReleaseContent(sitting.get("tender", ""), sitting.get("session", ""), sitting.get("member", ""),
                                  sitting.get("session_key_sha256", ""), int(count),
                                  _unb64(parts.get("wrapped_key"), "wrapped_key"), _unb64(parts.get("nonce"), "nonce"),
                                  _unb64(parts.get("ciphertext"), "ciphertext"))
    build_parts_release(content)
    return content
