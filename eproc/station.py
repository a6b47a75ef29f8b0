"""A person's station speaking to the transactions system's API (issue 11 parts 3 and 4; "Stations
and trust"): the person's own token signs, nothing else does.

- `Station(server, token_label)`: logs in by signing the server's challenge on the token as
  `role@unit` (POST /v1/auth/challenge, /v1/auth/session), then sends state-changing requests as
  documents signed on the same token (`post_signed`) and reads with the session (`get`).
- `verify_notice`, `verify_receipt`: what a station checks in the engine's answers with the CA
  certificate only (the station has no registry): every signature valid and chained to the CA at its
  signing time, the claimed role the expected one (the notice: the unit's authorised signatory and
  the engine; a receipt: the engine), and the content the one expected.

Every refusal of the server arrives as the DomainError it stated (reason code, Persian detail); no
answer at all is STORE_UNREACHABLE.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from domain.clock import SystemClock
from domain.documents.notice import NoticeContent, read_notice
from domain.documents.receipt import NS as RECEIPT_NS, receipt_hashes
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services.auth import Challenge, sign_session_request
from services.signers import ENGINE_ROLE, ENGINE_UNIT, Signer
from services.tender.files import NOTICE_SIGNATORY
from signing.token import Token
from signing.verify import SignatureCheck, TrustStore, split_signer_ref, verify_document
from signing.xmldsig import signed_document_root

XML = {"content-type": "application/xml"}
CHUNK = 64 * 1024


def _unreachable(server: str, exc: Exception) -> DomainError:
    return DomainError(Reason.STORE_UNREACHABLE, f"سامانهٔ معاملات در {server} پاسخ نمی‌دهد ({type(exc).__name__})")


def checked(response: httpx.Response) -> httpx.Response:
    """`response` if it succeeded; otherwise the refusal the API stated, raised.

    Raises: the DomainError of the answer's {reason, message_fa, detail}; STORE_UNREACHABLE for an
    answer that is not the API's."""
    if response.status_code < 400:
        return response
    try:
        body = response.json()
        reason = Reason(body["reason"])
    except (ValueError, KeyError, TypeError):
        raise DomainError(Reason.STORE_UNREACHABLE, f"پاسخ {response.status_code} از سامانه خوانا نیست") from None
    raise DomainError(reason, str(body.get("detail") or ""))


class Api:
    """An anonymous client of the API at `server` (public reads: the notice, the CA certificate)."""

    def __init__(self, server: str, *, timeout: float = 120.0, transport: httpx.BaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self.client = httpx.Client(base_url=self.server, timeout=timeout, transport=transport)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; its refusal raised (`checked`).

        Raises: the API's DomainError; STORE_UNREACHABLE when nothing answers."""
        try:
            return checked(self.client.request(method, path, **kwargs))
        except httpx.TransportError as exc:
            raise _unreachable(self.server, exc) from None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def ca_pem(self) -> bytes:
        """The CA certificate the server states (GET /v1/trust/ca)."""
        return self.get("/v1/trust/ca").content

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def token_signer(label: str, key_label: str = "sign") -> Signer:
    """The person on the token `label`: their certificate (from the token) and national ID (its
    subject's serialNumber). The PIN: EPROC_TOKEN_PIN_<LABEL>, EPROC_TOKEN_PIN, else a prompt.

    Raises: TOKEN_NOT_FOUND (no such token, or no certificate under `key_label`), TOKEN_PIN_INVALID."""
    with Token(label) as tok:
        der = tok.certificate(key_label)
    if der is None:
        raise DomainError(Reason.TOKEN_NOT_FOUND, f"گواهی روی توکن «{label}» نیست")
    cert = x509.load_der_x509_certificate(der)
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        raise DomainError(Reason.TOKEN_NOT_FOUND, f"گواهی توکن «{label}» کد ملی ندارد")
    return Signer(str(values[0].value), label, key_label, cert)


class Station(Api):
    """The API as one person reaches it with their own token (`token_label`, key `key_label`)."""

    def __init__(self, server: str, token_label: str, key_label: str = "sign", **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.signer = token_signer(token_label, key_label)
        self.clock = SystemClock()
        self.role = self.unit = ""

    @property
    def national_id(self) -> str:
        return self.signer.national_id

    def login(self, role: str, unit: str) -> Station:
        """Open a session as `role@unit`: the server's challenge signed on the token.

        Raises: NOT_AUTHENTICATED, NOT_AUTHORISED (the registry does not give the role), the signature's
        reasons, STORE_UNREACHABLE, TOKEN_* (the token)."""
        body = self.request("POST", "/v1/auth/challenge", json={"national_id": self.national_id}).json()
        challenge = Challenge(body["challenge_id"], body["nonce"], self.national_id,
                              datetime.fromisoformat(body["expires_at"]))
        answer = sign_session_request(self.signer, self.clock, challenge, role, unit)
        token = self.request("POST", "/v1/auth/session", content=answer, headers=XML).json()["token"]
        self.client.headers["authorization"] = f"Bearer {token}"
        self.role, self.unit = role, unit
        return self

    def sign(self, doc: etree._Element) -> bytes:
        """`doc` signed on the token as the session's role@unit (a SignedDocument, UTF-8 bytes)."""
        return etree.tostring(self.signer.sign(doc, self.clock, self.role, self.unit), xml_declaration=True,
                              encoding="UTF-8")

    def post_signed(self, path: str, doc: etree._Element) -> httpx.Response:
        """POST `doc`, signed on the token as the session's role@unit, to `path`.

        Raises: the API's refusal; STORE_UNREACHABLE."""
        return self.request("POST", path, content=self.sign(doc), headers=XML)

    def upload(self, path: str, file: Path) -> httpx.Response:
        """POST the file's bytes to `path`, streamed in 64 KiB chunks (never read whole here).

        Raises: the API's refusal; STORE_UNREACHABLE."""
        def chunks() -> Iterator[bytes]:
            with file.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        return self.request("POST", path, content=chunks(), headers={"content-type": "application/octet-stream"})


# --- what a station checks in the engine's answers ---------------------------------------------------

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
