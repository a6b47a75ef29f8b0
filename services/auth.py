"""Authentication by token for the transactions-system API (issue 11, part 2; "Stations and trust").

A person proves who they are the way they sign everything else: with the key on their own token.
1. `issue_challenge`: the server stores a random nonce for the person's national ID, single use,
   answerable for `SessionKeys.challenge_lifetime` (the `auth_challenges` table, so any of several
   API processes behind the proxy can take the answer).
2. The person signs a login document naming the challenge, the nonce and the role and unit they act
   in (domain.documents.auth; `sign_session_request` on their station).
3. `open_session`: the server takes the challenge (once), verifies the signature at the time it
   received it — chain to the municipal CA, the CA-signed CRL, the claimed signing time within the
   policy's skew, and the registry role for that unit and date — and issues a short-lived session
   token (PyJWT, HS256, claims national_id, role, unit, iat, exp, jti).
4. Every state-changing request is itself a document signed on the actor's token, verified at
   receipt by `verify_actor_document` (api.signed).

Every document the API receives is verified through `verify_at_receipt`, the one call of
signing.verify.verify_document on this path.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import jwt
from lxml import etree

from domain.clock import Clock
from domain.documents.auth import SessionRequest, build_session_request, read_session_request
from domain.identity import validate_national_id
from domain.persian import format_jalali_date, to_tehran
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services.signers import Signer, trust_store
from signing.verify import SignatureCheck, split_signer_ref, verify_document
from signing.xmldsig import signature_elements, signed_document_root

if TYPE_CHECKING:  # the server's side only: a station signs its session request without any store
    from services.deps import Deps

ALGORITHM = "HS256"
ISSUER = "eproc-transactions-system"
CLAIMS = ("national_id", "role", "unit", "iat", "exp", "jti")
PURGE_AFTER = timedelta(hours=1)  # expired challenges are kept this long, to say "expired" rather than "unknown"


@dataclass(frozen=True)
class SessionKeys:
    """How sessions are made: the HS256 `secret` (config.settings.Settings.session_secret), the
    session token's `lifetime` and how long a challenge may be answered."""

    secret: str
    lifetime: timedelta
    challenge_lifetime: timedelta


@dataclass(frozen=True)
class Challenge:
    """A login challenge: answer it by signing `nonce` before `expires_at` (aware UTC)."""

    challenge_id: str
    nonce: str
    national_id: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionClaims:
    """Who a valid session token speaks for: the person, the role and unit the registry granted at
    login, until `expires_at` (aware UTC); `session_id` is the token's jti."""

    national_id: str
    role: str
    unit: str
    expires_at: datetime
    session_id: str


@dataclass(frozen=True)
class Session:
    """A session token (`token`, sent as `Authorization: Bearer <token>`) and what it states."""

    token: str
    claims: SessionClaims


@dataclass(frozen=True)
class VerifiedDocument:
    """A request document verified at receipt: `xml` exactly as received (its SHA-256 hex in
    `sha256`), `root` the canonical document inside the signed envelope (of kind `kind`), `check`
    the actor's signature (the last one, valid), `checks` every signature in document order,
    `received_at` (aware UTC) the time it was judged at."""

    kind: str
    xml: bytes
    sha256: str
    root: etree._Element
    check: SignatureCheck
    checks: list[SignatureCheck]
    received_at: datetime

    @property
    def national_id(self) -> str:
        return self.check.national_id

    @property
    def role(self) -> str:
        return self.check.role

    @property
    def unit(self) -> str:
        return self.check.unit


def _not_authenticated(detail: str) -> DomainError:
    return DomainError(Reason.NOT_AUTHENTICATED, detail)


def verify_at_receipt(deps: Deps, xml: bytes, required: list[tuple[str, str]] | None,
                      received_at: datetime) -> list[SignatureCheck]:
    """One SignatureCheck per signature of the SignedDocument `xml`, judged at `received_at` (aware
    UTC, the engine's clock when the document arrived): signature, chain to `deps.ca_cert`, the
    claimed signing time within the policy's skew (SIGNING_TIME_SKEW), validity, revocation from the
    CA-signed CRLs, and the registry role for the claimed unit at that time (`required`: the
    (role, unit) pairs that may sign). The single call of signing.verify.verify_document for
    documents the API receives.

    Raises: MALFORMED_XML (not one safe, well-formed SignedDocument). Rule: "Stations and trust"
    (tender-rules.md), R05."""
    return verify_document(xml, trust_store(deps.ca_cert, deps.sessions), deps.role_check, required,
                           received_at=received_at, max_skew=deps.policy.signing_time_skew())


def issue_challenge(deps: Deps, keys: SessionKeys, national_id: str) -> Challenge:
    """A new single-use challenge for the person `national_id` (Persian or ASCII digits), stored
    until it expires; challenges that expired over an hour ago are purged on the way.

    Nothing is said about whether the person is in the registry (that is judged when the signed
    answer arrives), so the endpoint does not tell strangers who is registered.

    Raises: INVALID_INPUT (not a valid national ID). Rule: issue 11 part 2."""
    from store import models

    nid = validate_national_id(national_id)
    now = deps.clock.now()
    challenge = Challenge(secrets.token_hex(16), secrets.token_urlsafe(32), nid, now + keys.challenge_lifetime)
    with deps.uow() as uow:
        uow.challenges.purge(now - PURGE_AFTER)
        uow.challenges.add(models.AuthChallenge(id=challenge.challenge_id, national_id=nid, nonce=challenge.nonce,
                                           issued_at=now, expires_at=challenge.expires_at))
        uow.commit()
    return challenge


def _take_challenge(deps: Deps, req: SessionRequest, received_at: datetime) -> None:
    """Use up the challenge `req` answers; refuse unless it was unused, unexpired, for this person
    and with this nonce. Taken (and committed) even when the rest fails: a challenge is never
    answered twice."""
    with deps.uow() as uow:
        row = uow.challenges.take(req.challenge_id, received_at)
        if row is None:
            known = uow.challenges.get(req.challenge_id)
            if known is None:
                raise _not_authenticated("چالش ورود ناشناخته است")
            if known.used_at is not None:
                raise _not_authenticated("چالش ورود پیش‌تر پاسخ داده شده است")
            raise _not_authenticated("مهلت پاسخ به چالش ورود گذشته است")
        uow.commit()
    if row.national_id != req.national_id or not hmac.compare_digest(row.nonce.encode(), req.nonce.encode()):
        raise _not_authenticated("چالش ورود از آنِ این شخص نیست یا رشتهٔ یک‌بارمصرف آن نادرست است")


def _one_signature(doc: etree._Element) -> None:
    count = len(signature_elements(doc))
    if count == 0:
        raise _not_authenticated("سند امضا نشده است")
    if count != 1:
        raise _not_authenticated("سند ورود باید دقیقاً یک امضا داشته باشد")


def _judge(check: SignatureCheck, national_id: str, at: datetime, required: list[tuple[str, str]]) -> None:
    """The actor's signature: every check passed, by `national_id`, claiming one of `required`
    (role, unit) that the registry gives them at `at`."""
    if check.reason is not None and check.reason is not Reason.SIGNER_NOT_IN_ROLE:
        raise DomainError(check.reason, "امضای سند درخواست")
    if check.national_id != national_id:
        raise _not_authenticated("امضاکنندهٔ سند همان شخص نشست نیست")
    role, unit = split_signer_ref(check.signer_ref)
    if (role, unit) not in required:
        wanted = "، ".join(f"{r}@{u}" for r, u in required)
        raise DomainError(Reason.NOT_AUTHORISED, f"سند با سمت «{role}@{unit}» امضا شده است؛ لازم: {wanted}")
    if check.reason is Reason.SIGNER_NOT_IN_ROLE:
        raise DomainError(Reason.NOT_AUTHORISED, f"سمت «{role}» در واحد «{unit}» در تاریخ "
                                                 f"{format_jalali_date(to_tehran(at).date())} در ثبت سمت‌ها نیست")


def open_session(deps: Deps, keys: SessionKeys, xml: bytes, received_at: datetime) -> Session:
    """A session token for the person who signed the login document `xml` (a SignedDocument around
    a SessionRequest, domain.documents.auth), received at `received_at` (aware UTC). The challenge
    is used up first; then the signature is verified at `received_at` (`verify_at_receipt`) with the
    requested (role, unit) as the only acceptable claim. Issued sessions and refusals after a
    genuine challenge are audited ("auth.session").

    Raises: MALFORMED_XML (not a SignedDocument around a SessionRequest); INVALID_INPUT (a malformed
    value); NOT_AUTHENTICATED (unsigned, more than one signature, unknown/used/expired challenge,
    wrong nonce or person, a signer other than the challenge's person); SIGNATURE_INVALID,
    CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, SIGNING_TIME_SKEW (the signature's own checks);
    NOT_AUTHORISED (the registry does not give the person that role in that unit on that day).
    Rule: issue 11 part 2; "Stations and trust"; R05."""
    doc = parse_untrusted(xml)
    req = read_session_request(signed_document_root(doc))
    _one_signature(doc)
    _take_challenge(deps, req, received_at)
    try:
        checks = verify_at_receipt(deps, xml, [(req.role, req.unit)], received_at)
        _judge(checks[0], req.national_id, received_at, [(req.role, req.unit)])
    except DomainError as exc:
        from store.uow import record_refusal

        record_refusal(deps.sessions, exc, at=received_at, actor=req.national_id, action="auth.session",
                       entity="person", entity_id=req.national_id,
                       payload={"role": req.role, "unit": req.unit, "challenge": req.challenge_id})
        raise
    claims = SessionClaims(req.national_id, req.role, req.unit,
                           received_at.replace(microsecond=0) + keys.lifetime, secrets.token_hex(16))
    token = jwt.encode({"iss": ISSUER, "national_id": claims.national_id, "role": claims.role, "unit": claims.unit,
                        "iat": int(received_at.timestamp()), "exp": int(claims.expires_at.timestamp()),
                        "jti": claims.session_id}, keys.secret, algorithm=ALGORITHM)
    with deps.uow() as uow:
        uow.record(at=received_at, actor=req.national_id, action="auth.session", entity="person",
                   entity_id=req.national_id,
                   payload={"role": req.role, "unit": req.unit, "session": claims.session_id,
                            "expires_at": claims.expires_at.isoformat(), "cert_serial": f"{checks[0].cert_serial:x}"})
        uow.commit()
    return Session(token, claims)


def read_session_token(keys: SessionKeys, token: str, at: datetime) -> SessionClaims:
    """What the session token `token` states, if the engine issued it (HS256 with `keys.secret`, our
    issuer, every claim present) and it has not expired at `at` (the engine's clock, aware UTC;
    PyJWT's own expiry check reads the wall clock, so expiry is judged here instead).

    Raises: NOT_AUTHENTICATED (missing, forged, malformed or expired). Rule: issue 11 part 2."""
    if not token:
        raise _not_authenticated("توکن نشست همراه درخواست نیست")
    try:
        payload = jwt.decode(token, keys.secret, algorithms=[ALGORITHM], issuer=ISSUER,
                             options={"require": list(CLAIMS), "verify_exp": False, "verify_iat": False,
                                      "verify_nbf": False})
        expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=timezone.utc)
        claims = SessionClaims(str(payload["national_id"]), str(payload["role"]), str(payload["unit"]),
                               expires_at, str(payload["jti"]))
    except (jwt.InvalidTokenError, TypeError, ValueError, OverflowError):
        raise _not_authenticated("توکن نشست نامعتبر است") from None
    if at >= claims.expires_at:
        raise _not_authenticated("نشست منقضی شده است؛ دوباره با توکن وارد شوید")
    return claims


def verify_actor_document(deps: Deps, xml: bytes, kind: str, national_id: str, received_at: datetime,
                          required: list[tuple[str, str]]) -> VerifiedDocument:
    """The state-changing request document `xml`, signed on the actor's token, verified at
    `received_at` (aware UTC): its canonical document is of kind `kind` (local name of the root, or
    "{namespace}Name"), its last signature is by `national_id` claiming one of `required` (role,
    unit) and passes every check of `verify_at_receipt`. Earlier signatures (a document others signed
    first) are returned in `checks` for the caller to judge.

    Raises: MALFORMED_XML (not a SignedDocument); INVALID_INPUT (another kind of document);
    NOT_AUTHENTICATED (unsigned, or the last signer is not the session's person); SIGNATURE_INVALID,
    CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, SIGNING_TIME_SKEW; NOT_AUTHORISED (the claimed role
    is not one of `required`, or the registry does not give it for that unit and day).
    Rule: issue 11 part 2 ("every state-changing request is itself a document signed on the actor's
    token and verified at receipt"); "Stations and trust"; R05."""
    doc = parse_untrusted(xml)
    root = signed_document_root(doc)
    name = root.tag if kind.startswith("{") else etree.QName(root).localname
    if name != kind:
        raise DomainError(Reason.INVALID_INPUT, f"سند درخواست باید «{kind}» باشد، نه «{etree.QName(root).localname}»")
    if not signature_elements(doc):
        raise _not_authenticated("سند درخواست امضا نشده است")
    checks = verify_at_receipt(deps, xml, required, received_at)
    check = checks[-1]
    _judge(check, national_id, received_at, required)
    return VerifiedDocument(kind, xml, hashlib.sha256(xml).hexdigest(), root, check, checks, received_at)


def sign_session_request(signer: Signer, clock: Clock, challenge: Challenge, role: str, unit: str) -> bytes:
    """The person's answer to `challenge`, signed on their token as `role@unit` (their station's
    side of the login; the PIN is resolved by signing.token).

    Raises: INVALID_INPUT (a malformed value), TOKEN_NOT_FOUND, TOKEN_PIN_INVALID. Rule: issue 11 part 2."""
    doc = build_session_request(SessionRequest(challenge.challenge_id, challenge.nonce, signer.national_id,
                                               role, unit))
    return etree.tostring(signer.sign(doc, clock, role, unit))
