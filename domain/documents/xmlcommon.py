"""Conventions shared by every signed document: one <Body Id="body"> that XMLDSig signatures
reference, signatures appended as Body's siblings, and C14N bytes for hashing and replay."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from lxml import etree

from domain.persian import format_jalali_datetime
from domain.reasons import DomainError, Reason

BODY_ID = "body"


def new_document(namespace: str, root_name: str, version: int) -> tuple[etree._Element, etree._Element]:
    """Root and its Body; the version sits inside Body so every signature covers it."""
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DomainError(Reason.INVALID_INPUT, f"نسخهٔ سند باید عدد صحیح مثبت باشد: {version!r}")
    root = etree.Element(f"{{{namespace}}}{root_name}", nsmap={None: namespace})
    body = etree.SubElement(root, f"{{{namespace}}}Body", Id=BODY_ID, version=str(version))
    return root, body


def sub(parent: etree._Element, name: str, text: str | None = None, **attrs: object) -> etree._Element:
    """Child in the parent's namespace; None attributes are left out so absence is explicit."""
    ns = etree.QName(parent).namespace
    el = etree.SubElement(parent, f"{{{ns}}}{name}" if ns else name,
                          {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def utc_text(when: datetime) -> str:
    if when.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان باید با منطقهٔ زمانی باشد")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_attrs(when: datetime) -> dict[str, str]:
    """Every time twice: UTC for machines, Jalali Tehran wall time for people."""
    return {"utc": utc_text(when), "jalali": format_jalali_datetime(when)}


def canonical_bytes(doc: etree._Element | etree._ElementTree) -> bytes:
    """Exclusive-free C14N 1.0 without comments: the bytes that are hashed, signed and replayed."""
    return etree.tostring(doc, method="c14n", exclusive=False, with_comments=False)


def body_of(doc: etree._Element) -> etree._Element:
    found = doc.xpath("./*[local-name()='Body' and @Id=$id]", id=BODY_ID)
    if len(found) != 1:
        raise DomainError(Reason.MALFORMED_XML, "سند باید دقیقاً یک Body با Id=body داشته باشد")
    return found[0]


def body_digest(doc: etree._Element) -> str:
    """SHA-256 of the signed part only, so it is the same before and after signatures are added."""
    return hashlib.sha256(canonical_bytes(body_of(doc))).hexdigest()


def version_of(doc: etree._Element) -> int:
    return int(body_of(doc).get("version"))
