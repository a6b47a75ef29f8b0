"""The verification block of a printable document: who signed (name, role, national ID, signing
time, the time the system received the signature, certificate serial and issuer), the SHA-256 of
the signed bytes, and a QR code carrying the document's id and that hash for the transparency
site's check. Everything is read from the signed XML; only the receipt times come from the
caller (the audit log), since a signature cannot state when it was received."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import segno
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from render.page import ROLE_FA, el, fa, ident, when_fa
from signing.verify import split_signer_ref
from signing.xmldsig import signatures


@dataclass(frozen=True)
class Signer:
    """One signature as the document states it: name (certificate common name), role and unit
    claimed, national ID, signing time (UTC), certificate serial (hex) and issuer's name."""

    name: str
    role: str
    unit: str
    national_id: str
    signing_time: datetime
    serial_hex: str
    issuer: str


def _name(name: x509.Name) -> str:
    found = name.get_attributes_for_oid(NameOID.COMMON_NAME) or name.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)
    return str(found[0].value) if found else name.rfc4514_string()


def signers_of(doc: etree._Element) -> list[Signer]:
    """Every signature of the signed envelope `doc`, in document order (claims, not yet verified).

    Raises: MALFORMED_XML, SIGNATURE_INVALID (signing.xmldsig.signatures)."""
    out = []
    for info in signatures(doc):
        role, unit = split_signer_ref(info.signer_ref)
        cert = info.certificate
        issuer_o = cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        out.append(Signer(name=_name(cert.subject), role=role, unit=unit, national_id=info.national_id,
                          signing_time=info.signing_time, serial_hex=format(info.serial, "X"),
                          issuer=str(issuer_o[0].value) if issuer_o else _name(cert.issuer)))
    return out


def sha256_hex(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def qr_payload(doc_id: str, digest: str) -> str:
    """What the QR code carries: `id=<document id>&sha256=<hex of the signed bytes>`."""
    return f"id={doc_id}&sha256={digest}"


def qr_data_uri(doc_id: str, digest: str) -> str:
    """The QR code (segno, error correction M) as an SVG data URI for the page."""
    return segno.make_qr(qr_payload(doc_id, digest), error="m").svg_data_uri(scale=4, border=2)


def receipt_times(entries: Iterable[Mapping[str, object]], action: str,
                  entity_id: str | None = None) -> dict[str, datetime]:
    """When the system received each signature, from audit entries (`log.jsonl` rows or their
    dicts: `at` ISO 8601, `actor` the signer's national ID, `action`, `entity_id`): national ID ->
    the first receipt of `action` (e.g. "article13.signed") for `entity_id` (any when None)."""
    out: dict[str, datetime] = {}
    for e in entries:
        if e.get("action") != action or (entity_id is not None and e.get("entity_id") != entity_id):
            continue
        at = e.get("at")
        when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at).replace("Z", "+00:00"))
        out.setdefault(str(e.get("actor")), when)
    return out


def verification_block(parent: etree._Element, doc: etree._Element | None, xml: bytes, doc_id: str,
                       received: Mapping[str, datetime] | None, original: str,
                       signers: list[Signer] | None = None) -> list[Signer]:
    """Append the verification section; returns the signers it lists: the signatures of the signed
    envelope `doc`, or `signers` as given (a contract approved at the stations: each approval a signed
    document of its own over the SHA-256 of the contract's bytes `xml`)."""
    found = signers if signers is not None else signers_of(doc) if doc is not None else []
    received = received or {}
    section = el(parent, "section", class_="verify")
    el(section, "h2", "بررسی اصالت سند")
    for s in found:  # one bordered block per signer, so a name reads on one line
        t = el(section, "table", class_="signer")
        rows = [("امضاکننده", s.name, "سمت", ROLE_FA.get(s.role, s.role)),
                ("کد ملی", s.national_id, "شمارهٔ سریال گواهی", s.serial_hex),
                ("زمان امضا", when_fa(s.signing_time), "زمان دریافت در سامانه", when_fa(received.get(s.national_id)))]
        for a, av, b, bv in rows:
            tr = el(t, "tr")
            el(tr, "th", a)
            ident(el(tr, "td"), av) if a == "کد ملی" else el(tr, "td", av, class_="name")
            el(tr, "th", b)
            el(el(tr, "td"), "span", bv, class_="ltr", dir="ltr") if b.startswith("شمارهٔ") else el(tr, "td", bv)
        tr = el(t, "tr")
        el(tr, "th", "صادرکنندهٔ گواهی")
        el(tr, "td", s.issuer, colspan="3")
    line = el(section, "p", "شناسهٔ سند: ")
    ident(line, doc_id)
    line = el(section, "p", "چکیدهٔ SHA-256 پروندهٔ امضاشده: ")
    el(line, "span", sha256_hex(xml), class_="ltr", dir="ltr")
    el(section, "p", f"تعداد امضاها: {fa(len(found))}. هر امضا با xmlsec1 و گواهی مرجع صدور گواهی "
                     "بررسی‌پذیر است؛ رمزینهٔ QR بالای صفحه شناسه و چکیدهٔ سند را برای بررسی در پایگاه "
                     "شفافیت دارد.")
    note = el(parent, "div", class_="rendering")
    el(note, "p", "این برگه نمایش سند امضاشده است.")
    note = el(note, "p", "این برگه خود امضا ندارد؛ اعتبار با پروندهٔ XML امضاشده است: ")
    ident(note, original)
    return found
