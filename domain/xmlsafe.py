"""The only way untrusted XML enters the engine: no DTDs, no entities, no network; UTF-8 only; no
comments or processing instructions; every parser error a reason code (R06).

Why comments and processing instructions are refused rather than dropped: signatures are over
canonical XML without comments, so `<Title>Road <!-- x -->works</Title>` verifies exactly like
`<Title>Road works</Title>`, while a reader of `.text` sees "Road ". A document the engine accepts
must mean one thing to every reader, so any comment, processing instruction or entity reference,
anywhere in it (before or after the root too), makes it MALFORMED_XML. Only UTF-8 is accepted (an
XML declaration naming another encoding, or bytes that are not UTF-8, are MALFORMED_XML), so that
the byte-level DOCTYPE check and every later hash see the same characters the parser does.
"""
from __future__ import annotations

import re

from lxml import etree

from domain.reasons import DomainError, Reason

_UTF8_BOM = b"\xef\xbb\xbf"
_DECLARATION = re.compile(rb"\A<\?xml(?P<attrs>[^?>]*)\?>")
_ENCODING = re.compile(rb"""\bencoding\s*=\s*(["'])(?P<name>[^"']*)\1""")
_NOT_CONTENT = (etree.Comment, etree.ProcessingInstruction, etree.Entity)  # node.tag of what is refused


def safe_parser() -> etree.XMLParser:
    """The parser of untrusted XML: no entity resolution, DTD or network; comments and processing
    instructions kept as nodes so that `parse_untrusted` can refuse them."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_blank_text=False,
                           remove_comments=False, remove_pis=False, encoding="utf-8")


def _fail(detail: str) -> DomainError:
    return DomainError(Reason.MALFORMED_XML, detail)


def _check_encoding(data: bytes) -> None:
    body = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data
    try:
        body.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _fail("سند XML باید با UTF-8 کدگذاری شده باشد") from None
    declaration = _DECLARATION.match(body)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group("attrs"))
        if encoding is not None and encoding.group("name").lower() != b"utf-8":
            raise _fail(f"سند XML باید UTF-8 باشد، نه «{encoding.group('name').decode('ascii', 'replace')}»")


def parse_untrusted(data: bytes) -> etree._Element:
    """The root element of the XML document `data` (bytes, UTF-8).

    Raises: MALFORMED_XML for anything else: not bytes, not UTF-8 or declaring another encoding, a
    DOCTYPE or ENTITY declaration, a comment, processing instruction or entity reference anywhere,
    or any parser error (never an lxml exception)."""
    if not isinstance(data, bytes | bytearray):
        raise _fail("سند XML باید به صورت بایت داده شود")
    data = bytes(data)
    _check_encoding(data)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _fail("اعلان DOCTYPE/ENTITY پذیرفته نمی‌شود")
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except (etree.LxmlError, ValueError, TypeError) as exc:
        raise _fail(str(exc)) from exc
    if root is None:
        raise _fail("سند XML خالی است")
    outside = [*root.itersiblings(preceding=True), *root.itersiblings()]
    if any(node.tag in _NOT_CONTENT for node in (*outside, *root.iter())):
        raise _fail("توضیح (comment)، دستور پردازشی یا ارجاع موجودیت در سند پذیرفته نمی‌شود")
    return root
