"""A person's station speaking to the transactions system's API (issue 11 parts 3, 4 and 6; "Stations
and trust"): the person's own token signs, nothing else does.

- `Api(server)`: an anonymous client (public reads: the notice, the CA certificate).
- `Station(server, token_label)`: logs in by signing the server's challenge on the token as
  `role@unit` (POST /v1/auth/challenge, /v1/auth/session), then sends state-changing requests as
  documents signed on the same token (`post_signed`) and reads with the session (`get`).

`client=` puts any httpx.Client underneath (a rehearsal passes an in-process transport to the same
API); `clock=` is the station's clock (a rehearsal's simulated clock); `pin=` the token's PIN when it
does not come from the environment or a prompt (signing.token.resolve_pin).

Every refusal of the server arrives as the DomainError it stated (reason code, Persian detail); no
answer at all is STORE_UNREACHABLE.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from domain.clock import Clock, SystemClock
from domain.reasons import DomainError, Reason
from services.auth import Challenge, sign_session_request
from services.signers import Signer
from signing.token import Token

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

    def __init__(self, server: str, *, timeout: float = 120.0, transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None) -> None:
        self.server = server.rstrip("/")
        self.client = client or httpx.Client(base_url=self.server, timeout=timeout, transport=transport)

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

    def __enter__(self) -> Self:  # a Station's `with` gives the Station
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def token_signer(label: str, key_label: str = "sign", pin: str | None = None) -> Signer:
    """The person on the token `label`: their certificate (from the token) and national ID (its
    subject's serialNumber). The PIN: `pin`, else EPROC_TOKEN_PIN_<LABEL>, EPROC_TOKEN_PIN, else a prompt.

    Raises: TOKEN_NOT_FOUND (no such token, or no certificate under `key_label`), TOKEN_PIN_INVALID."""
    with Token(label, pin=pin) as tok:
        der = tok.certificate(key_label)
    if der is None:
        raise DomainError(Reason.TOKEN_NOT_FOUND, f"گواهی روی توکن «{label}» نیست")
    cert = x509.load_der_x509_certificate(der)
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        raise DomainError(Reason.TOKEN_NOT_FOUND, f"گواهی توکن «{label}» کد ملی ندارد")
    return Signer(str(values[0].value), label, key_label, cert, pin)


class Station(Api):
    """The API as one person reaches it with their own token (`token_label`, key `key_label`)."""

    def __init__(self, server: str, token_label: str, key_label: str = "sign", *, pin: str | None = None,
                 clock: Clock | None = None, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.signer = token_signer(token_label, key_label, pin)
        self.clock: Clock = clock or SystemClock()
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
