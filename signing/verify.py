"""Verification of signed documents, one reason code per failed check.

For every ds:Signature in a SignedDocument (see signing.xmldsig), in this order:
1. the signature itself: strict profile (exclusive C14N, rsa-sha256/384/512, exactly the
   two references "#content" and its own SignedProperties, matching certificate digest),
   digests and signature value                                  -> SIGNATURE_INVALID
2. the certificate chains to a configured trust anchor           -> CERT_UNTRUSTED
3. the claimed signing time lies within `max_skew` of the time the
   system received the document                                  -> SIGNING_TIME_SKEW
4. every certificate on the path was valid at the receipt time   -> CERT_EXPIRED
5. no certificate on the path was revoked at or before the receipt
   time, as the CA-signed CRL states it (a CRL that does not verify
   is refused: CERT_UNTRUSTED)                                   -> CERT_REVOKED
6. the signer held the claimed role in the unit at the receipt time -> SIGNER_NOT_IN_ROLE

A signature is judged at the time the system received it, not at the time the signer claims
("Stations and trust" in tender-rules.md; R05): the signing time inside the signed properties
is written by the signer's own machine and a holder of a revoked key can back-date it. Callers
pass `received_at` (the engine's clock when the document arrived, or the stored receipt time
when a stored document is verified again) and `max_skew` (Policy.signing_time_skew()). Without
`received_at` the claimed signing time is used: only for documents that never reach the engine
(tests of the signing layer, outside tools).

Only this strict profile is accepted: a verifier that follows whatever references and
transforms a document names is how signature-wrapping attacks work.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
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


CrlSource = Callable[[int], Iterable[bytes]]


def verified_crl(crl: x509.CertificateRevocationList,
                 anchors: Iterable[x509.Certificate]) -> x509.CertificateRevocationList:
    """`crl` after checking that one of `anchors` issued and signed it and that its times are sane:
    thisUpdate inside the issuer's validity, a nextUpdate after thisUpdate, a CRL number, and no
    entry revoked after the CRL was issued.

    Freshness (nextUpdate in the future) is not required: a CRL proves the revocations it lists
    whatever its age, and the engine never concludes "not revoked" from an old CRL it was given
    (see services.signers.trust_store for where revocations come from).

    Raises: CERT_UNTRUSTED when the CRL is not the CA's or its times are not sane (RFC 5280 §5)."""
    def refuse(why: str) -> DomainError:
        return DomainError(Reason.CERT_UNTRUSTED, f"فهرست ابطال گواهی پذیرفته نیست: {why}")

    issuer = next((a for a in anchors if a.subject == crl.issuer), None)
    if issuer is None:
        raise refuse("صادرکنندهٔ آن مرجع مورد اعتماد نیست")
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.crl_sign:
            raise refuse("کلید مرجع برای امضای فهرست ابطال نیست")
    except x509.ExtensionNotFound:
        pass
    try:
        signed = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError, InvalidSignature):
        signed = False
    if not signed:
        raise refuse("امضای مرجع روی آن معتبر نیست")
    this_update, next_update = crl.last_update_utc, crl.next_update_utc
    if not issuer.not_valid_before_utc <= this_update <= issuer.not_valid_after_utc:
        raise refuse("زمان صدور آن بیرون از اعتبار گواهی مرجع است")
    if next_update is None or next_update <= this_update:
        raise refuse("زمان به‌روزرسانی بعدی آن نامعتبر است")
    try:
        crl.extensions.get_extension_for_class(x509.CRLNumber)
    except x509.ExtensionNotFound:
        raise refuse("شمارهٔ فهرست ابطال ندارد") from None
    if any(entry.revocation_date_utc > this_update for entry in crl):
        raise refuse("ابطالی پس از زمان صدور آن ثبت شده است")
    return crl


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL from DER or PEM bytes.

    Raises: CERT_UNTRUSTED when the bytes are not a CRL."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except (ValueError, TypeError):
        raise DomainError(Reason.CERT_UNTRUSTED, "فهرست ابطال گواهی خوانا نیست") from None


class TrustStore:
    """Trust anchors plus what is known to be revoked (serial -> revocation time).

    Revocations come from CA-signed CRLs (`add_crl`, `from_pem_files`), or lazily from a
    `crl_source(serial)` that returns the CA-signed CRLs (DER) recorded as listing that serial
    (services.signers.trust_store reads them from the store); each is verified before its entry
    counts (`verified_crl`), and a source that returns a CRL that fails, or one that does not list
    the serial it was recorded for, makes `revoked_at` raise CERT_UNTRUSTED: a forged CRL where a
    genuine one should be is refused, never skipped. `revocations` given directly are taken as they
    are; only tests of this module use it."""

    def __init__(self, ca_certs: Iterable[x509.Certificate],
                 revocations: Mapping[int, datetime] | Iterable[tuple[int, datetime]] = (),
                 crl_source: CrlSource | None = None) -> None:
        self.anchors = list(ca_certs)
        if not self.anchors:
            raise DomainError(Reason.INVALID_INPUT, "هیچ مرجع مورد اعتمادی تعریف نشده است")
        items = revocations.items() if isinstance(revocations, Mapping) else revocations
        self.revocations: dict[int, datetime] = {}
        for serial, when in items:
            self._add_revocation(serial, when)
        self._crl_source = crl_source
        self._looked_up: set[int] = set()

    def _add_revocation(self, serial: int, when: datetime) -> None:
        earlier = self.revocations.get(serial)
        self.revocations[serial] = when if earlier is None else min(earlier, when)

    def add_crl(self, crl: x509.CertificateRevocationList) -> None:
        """Take the revocations of a CRL signed by one of the trust anchors.

        Raises: CERT_UNTRUSTED when the CRL does not verify (`verified_crl`)."""
        for entry in verified_crl(crl, self.anchors):
            self._add_revocation(entry.serial_number, entry.revocation_date_utc)

    @classmethod
    def from_pem_files(cls, ca_paths: Iterable[str | Path],
                       crl_paths: Iterable[str | Path] = ()) -> TrustStore:
        """Anchors from PEM files and the revocations of CRL files (PEM or DER), each verified.

        Raises: CERT_UNTRUSTED for a CRL that is not the anchors' or does not verify."""
        certs: list[x509.Certificate] = []
        for path in ca_paths:
            certs.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
        store = cls(certs)
        for path in crl_paths:
            store.add_crl(load_crl(Path(path).read_bytes()))
        return store

    def revoked_at(self, serial: int) -> datetime | None:
        """When `serial` was revoked (UTC), or None.

        Raises: CERT_UNTRUSTED when the CRL source returns a CRL that does not verify or does not
        list `serial`."""
        if self._crl_source is not None and serial not in self._looked_up:
            for der in self._crl_source(serial):
                entry = verified_crl(load_crl(der), self.anchors).get_revoked_certificate_by_serial_number(serial)
                if entry is None:
                    raise DomainError(Reason.CERT_UNTRUSTED,
                                      f"فهرست ابطال ثبت‌شده برای گواهی {serial:x} آن را فهرست نکرده است")
                self._add_revocation(serial, entry.revocation_date_utc)
            self._looked_up.add(serial)
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
                    required: list[tuple[str, str]] | None = None, *,
                    received_at: datetime | None = None, max_skew: timedelta | None = None,
                    received_from: datetime | None = None) -> SignatureCheck:
    """The six checks of this module on signature `sig` (number `index`, from 0) of `doc`.

    `received_at` (UTC): when the system received the signature; validity, revocation and role are
    judged then, and the claimed signing time must lie within `max_skew` of it. `received_from`:
    for a document whose signatures arrived one after another during a sitting (minutes), the
    earliest time any of them could have arrived; the claimed time must then lie within
    [received_from - max_skew, received_at + max_skew], and the rest is still judged at
    `received_at`, when the last one arrived (never laxer than judging each at its own arrival).
    Without `received_at`, everything is judged at the claimed signing time. The result's reason
    is None when every check passes (see the module docstring for the order and the codes; R05, R06).

    Raises: nothing: every failure, a refused CRL included, is the result's reason."""
    try:
        info = signature_info(sig, index)
    except DomainError as exc:
        return SignatureCheck(index, "", None, None, "", exc.reason)

    def result(reason: Reason | None) -> SignatureCheck:
        return SignatureCheck(index, info.national_id, info.serial, info.signing_time, info.signer_ref, reason)

    try:
        if not _signature_ok(doc, content, sig):
            return result(Reason.SIGNATURE_INVALID)
    except (ValueError, TypeError, etree.LxmlError):  # unreadable base64, certificate, key or XML
        return result(Reason.SIGNATURE_INVALID)
    certs = signature_certificates(sig)
    path = trust.chain(certs[0], certs[1:])
    if path is None:
        return result(Reason.CERT_UNTRUSTED)
    at = info.signing_time
    if received_at is not None:
        skew = max_skew if max_skew is not None else timedelta(0)
        earliest = min(received_from, received_at) if received_from is not None else received_at
        if not earliest - skew <= info.signing_time <= received_at + skew:
            return result(Reason.SIGNING_TIME_SKEW)
        at = received_at
    if not all(_valid_at(c, at) for c in path):
        return result(Reason.CERT_EXPIRED)
    try:
        for cert in path[:-1]:
            revoked = trust.revoked_at(cert.serial_number)
            if revoked is not None and revoked <= at:
                return result(Reason.CERT_REVOKED)
    except DomainError as exc:  # the CRL itself was refused
        return result(exc.reason)
    role, unit = split_signer_ref(info.signer_ref)
    if required is not None and (role, unit) not in required:
        return result(Reason.SIGNER_NOT_IN_ROLE)
    if not role or not role_check(info.national_id, role, unit, at):
        return result(Reason.SIGNER_NOT_IN_ROLE)
    return result(None)


def verify_document(xml_bytes: bytes, trust: TrustStore, role_check: RoleCheck,
                    required: list[tuple[str, str]] | None = None, *,
                    received_at: datetime | None = None, max_skew: timedelta | None = None,
                    received_from: datetime | None = None) -> list[SignatureCheck]:
    """One SignatureCheck per signature, in document order (R05, R06; "Stations and trust").

    `required`, when given, lists the (role, unit) pairs that may sign this document: a
    signature claiming any other role is SIGNER_NOT_IN_ROLE. Use `missing_roles` to find
    required roles that no valid signature covers. `received_at`, `max_skew` (both or neither)
    and `received_from`: see `check_signature`; every document the engine receives or reads back
    to decide is verified with them.

    Raises: MALFORMED_XML when the bytes are not one well-formed SignedDocument
    (domain.xmlsafe.parse_untrusted); INVALID_INPUT for a naive `received_at` or one without
    `max_skew`."""
    if received_at is not None:
        if max_skew is None or received_at.tzinfo is None \
                or (received_from is not None and received_from.tzinfo is None):
            raise DomainError(Reason.INVALID_INPUT, "زمان دریافت سند باید با منطقهٔ زمانی و همراه با حد اختلاف باشد")
    doc = parse_untrusted(xml_bytes)
    content = content_of(doc)
    return [check_signature(doc, content, sig, i, trust, role_check, required, received_at=received_at,
                            max_skew=max_skew, received_from=received_from)
            for i, sig in enumerate(signature_elements(doc))]


def missing_roles(checks: Iterable[SignatureCheck], required: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    covered = {(c.role, c.unit) for c in checks if c.valid}
    return [pair for pair in required if pair not in covered]
