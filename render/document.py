"""Which renderer a signed document needs, and the rendering itself: the signed envelope is parsed
with the safe parser and only read; its bytes' SHA-256 and the document's id go to the QR code."""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from lxml import etree

from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from render import checkpoint, contract, minutes, notification, receipt, statement
from render.context import Context
from render.page import finish, new_page
from render.verification import Signer, qr_data_uri, qr_payload, sha256_hex, verification_block
from signing.xmldsig import signed_document_root

# Root element of the signed content -> (kind, its renderer module).
KINDS: dict[str, tuple[str, ModuleType]] = {
    "{urn:tehran:eproc:minutes:1}Minutes": ("article13", minutes),
    "{urn:tehran:eproc:notification:1}Notification": ("article18", notification),
    "{urn:tehran:eproc:receipt:1}Receipt": ("receipt", receipt),
    "{urn:tehran:eproc:status-statement:1}StatusStatement": ("status_statement", statement),
    "{urn:tehran:eproc:contract:1}Contract": ("contract", contract),
    "{urn:tehran:eproc:audit-checkpoint:1}Checkpoint": ("checkpoint", checkpoint),
}


@dataclass(frozen=True)
class Rendering:
    """A document for people: `kind` (article13, article18, receipt, status_statement, contract,
    checkpoint), `doc_id`, `title`, `sha256` (hex, of the signed bytes as given), `qr` (the text the
    QR code carries), `signers` (in signature order) and the HTML page."""

    kind: str
    doc_id: str
    title: str
    sha256: str
    qr: str
    signers: tuple[Signer, ...]
    html: str


def document_kind(xml: bytes) -> str:
    """The kind of a signed document. Raises: MALFORMED_XML (not a signed document of a known kind)."""
    return _kind(signed_document_root(parse_untrusted(xml)))[0]


def _kind(content: etree._Element) -> tuple[str, ModuleType]:
    found = KINDS.get(content.tag)
    if found is None:
        raise DomainError(Reason.MALFORMED_XML, f"سند امضاشده از نوع قابل چاپ نیست: {etree.QName(content).localname}")
    return found


def render_html(xml: bytes, ctx: Context | None = None) -> Rendering:
    """The printable HTML of the signed document `xml` (its exact bytes, never changed): heading,
    the document's facts and tables, and the verification block. Rule: issue 16 part 1; R10, R11.

    Raises: MALFORMED_XML (not a signed document of a known kind), SIGNATURE_INVALID (an unreadable
    signature)."""
    ctx = ctx or Context()
    doc = parse_untrusted(xml)
    content = signed_document_root(doc)
    kind, module = _kind(content)
    doc_id, digest = module.doc_id(content), sha256_hex(xml)
    unit = module.unit_of(content)
    html, body = new_page(module.TITLE, unit, ctx.units.get(unit or ""), qr_data_uri(doc_id, digest), doc_id)
    module.fill(body, content, ctx)
    signers = verification_block(body, doc, xml, doc_id, ctx.received, ctx.original)
    return Rendering(kind=kind, doc_id=doc_id, title=module.TITLE, sha256=digest, qr=qr_payload(doc_id, digest),
                     signers=tuple(signers), html=finish(html))
