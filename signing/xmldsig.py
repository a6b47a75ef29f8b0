"""XML signatures on canonical documents, one independent signature per signer.

Layout (the canonical document itself is never modified by signing):

    <sd:SignedDocument xmlns:sd="urn:tehran-municipality:eproc:signed-document:1">
      <sd:Content Id="content"> <Minutes>...</Minutes> </sd:Content>
      <ds:Signature Id="sig-1"> ... </ds:Signature>     (first member)
      <ds:Signature Id="sig-2"> ... </ds:Signature>     (second member) ...
    </sd:SignedDocument>

Each ds:Signature (signxml, detached, exclusive C14N, rsa-sha256, sha256) has two
references: "#content" and "#sig-N-props", the XAdES-style SignedProperties in the
signature's own ds:Object holding the signing time (from the injected Clock), the digest of
the signer's certificate and the claimed role (`signer_ref`). The signing time is therefore
covered by the signature. KeyInfo carries the signer's certificate (X509Data). Signatures
are siblings of the content, so adding one never disturbs another.

The private-key operation is done by the token: `TokenRSAKey.sign` calls `Token.sign`.

Outside verification with xmlsec1 1.2.37, one command per signature (index counts from 1
in the XPath, from 0 in `xmlsec1_verify_command`):

    xmlsec1 --verify --enabled-key-data x509 --enabled-reference-uris same-doc \\
        --id-attr:Id urn:tehran-municipality:eproc:signed-document:1:Content \\
        --trusted-pem ca-cert.pem --verification-gmt-time "2024-05-01 10:00:00" \\
        --node-xpath "(/*/*[local-name()='Signature' and namespace-uri()='http://www.w3.org/2000/09/xmldsig#'])[1]" \\
        signed.xml

`--enabled-key-data x509` makes xmlsec1 take the key only from a certificate that chains
to the trusted CA (never from a bare KeyValue); `--verification-gmt-time` checks the
certificate at the signing time, as the rules require. xmlsec1 cannot check revocation or
roles: `signing.verify.verify_document` does all five checks.
"""
from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
    SignatureReference,
    XMLSigner,
)

from domain.clock import Clock
from domain.reasons import DomainError, Reason
from signing.token import Token

SD_NS = "urn:tehran-municipality:eproc:signed-document:1"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
CONTENT_ID = "content"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
NSMAP = {"sd": SD_NS, "ds": DS_NS, "xades": XADES_NS}

_SD = f"{{{SD_NS}}}"
_DS = f"{{{DS_NS}}}"
_XADES = f"{{{XADES_NS}}}"


@dataclass(frozen=True)
class SignatureInfo:
    index: int
    signature_id: str
    signer_ref: str
    signing_time: datetime
    certificate: x509.Certificate
    national_id: str
    serial: int


class TokenRSAKey(rsa.RSAPrivateKey):
    """An RSA private key whose only operation, sign(), happens on the token."""

    def __init__(self, token: Token, key_label: str, public: rsa.RSAPublicKey) -> None:
        self._token, self._label, self._public = token, key_label, public

    def sign(self, data: bytes, padding: Any, algorithm: Any) -> bytes:
        if not isinstance(padding, asym_padding.PKCS1v15) or not isinstance(algorithm, hashes.HashAlgorithm):
            raise TypeError("the token key signs only RSASSA-PKCS1-v1_5 over unhashed data")
        return self._token.sign(self._label, data, algorithm.name)

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        raise TypeError("use signing.keytransport.unwrap_secret to decrypt on the token")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise TypeError("the private key never leaves the token")

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        raise TypeError("the private key never leaves the token")

    def __copy__(self) -> TokenRSAKey:
        return self

    def __deepcopy__(self, memo: dict) -> TokenRSAKey:
        return self


def xml_datetime(when: datetime) -> str:
    if when.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان امضا باید منطقهٔ زمانی داشته باشد")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_xml_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("signing time without a time zone")
    return value.astimezone(timezone.utc)


def is_envelope(doc: etree._Element) -> bool:
    return doc.tag == f"{_SD}SignedDocument"


def envelope(content: etree._Element) -> etree._Element:
    """Wrap a canonical document (moved, not copied) into an unsigned SignedDocument."""
    root = etree.Element(f"{_SD}SignedDocument", nsmap={"sd": SD_NS})
    holder = etree.SubElement(root, f"{_SD}Content", Id=CONTENT_ID)
    holder.append(content)
    return root


def content_of(doc: etree._Element) -> etree._Element:
    """The signed Content element: exactly one, a direct child of the envelope."""
    if not is_envelope(doc):
        raise DomainError(Reason.MALFORMED_XML, "سند امضاشده ساختار SignedDocument ندارد")
    found = doc.findall(f"{_SD}Content")
    if len(found) != 1 or found[0].get("Id") != CONTENT_ID:
        raise DomainError(Reason.MALFORMED_XML, "سند امضاشده باید دقیقاً یک بخش محتوا داشته باشد")
    return found[0]


def signature_elements(doc: etree._Element) -> list[etree._Element]:
    return doc.findall(f"{_DS}Signature")


def _ids(doc: etree._Element) -> set[str]:
    return {value for el in doc.iter() if isinstance(el.tag, str)
            for name, value in el.attrib.items() if etree.QName(name).localname == "Id"}


def _signed_properties(sig_id: str, when: datetime, cert: x509.Certificate, signer_ref: str) -> etree._Element:
    obj = etree.Element(f"{_DS}Object", nsmap={"ds": DS_NS})
    qp = etree.SubElement(obj, f"{_XADES}QualifyingProperties", nsmap={"xades": XADES_NS},
                          Target=f"#{sig_id}")
    sp = etree.SubElement(qp, f"{_XADES}SignedProperties", Id=f"{sig_id}-props")
    ssp = etree.SubElement(sp, f"{_XADES}SignedSignatureProperties")
    etree.SubElement(ssp, f"{_XADES}SigningTime").text = xml_datetime(when)
    cert_el = etree.SubElement(etree.SubElement(ssp, f"{_XADES}SigningCertificateV2"), f"{_XADES}Cert")
    digest = etree.SubElement(cert_el, f"{_XADES}CertDigest")
    etree.SubElement(digest, f"{_DS}DigestMethod", Algorithm=DigestAlgorithm.SHA256.value)
    etree.SubElement(digest, f"{_DS}DigestValue").text = base64.b64encode(
        hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()).decode("ascii")
    roles = etree.SubElement(etree.SubElement(ssp, f"{_XADES}SignerRoleV2"), f"{_XADES}ClaimedRoles")
    etree.SubElement(roles, f"{_XADES}ClaimedRole").text = signer_ref
    return obj


def _next_signature_id(doc: etree._Element) -> str:
    taken = _ids(doc)
    n = len(signature_elements(doc)) + 1
    while f"sig-{n}" in taken or f"sig-{n}-props" in taken:
        n += 1
    return f"sig-{n}"


def sign_document(doc: etree._Element, token: Token, key_label: str, cert: x509.Certificate,
                  clock: Clock, signer_ref: str) -> etree._Element:
    """Append one signature by `token`'s key to the envelope `doc` and return the envelope.

    A bare canonical document is first wrapped with `envelope()`; then the returned element
    is the new envelope, so always use the return value. On any failure (wrong PIN, token
    pulled out) the document is left exactly as it was: the signature is attached only
    once it is complete.
    """
    if not is_envelope(doc):
        doc = envelope(doc)
    content_of(doc)
    if not signer_ref or not signer_ref.strip():
        raise DomainError(Reason.INVALID_INPUT, "نقش امضاکننده مشخص نشده است")
    public = token.public_key(key_label)
    # The CA issues RSA certificates only; the cast is for the type checker.
    if public.public_numbers() != cast(rsa.RSAPublicKey, cert.public_key()).public_numbers():
        raise DomainError(Reason.INVALID_INPUT, "گواهی با کلید روی توکن یکی نیست")

    sig_id = _next_signature_id(doc)
    props = _signed_properties(sig_id, clock.now(), cert, signer_ref.strip())
    signer = XMLSigner(method=SignatureConstructionMethod.detached,
                       signature_algorithm=SignatureMethod.RSA_SHA256,
                       digest_algorithm=DigestAlgorithm.SHA256, c14n_algorithm=EXC_C14N)

    def annotate(sig_root: etree._Element, signing_settings: object) -> None:
        # Runs after the references are digested and before SignedInfo is signed.
        sig_root.set("Id", sig_id)
        for ref in sig_root.iterfind(f"{_DS}SignedInfo/{_DS}Reference"):
            if ref.get("URI") == f"#{sig_id}-props":
                ref.set("Type", SIGNED_PROPERTIES_TYPE)
        sig_root.append(copy.deepcopy(props))

    signer.signature_annotators.append(annotate)
    # signxml resolves references in its own copy of `doc`, so the properties are parked in
    # the document only for the duration of the call.
    doc.append(props)
    try:
        signature = signer.sign(
            doc, key=TokenRSAKey(token, key_label, public), cert=[cert],
            reference_uri=[SignatureReference(URI=f"#{CONTENT_ID}"),
                           SignatureReference(URI=f"#{sig_id}-props")])
    finally:
        doc.remove(props)
    doc.append(signature)
    return doc


def _national_id(cert: x509.Certificate) -> str:
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(values[0].value) if values else ""


def signature_properties(sig: etree._Element) -> etree._Element | None:
    found = sig.findall(f"{_DS}Object/{_XADES}QualifyingProperties/{_XADES}SignedProperties")
    return found[0] if len(found) == 1 else None


def signature_certificates(sig: etree._Element) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split())))
            for el in sig.findall(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")]


def signature_info(sig: etree._Element, index: int) -> SignatureInfo:
    """What a signature claims (not yet verified); DomainError(SIGNATURE_INVALID) if unreadable."""
    try:
        props = signature_properties(sig)
        if props is None:
            raise ValueError("no SignedProperties")
        ssp = f"{_XADES}SignedSignatureProperties"
        when = parse_xml_datetime(props.findtext(f"{ssp}/{_XADES}SigningTime") or "")
        ref = props.findtext(f"{ssp}/{_XADES}SignerRoleV2/{_XADES}ClaimedRoles/{_XADES}ClaimedRole") or ""
        certs = signature_certificates(sig)
        if not certs:
            raise ValueError("no certificate")
    except (ValueError, TypeError) as exc:
        raise DomainError(Reason.SIGNATURE_INVALID, f"امضای شمارهٔ {index + 1} خوانا نیست",
                          error=type(exc).__name__) from None
    return SignatureInfo(index=index, signature_id=sig.get("Id", ""), signer_ref=ref, signing_time=when,
                         certificate=certs[0], national_id=_national_id(certs[0]),
                         serial=certs[0].serial_number)


def signatures(doc: etree._Element) -> list[SignatureInfo]:
    content_of(doc)
    return [signature_info(sig, i) for i, sig in enumerate(signature_elements(doc))]


def signature_xpath(index: int) -> str:
    return (f"(/*/*[local-name()='Signature' and namespace-uri()='{DS_NS}'])[{index + 1}]")


def xmlsec1_verify_command(path: str, ca_pem: str, index: int, at: datetime | None = None) -> list[str]:
    """The xmlsec1 command that verifies signature `index` (from 0) of the file at `path`.

    Without `at`, the certificate is checked at the signature's own signing time, read from
    the file (parsed with the safe parser).
    """
    if at is None:
        from pathlib import Path

        from domain.xmlsafe import parse_untrusted

        doc = parse_untrusted(Path(path).read_bytes())
        sigs = signature_elements(doc)
        if not 0 <= index < len(sigs):
            raise DomainError(Reason.INVALID_INPUT, f"امضای شمارهٔ {index + 1} در سند نیست")
        at = signature_info(sigs[index], index).signing_time
    return ["xmlsec1", "--verify", "--enabled-key-data", "x509",
            "--enabled-reference-uris", "same-doc",
            "--id-attr:Id", f"{SD_NS}:Content",
            "--trusted-pem", str(ca_pem),
            "--verification-gmt-time", at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "--node-xpath", signature_xpath(index),
            str(path)]


def signed_document_root(doc: etree._Element) -> etree._Element:
    """The canonical document inside the envelope (minutes, notification, receipt, manifest)."""
    children = [c for c in content_of(doc) if isinstance(c.tag, str)]
    if len(children) != 1:
        raise DomainError(Reason.MALFORMED_XML, "بخش محتوای سند امضاشده باید دقیقاً یک سند داشته باشد")
    return children[0]
