"""The login document of the transactions-system API (issue 11, part 2): a person answers the server's
challenge by signing, on their own token, a document that names the challenge, its nonce, who they
are and the role and unit they act in.

    <SessionRequest xmlns="urn:tehran:eproc:auth-session:1">
      <Body Id="body" version="1">
        <Challenge id="3f2a..." nonce="q8Zr..."/>
        <Person national_id="5260181591"/>
        <Acting role="deputy" unit="district-12"/>
      </Body>
    </SessionRequest>

It is wrapped and signed like every other document (signing.xmldsig: a SignedDocument with one
signature whose claimed role is `role@unit`); the server checks the signature, chain, CRL and the
registry role at the time it receives it (services.auth).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, version_of
from domain.reasons import DomainError, Reason

NS = "urn:tehran:eproc:auth-session:1"
ROOT = "SessionRequest"
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")  # challenge ids and nonces: URL-safe, random
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")        # registry roles: chair, deputy, company_signatory...
_UNIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")  # unit ids, or a company's national ID


@dataclass(frozen=True)
class SessionRequest:
    """What a login document states: the challenge answered (`challenge_id`, `nonce`), the person's
    national ID, and the role and unit they ask to act in."""

    challenge_id: str
    nonce: str
    national_id: str
    role: str
    unit: str


def _checked(req: SessionRequest) -> SessionRequest:
    if not _TOKEN.match(req.challenge_id) or not _TOKEN.match(req.nonce):
        raise DomainError(Reason.INVALID_INPUT, "شناسه یا رشتهٔ یک‌بارمصرف چالش ورود نامعتبر است")
    if not re.fullmatch(r"\d{10}", req.national_id):
        raise DomainError(Reason.INVALID_INPUT, f"کد ملی سند ورود باید ۱۰ رقم باشد: «{req.national_id[:20]}»")
    if not _ROLE.match(req.role) or not _UNIT.match(req.unit):
        raise DomainError(Reason.INVALID_INPUT, "سمت یا واحد سند ورود نامعتبر است")
    return req


def build_session_request(req: SessionRequest, version: int = 1) -> etree._Element:
    """The unsigned login document of `req` (to be signed on the person's token as `role@unit`).

    Raises: INVALID_INPUT (challenge id or nonce not 16-64 URL-safe characters, national ID not ten
    ASCII digits, role or unit not a registry identifier). Rule: issue 11 part 2 (authentication by
    token); "Stations and trust" in tender-rules.md."""
    _checked(req)
    root, body = new_document(NS, ROOT, version)
    sub(body, "Challenge", id=req.challenge_id, nonce=req.nonce)
    sub(body, "Person", national_id=req.national_id)
    sub(body, "Acting", role=req.role, unit=req.unit)
    return root


def read_session_request(doc: etree._Element) -> SessionRequest:
    """What the login document `doc` (the canonical document inside the signed envelope) states.

    Raises: MALFORMED_XML when it is not a version-1 SessionRequest with exactly one Challenge,
    Person and Acting element; INVALID_INPUT when a value is malformed (see build_session_request).
    Rule: issue 11 part 2."""
    if doc.tag != f"{{{NS}}}{ROOT}":
        raise DomainError(Reason.MALFORMED_XML, "سند ورود SessionRequest نیست")
    body = body_of(doc)
    try:
        version = version_of(doc)
    except (TypeError, ValueError):
        raise DomainError(Reason.MALFORMED_XML, "نسخهٔ سند ورود خوانا نیست") from None
    if version != 1:
        raise DomainError(Reason.MALFORMED_XML, f"نسخهٔ سند ورود پشتیبانی نمی‌شود: {version}")

    def one(name: str) -> etree._Element:
        found = body.findall(f"{{{NS}}}{name}")
        if len(found) != 1:
            raise DomainError(Reason.MALFORMED_XML, f"سند ورود باید دقیقاً یک {name} داشته باشد")
        return found[0]

    challenge, person, acting = one("Challenge"), one("Person"), one("Acting")
    return _checked(SessionRequest(challenge.get("id", ""), challenge.get("nonce", ""),
                                   person.get("national_id", ""), acting.get("role", ""), acting.get("unit", "")))
