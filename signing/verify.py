"""Verification of signed documents, one reason code per failed check.

For every ds:Signature in a SignedDocument (see signing.xmldsig), in this order:
1. the signature itself: strict profile (exclusive C14N, rsa-sha256/384/512, exactly the
   two references "#content" and its own SignedProperties, matching certificate digest),
   digests and signature value                                  -> SIGNATURE_INVALID
2. the certificate chains to a configured trust anchor           -> CERT_UNTRUSTED
3. every certificate on the path was valid at the signing time   -> CERT_EXPIRED
4. the certificate was not revoked at or before the signing time -> CERT_REVOKED
5. the signer held the claimed role in the unit on that date     -> SIGNER_NOT_IN_ROLE

The signing time is the signed time written by the signing server's clock; callers that
know the session time (the Article 13 session, the submission deadline) should also
compare it with that.

Only this strict profile is accepted: a verifier that follows whatever references and
transforms a document names is how signature-wrapping attacks work.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from signing.registry import CertificateRegistry
from signing.xmldsig import (
    _DS,
    _XADES,
    CONTENT_ID,
    EXC_C14N,
    SIGNED_PROPERTIES_TYPE,
    content_of,
    signature_certificates,
    signature_elements,
    signature_info,
    signature_properties,
)

RoleCheck = Callable[[str, str, str, datetime], bool]

MAX_CHAIN_DEPTH = 4
_SIGNATURE_METHODS: dict[str, type[hashes.HashAlgorithm]] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}
_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}


def split_signer_ref(signer_ref: str) -> tuple[str, str]:
    """signer_ref is "<role>@<unit>", e.g. "chair@district-2"; the claim is signed."""
    role, _, unit = signer_ref.partition("@")
    return role.strip(), unit.strip()


def make_signer_ref(role: str, unit: str) -> str:
    return f"{role}@{unit}"


@dataclass(frozen=True)
class SignatureCheck:
    index: int
    national_id: str
    cert_serial: int | None
    signing_time: datetime | None
    signer_ref: str
    reason: Reason | None

    @property
    def valid(self) -> bool:
        return self.reason is None

    @property
    def role(self) -> str:
        return split_signer_ref(self.signer_ref)[0]

    @property
    def unit(self) -> str:
        return split_signer_ref(self.signer_ref)[1]

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "national_id": self.national_id,
                "cert_serial": f"{self.cert_serial:x}" if self.cert_serial is not None else None,
                "signing_time": self.signing_time.isoformat() if self.signing_time else None,
                "signer_ref": self.signer_ref,
                "reason": self.reason.value if self.reason else None,
                "message": self.reason.message_fa if self.reason else None}


class TrustStore:
    """Trust anchors plus what is known to be revoked (serial -> revocation time)."""

    def __init__(self, ca_certs: Iterable[x509.Certificate],
                 revocations: Mapping[int, datetime] | Iterable[tuple[int, datetime]] = ()) -> None:
        self.anchors = list(ca_certs)
        if not self.anchors:
            raise DomainError(Reason.INVALID_INPUT, "هیچ مرجع مورد اعتمادی تعریف نشده است")
        items = revocations.items() if isinstance(revocations, Mapping) else revocations
        self.revocations: dict[int, datetime] = {}
        for serial, when in items:
            self._add_revocation(serial, when)

    def _add_revocation(self, serial: int, when: datetime) -> None:
        earlier = self.revocations.get(serial)
        self.revocations[serial] = when if earlier is None else min(earlier, when)

    def add_crl(self, crl: x509.CertificateRevocationList) -> None:
        """Take the revocations of a CRL signed by one of the trust anchors."""
        issuer = next((a for a in self.anchors if a.subject == crl.issuer), None)
        if issuer is None or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise DomainError(Reason.CERT_UNTRUSTED, "فهرست ابطال را مرجع مورد اعتماد امضا نکرده است")
        for entry in crl:
            self._add_revocation(entry.serial_number, entry.revocation_date_utc)

    @classmethod
    def from_pem_files(cls, ca_paths: Iterable[str | Path],
                       crl_paths: Iterable[str | Path] = ()) -> TrustStore:
        certs: list[x509.Certificate] = []
        for path in ca_paths:
            certs.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
        store = cls(certs)
        for path in crl_paths:
            store.add_crl(x509.load_pem_x509_crl(Path(path).read_bytes()))
        return store

    @classmethod
    def from_registry(cls, ca_certs: Iterable[x509.Certificate],
                      registry: CertificateRegistry) -> TrustStore:
        return cls(ca_certs, registry.revocations())

    def revoked_at(self, serial: int) -> datetime | None:
        return self.revocations.get(serial)

    def chain(self, leaf: x509.Certificate, extra: list[x509.Certificate]) -> list[x509.Certificate] | None:
        """leaf, intermediates..., anchor; None when no path reaches an anchor."""
        path = [leaf]
        current = leaf
        for _ in range(MAX_CHAIN_DEPTH):
            for anchor in self.anchors:
                if current.issuer == anchor.subject and _issued_by(current, anchor):
                    return path + [anchor]
            step = next((c for c in extra if c.subject == current.issuer and c not in path
                         and _is_ca(c) and _issued_by(current, c)), None)
            if step is None:
                return None
            path.append(step)
            current = step
        return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def _b64(text: str | None) -> bytes:
    return base64.b64decode("".join((text or "").split()), validate=True)


def _exactly_one_id(doc: etree._Element, value: str) -> bool:
    count = sum(1 for el in doc.iter() if isinstance(el.tag, str)
                for name, v in el.attrib.items() if etree.QName(name).localname == "Id" and v == value)
    return count == 1


def _reference_ok(ref: etree._Element, target: etree._Element) -> bool:
    transforms = ref.findall(f"{_DS}Transforms/{_DS}Transform")
    if any(t.get("Algorithm") != EXC_C14N.value or len(t) for t in transforms):
        return False
    method = ref.find(f"{_DS}DigestMethod")
    digest_name = _DIGESTS.get(method.get("Algorithm", "")) if method is not None else None
    if digest_name is None:
        return False
    expected = _b64(ref.findtext(f"{_DS}DigestValue"))
    return hmac.compare_digest(hashlib.new(digest_name, _c14n(target)).digest(), expected)


def _signature_ok(doc: etree._Element, content: etree._Element, sig: etree._Element) -> bool:
    """Step 1: the signature and both its references, in the one layout we produce."""
    signed_info = sig.findall(f"{_DS}SignedInfo")
    props = signature_properties(sig)
    certs = signature_certificates(sig)
    if len(signed_info) != 1 or props is None or not certs:
        return False
    si = signed_info[0]
    c14n_method = si.find(f"{_DS}CanonicalizationMethod")
    if c14n_method is None or c14n_method.get("Algorithm") != EXC_C14N.value or len(c14n_method):
        return False
    method = si.find(f"{_DS}SignatureMethod")
    hash_cls = _SIGNATURE_METHODS.get(method.get("Algorithm", "") if method is not None else "")
    if hash_cls is None:
        return False
    props_id = props.get("Id")
    if not props_id or not _exactly_one_id(doc, props_id) or not _exactly_one_id(doc, CONTENT_ID):
        return False
    refs = si.findall(f"{_DS}Reference")
    by_uri = {r.get("URI"): r for r in refs}
    if len(refs) != 2 or set(by_uri) != {f"#{CONTENT_ID}", f"#{props_id}"}:
        return False
    if by_uri[f"#{props_id}"].get("Type") not in (None, SIGNED_PROPERTIES_TYPE):
        return False
    if not (_reference_ok(by_uri[f"#{CONTENT_ID}"], content) and _reference_ok(by_uri[f"#{props_id}"], props)):
        return False
    leaf = certs[0]
    cert_digest = props.findtext(f"{_XADES}SignedSignatureProperties/{_XADES}SigningCertificateV2/"
                                 f"{_XADES}Cert/{_XADES}CertDigest/{_DS}DigestValue")
    if not hmac.compare_digest(_b64(cert_digest), hashlib.sha256(leaf.public_bytes(Encoding.DER)).digest()):
        return False
    public = leaf.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(_b64(sig.findtext(f"{_DS}SignatureValue")), _c14n(si), padding.PKCS1v15(), hash_cls())
    except InvalidSignature:
        return False
    return True


def _valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def check_signature(doc: etree._Element, content: etree._Element, sig: etree._Element, index: int,
                    trust: TrustStore, role_check: RoleCheck,
                    required: list[tuple[str, str]] | None = None) -> SignatureCheck:
    try:
        info = signature_info(sig, index)
    except DomainError as exc:
        return SignatureCheck(index, "", None, None, "", exc.reason)

    def result(reason: Reason | None) -> SignatureCheck:
        return SignatureCheck(index, info.national_id, info.serial, info.signing_time, info.signer_ref, reason)

    try:
        if not _signature_ok(doc, content, sig):
            return result(Reason.SIGNATURE_INVALID)
    except (ValueError, TypeError):  # unreadable base64, certificate or key
        return result(Reason.SIGNATURE_INVALID)
    certs = signature_certificates(sig)
    path = trust.chain(certs[0], certs[1:])
    if path is None:
        return result(Reason.CERT_UNTRUSTED)
    if not all(_valid_at(c, info.signing_time) for c in path):
        return result(Reason.CERT_EXPIRED)
    for cert in path[:-1]:
        revoked = trust.revoked_at(cert.serial_number)
        if revoked is not None and revoked <= info.signing_time:
            return result(Reason.CERT_REVOKED)
    role, unit = split_signer_ref(info.signer_ref)
    if required is not None and (role, unit) not in required:
        return result(Reason.SIGNER_NOT_IN_ROLE)
    if not role or not role_check(info.national_id, role, unit, info.signing_time):
        return result(Reason.SIGNER_NOT_IN_ROLE)
    return result(None)


def verify_document(xml_bytes: bytes, trust: TrustStore, role_check: RoleCheck,
                    required: list[tuple[str, str]] | None = None) -> list[SignatureCheck]:
    """One SignatureCheck per signature, in document order.

    `required`, when given, lists the (role, unit) pairs that may sign this document: a
    signature claiming any other role is SIGNER_NOT_IN_ROLE. Use `missing_roles` to find
    required roles that no valid signature covers.
    """
    doc = parse_untrusted(xml_bytes)
    content = content_of(doc)
    return [check_signature(doc, content, sig, i, trust, role_check, required)
            for i, sig in enumerate(signature_elements(doc))]


def missing_roles(checks: Iterable[SignatureCheck], required: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    covered = {(c.role, c.unit) for c in checks if c.valid}
    return [pair for pair in required if pair not in covered]
