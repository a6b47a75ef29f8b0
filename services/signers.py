"""Who signs and unlocks: people's tokens, the engine's own token, trust and role checks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from lxml import etree

from domain.clock import Clock
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from signing.keytransport import WrappedSecret, unwrap_secret, wrap_secret
from signing.token import Token
from signing.verify import TrustStore, make_signer_ref, split_signer_ref
from signing.xmldsig import sign_document, signature_elements, signature_info

# The store is imported where a check reads it: a station's tools use Signer without any database.
if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from store.uow import UnitOfWork

RoleCheck = Callable[[str, str, str, datetime], bool]
COMPANY_SIGNATORY = "company_signatory"
# The transactions system signs as this role of this unit (receipts, notices, audit checkpoints).
ENGINE_ROLE, ENGINE_UNIT = "transactions_system", "municipality"


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

    def unwrap_many(self, wrapped: list[dict]) -> list[bytes]:
        """Each secret of `wrapped` unwrapped on the token in one session (a member's parts of every bid).

        Raises: TOKEN_NOT_FOUND, TOKEN_PIN_INVALID, INVALID_INPUT (a part not for this key)."""
        with Token(self.token_label, pin=self.pin) as token:
            return [unwrap_secret(token, self.key_label, WrappedSecret.from_dict(w)) for w in wrapped]


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


def holds_role(uow: UnitOfWork, national_id: str, role: str, unit: str, at: datetime) -> bool:
    """Does the registry give `national_id` the role `role` in `unit` at `at` (its Tehran day)? A
    company's signatory is the company's registered CEO (`unit` = the company's national ID).
    Roles live in the registry, not in certificates (R05; "Stations and trust")."""
    if role == COMPANY_SIGNATORY:
        company = uow.companies.get(unit)
        return company is not None and company.ceo_national_id == national_id
    return uow.roles.holds(national_id, role, unit, to_tehran(at).date())


def role_checker(sessions: sessionmaker) -> RoleCheck:
    """Roles live in the registry, not in certificates: checked at the signing time (Tehran day)."""

    from store.uow import UnitOfWork

    def check(national_id: str, role: str, unit: str, at: datetime) -> bool:
        with UnitOfWork(sessions) as uow:
            return holds_role(uow, national_id, role, unit, at)

    return check


@dataclass(frozen=True)
class SignerFacts:
    """What the registry and the recorded CRLs say about a document's signers, read in one unit of
    work together with the caller's other reads (a bid's submission): role answers keyed by
    (national ID, role, unit) at one time, and the recorded CRLs of each signer's certificate serial.
    `role_check` and `trust` answer from them and fall back to the store for anything else, so
    verification judges exactly as `role_checker` and `trust_store` would at that moment."""

    at: datetime
    roles: dict[tuple[str, str, str], bool]
    crls: dict[int, list[bytes]]

    def role_check(self, sessions: sessionmaker) -> RoleCheck:
        fallback = role_checker(sessions)

        def check(national_id: str, role: str, unit: str, at: datetime) -> bool:
            known = self.roles.get((national_id, role, unit)) if at == self.at else None
            return known if known is not None else fallback(national_id, role, unit, at)

        return check

    def trust(self, ca_cert: x509.Certificate, sessions: sessionmaker) -> TrustStore:
        from services.certificate_registry import SqlCertificateRegistry

        fallback = SqlCertificateRegistry(sessions).revocation_lists

        def crl_source(serial: int) -> list[bytes]:
            known = self.crls.get(serial)
            return list(known) if known is not None else fallback(serial)

        return TrustStore([ca_cert], crl_source=crl_source)


def read_signer_facts(uow: UnitOfWork, signed: etree._Element, at: datetime) -> SignerFacts:
    """The registry's and the recorded CRLs' answers for every signature of the parsed document
    `signed` whose signer can be read (role claimed in it, at `at`; the leaf certificate's serial),
    inside the caller's unit of work. Unreadable signatures are left out (verification refuses them).

    Raises: nothing."""
    from services.certificate_registry import revocation_records

    roles: dict[tuple[str, str, str], bool] = {}
    crls: dict[int, list[bytes]] = {}
    for i, sig in enumerate(signature_elements(signed)):
        try:
            info = signature_info(sig, i)
        except DomainError:
            continue
        role, unit = split_signer_ref(info.signer_ref)
        if role and (info.national_id, role, unit) not in roles:
            roles[(info.national_id, role, unit)] = holds_role(uow, info.national_id, role, unit, at)
        if info.serial not in crls:
            crls[info.serial] = revocation_records(uow, info.serial)
    return SignerFacts(at, roles, crls)


def trust_store(ca_cert: x509.Certificate, sessions: sessionmaker) -> TrustStore:
    """The trust anchor (the municipal CA) with revocations taken only from CA-signed CRLs (R05;
    "Stations and trust": revocation is judged from the CA-signed CRL, not from a database column).

    Where the CRLs come from, and why there: every CRL the CA signs (`eproc ca revoke`, `eproc ca
    crl`, the pilot's revocation event) is recorded by services.certificate_registry in the
    append-only, hash-chained audit log, once under each serial it newly lists, and is verified
    again here on every load (signature by `ca_cert`, thisUpdate/nextUpdate, the serial listed:
    signing.verify.verified_crl). The store copy rather than the CA directory's crl.pem, because
    - the engine's processes need no path to the CA's files (workers, pilots and tests all reach
      the same store), and the CA's signature makes the copy as good as the file;
    - records are per serial, so a revocation once published cannot be undone by anything an
      insider can append: an older genuine CRL (which does not list the serial) appended later is
      not read in place of the first record, and a forged or mismatching record makes the check
      CERT_UNTRUSTED (fail closed) rather than being skipped. Deleting or rewriting a record means
      rewriting the audit chain, which the published checkpoints expose (`eproc audit verify`);
    - a later CRL cannot drop a serial either: the CA carries every entry of its previous CRL into
      the next (signing.ca.MunicipalCA.crl), whatever the `certificates.revoked_at` column says.
    Freshness (nextUpdate) is not required: a listed revocation stays a fact whatever the CRL's
    age, and absence is concluded only from the records of every CRL the CA signed.
    `certificates.revoked_at` is never read here.

    Raises: nothing here; the returned store's `revoked_at` raises CERT_UNTRUSTED for a forged record,
    which signing.verify.check_signature reports as that signature's reason."""
    from services.certificate_registry import SqlCertificateRegistry

    return TrustStore([ca_cert], crl_source=SqlCertificateRegistry(sessions).revocation_lists)


def current_certificate(sessions: sessionmaker, national_id: str, at: datetime,
                        trust: TrustStore | None = None) -> tuple[x509.Certificate, str] | None:
    """The person's newest certificate valid and unrevoked at `at`, with its key-transport mechanism.

    With `trust` (trust_store), revocation comes from the CA-signed CRLs, as verification judges it;
    without it, from the registry's `revoked_at` column (a hint for choosing a token only: every
    signature made with the certificate is verified against the CRL anyway).

    Raises: CERT_UNTRUSTED when `trust` finds a forged CRL record for one of the certificates."""
    from store.uow import UnitOfWork

    with UnitOfWork(sessions) as uow:
        rows = sorted(uow.certificates.for_person(national_id), key=lambda r: r.not_before, reverse=True)
        found = [(x509.load_pem_x509_certificate(r.pem.encode("ascii")), r.key_transport or "", r.revoked_at)
                 for r in rows if r.not_before <= at < r.not_after]
    for cert, mechanism, column in found:
        revoked = trust.revoked_at(cert.serial_number) if trust is not None else column
        if revoked is None or revoked > at:
            return cert, mechanism
    return None


class CertKeyWrapper:
    """sealing.KeyWrapper: wraps a share to each recipient's certified token key (public key only)."""

    def __init__(self, recipients: dict[str, tuple[x509.Certificate, str]]) -> None:
        self._recipients = recipients

    @classmethod
    def from_der(cls, certificates: dict[str, tuple[str, str]]) -> CertKeyWrapper:
        """From member id -> (certificate DER in base64, RSA-OAEP variant), as the seats and the signed
        notice state them. Raises: INVALID_INPUT (a certificate that does not parse)."""
        import base64

        out: dict[str, tuple[x509.Certificate, str]] = {}
        for mid, (der_b64, mechanism) in certificates.items():
            try:
                out[mid] = (x509.load_der_x509_certificate(base64.b64decode(der_b64, validate=True)), mechanism)
            except ValueError:
                raise DomainError(Reason.INVALID_INPUT, f"گواهی عضو «{mid}» خوانا نیست") from None
        return cls(out)

    def wrap(self, recipient_id: str, secret: bytes) -> dict:
        cert, mechanism = self._recipients[recipient_id]
        return wrap_secret(cert, secret, mechanism or "RSA_PKCS_OAEP_SHA1").to_dict()
