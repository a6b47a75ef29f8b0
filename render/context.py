"""What a renderer needs beside the signed bytes: names the registries give to identifiers (units,
bidders, people), when the system received each signature, and where the signed original is."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from domain.documents.xmlcommon import body_of


@dataclass(frozen=True)
class Context:
    """`units`: unit id -> Persian name (policy [[units]]); `names`: bidder id or national ID ->
    the name the registry holds (shown beside the identifier, never instead of it); `received`:
    signer's national ID -> when the system received that signature (aware UTC); `original`: where
    the signed original is (a path in the evidence bundle or an address)."""

    units: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    received: Mapping[str, datetime] = field(default_factory=dict)
    original: str = "پروندهٔ XML امضاشده در سامانهٔ معاملات الکترونیکی"

    def named(self, identifier: str | None) -> str:
        """«name (id)» when the registry names it, else the identifier as typed."""
        if not identifier:
            return "—"
        name = self.names.get(identifier)
        return f"{name} ({identifier})" if name else identifier


def q(content: etree._Element, name: str) -> str:
    """The Clark name of `name` in the document's own namespace."""
    return f"{{{etree.QName(content).namespace}}}{name}"


def part(content: etree._Element, name: str) -> etree._Element:
    """The Body's child `name`, or an empty element (absent parts render as "—")."""
    found = body_of(content).find(q(content, name))
    return found if found is not None else etree.Element(name)
