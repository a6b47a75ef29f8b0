"""Which renderer a signed document needs, and the rendering itself: the signed envelope is parsed
with the safe parser and only read; its bytes' SHA-256 and the document's id go to the QR code."""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from lxml import etree

from domain.documents.xmlcommon import body_digest
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


def render_approved_contract(contract_xml: bytes, approvals: list[tuple[bytes, bytes]],
                             ctx: Context | None = None) -> Rendering:
    """The printable HTML of a contract approved at the stations (issue 13): the contract's exact bytes
    `contract_xml` (its final text, unsigned itself) and its approvals, each (a signed stage document,
    the contract's bytes it approved, whose canonical body's SHA-256 it names). The verification block lists every
    approval's signer and, for an approval of an earlier text (a field entered at a later stage), that
    text's SHA-256; the QR code and the digest are the final text's. Nothing is changed.
    Rule: issue 16 part 1; R12, R13.

    Raises: MALFORMED_XML (not a contract, or an approval that is not a stage document), ENVELOPE_TAMPERED
    (an approval naming other bytes than the ones given with it), SIGNATURE_INVALID (an unreadable
    signature)."""
    from render.page import el
    from render.verification import signers_of

    ctx = ctx or Context()
    content = parse_untrusted(contract_xml)
    kind, module = _kind(content)
    if kind != "contract":
        raise DomainError(Reason.MALFORMED_XML, "سند قرارداد نیست")
    doc_id, digest = module.doc_id(content), sha256_hex(contract_xml)
    final_body = body_digest(content)  # what an approval names: the SHA-256 of the contract's canonical body
    signers: list[Signer] = []
    earlier: list[tuple[Signer, str]] = []
    for approval, approved in approvals:
        doc = parse_untrusted(approval)
        named = signed_document_root(doc).find(".//{urn:tehran:eproc:contract-request:1}Document")
        if named is None:
            raise DomainError(Reason.MALFORMED_XML, "تأیید مرحلهٔ قرارداد نیست")
        if named.get("sha256") != body_digest(parse_untrusted(approved)):
            raise DomainError(Reason.ENVELOPE_TAMPERED, "تأیید مرحله برای متن دیگری از قرارداد است")
        found = signers_of(doc)
        signers += found
        if named.get("sha256") != final_body:
            earlier += [(s, sha256_hex(approved)) for s in found]
    unit = module.unit_of(content)
    html, body = new_page(module.TITLE, unit, ctx.units.get(unit or ""), qr_data_uri(doc_id, digest), doc_id)
    module.fill(body, content, ctx)
    verification_block(body, None, contract_xml, doc_id, ctx.received, ctx.original, signers=signers)
    for signer, approved_digest in earlier:
        line = el(body, "p", f"تأیید {signer.name} بر متن پیشین قرارداد است، با چکیدهٔ SHA-256: ")
        el(line, "span", approved_digest, class_="ltr", dir="ltr")
    return Rendering(kind=kind, doc_id=doc_id, title=module.TITLE, sha256=digest, qr=qr_payload(doc_id, digest),
                     signers=tuple(signers), html=finish(html))
