"""Who signs and unlocks: people's tokens, the engine's own token, trust and role checks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree
from sqlalchemy.orm import sessionmaker

from domain.clock import Clock
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from services.certificate_registry import SqlCertificateRegistry
from signing.keytransport import WrappedSecret, unwrap_secret, wrap_secret
from signing.token import Token
from signing.verify import TrustStore, make_signer_ref
from signing.xmldsig import sign_document
from store.uow import UnitOfWork

RoleCheck = Callable[[str, str, str, datetime], bool]
COMPANY_SIGNATORY = "company_signatory"


@dataclass(frozen=True)
class Signer:
    """A person's token as the engine reaches it; the PIN is resolved by signing.token (env/prompt)."""

    national_id: str
    token_label: str
    key_label: str
    cert: x509.Certificate
    pin: str | None = None

    def sign(self, doc: etree._Element, clock: Clock, role: str, unit: str) -> etree._Element:
        with Token(self.token_label, pin=self.pin) as token:
            return sign_document(doc, token, self.key_label, self.cert, clock, make_signer_ref(role, unit))

    def unwrap(self, wrapped: dict) -> bytes:
        with Token(self.token_label, pin=self.pin) as token:
            return unwrap_secret(token, self.key_label, WrappedSecret.from_dict(wrapped))


class Signers:
    """person national ID -> Signer. In production each member signs at their own machine; the
    pilot and the tests hold every simulated token on this machine."""

    def __init__(self) -> None:
        self._by_nid: dict[str, Signer] = {}

    def add(self, signer: Signer) -> None:
        self._by_nid[signer.national_id] = signer

    def get(self, national_id: str) -> Signer:
        try:
            return self._by_nid[national_id]
        except KeyError:
            raise DomainError(Reason.TOKEN_NOT_FOUND, f"توکن شخص {national_id} در دسترس نیست") from None

    def __contains__(self, national_id: str) -> bool:
        return national_id in self._by_nid


def role_checker(sessions: sessionmaker) -> RoleCheck:
    """Roles live in the registry, not in certificates: checked at the signing time (Tehran day)."""

    def check(national_id: str, role: str, unit: str, at: datetime) -> bool:
        day = to_tehran(at).date()
        with UnitOfWork(sessions) as uow:
            if role == COMPANY_SIGNATORY:
                company = uow.companies.get(unit)
                return company is not None and company.ceo_national_id == national_id
            return uow.roles.holds(national_id, role, unit, day)

    return check


def trust_store(ca_cert: x509.Certificate, sessions: sessionmaker) -> TrustStore:
    """The trust anchors (the municipal CA) with revocations from the certificate registry."""
    return TrustStore.from_registry([ca_cert], SqlCertificateRegistry(sessions))


def current_certificate(sessions: sessionmaker, national_id: str, at: datetime) -> tuple[x509.Certificate, str] | None:
    """The person's newest certificate valid and unrevoked at `at`, with its key-transport mechanism."""
    with UnitOfWork(sessions) as uow:
        rows = sorted(uow.certificates.for_person(national_id), key=lambda r: r.not_before, reverse=True)
        for row in rows:
            if row.not_before <= at < row.not_after and (row.revoked_at is None or row.revoked_at > at):
                return x509.load_pem_x509_certificate(row.pem.encode("ascii")), row.key_transport or ""
    return None


class CertKeyWrapper:
    """sealing.KeyWrapper: wraps a share to each recipient's certified token key (public key only)."""

    def __init__(self, recipients: dict[str, tuple[x509.Certificate, str]]) -> None:
        self._recipients = recipients

    def wrap(self, recipient_id: str, secret: bytes) -> dict:
        cert, mechanism = self._recipients[recipient_id]
        return wrap_secret(cert, secret, mechanism or "RSA_PKCS_OAEP_SHA1").to_dict()


class TokenShareUnwrapper:
    """sealing.ShareUnwrapper: each present member unlocks their share on their own token."""

    def __init__(self, signers_by_member: dict[str, Signer]) -> None:
        self._signers = signers_by_member

    def unwrap(self, recipient_id: str, wrapped: dict) -> bytes:
        return self._signers[recipient_id].unwrap(wrapped)
