"""The only way untrusted XML enters the engine: no DTDs, no entities, no network."""
from __future__ import annotations

from lxml import etree

from domain.reasons import DomainError, Reason


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_blank_text=False)


def parse_untrusted(data: bytes) -> etree._Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DomainError(Reason.MALFORMED_XML, "اعلان DOCTYPE/ENTITY پذیرفته نمی‌شود")
    try:
        return etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise DomainError(Reason.MALFORMED_XML, str(exc)) from exc
