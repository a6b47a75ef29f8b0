"""The documents of approved prices (R09): a price-list version as an operator imports it, and the
responsible deputy's approvals of a price-list version and of a formula version, each recording the
technical council's reference. Each is signed on the person's own token (signing.xmldsig) and
verified at receipt (services.auth.verify_actor_document).

    <PriceListImport xmlns="urn:tehran:eproc:price-list-import:1">
      <Body Id="body" version="1">
        <PriceList id="technical-civil/1400" version="1" domain="technical-civil" items_sha256="..."/>
        <Item code="010101" unit="m3" unit_price="1250000"/> ...
      </Body>
    </PriceListImport>

    <PriceListApproval xmlns="urn:tehran:eproc:price-list-approval:1">
      <Body Id="body" version="1">
        <PriceList id="technical-civil/1400" version="1" domain="technical-civil" items_sha256="..."/>
        <TechnicalCouncil ref="TC-1400-118"/>
      </Body>
    </PriceListApproval>

    <FormulaApproval xmlns="urn:tehran:eproc:formula-approval:1">
      <Body Id="body" version="1">
        <Formula id="estimate" version="1" expression_sha256="...">sum([...])</Formula>
        <TechnicalCouncil ref="TC-1399-118"/>
      </Body>
    </FormulaApproval>

The approval names the content it approves by digest (`items_digest`, `expression_digest`), so the
deputy's signature covers exactly the prices they were shown.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, version_of
from domain.money import check_rial
from domain.persian import normalize
from domain.reasons import DomainError, Reason

IMPORT_NS = "urn:tehran:eproc:price-list-import:1"
APPROVAL_NS = "urn:tehran:eproc:price-list-approval:1"
FORMULA_NS = "urn:tehran:eproc:formula-approval:1"
# The price-list domains of R09, by the short name operators type: urban services, green space,
# technical and civil.
DOMAINS = {"urban": "urban-services", "green": "green-space", "civil": "technical-civil"}

_LIST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./]{0,99}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./]{0,39}$")
_FORMULA_ID = re.compile(r"^[a-z][a-z0-9\-]{0,59}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_VERSION = 1_000_000


@dataclass(frozen=True)
class PriceItem:
    """One row of a price list: code, unit of measure, unit price in whole rials."""

    code: str
    unit: str
    unit_price: int


@dataclass(frozen=True)
class PriceListContent:
    """A price-list version: its id, version, domain (a value of DOMAINS) and items in code order."""

    list_id: str
    version: int
    domain: str
    items: tuple[PriceItem, ...]


@dataclass(frozen=True)
class PriceListApproval:
    """The deputy's approval of price list `list_id` version `version` whose items digest to
    `items_sha256`, with the technical council's reference."""

    list_id: str
    version: int
    domain: str
    items_sha256: str
    technical_council_ref: str


@dataclass(frozen=True)
class FormulaApproval:
    """The deputy's approval of formula `formula_id` version `version` with this expression."""

    formula_id: str
    version: int
    expression: str
    technical_council_ref: str


def _invalid(detail: str) -> DomainError:
    return DomainError(Reason.INVALID_INPUT, detail)


def _version(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise _invalid(f"نسخهٔ {what} باید عدد صحیح مثبت باشد: {value!r}")
    return value


def _text(value: str, what: str, limit: int) -> str:
    text = normalize(value or "")
    if not text or len(text) > limit:
        raise _invalid(f"{what} خالی یا بلندتر از {limit} نویسه است")
    return text


def check_list_id(list_id: str) -> str:
    """A price-list id: letters, digits and `_ - . /`, at most 100 characters (e.g. technical-civil/1400).

    Raises: INVALID_INPUT. Rule: R09."""
    if not isinstance(list_id, str) or not _LIST_ID.match(list_id) or ".." in list_id or "//" in list_id:
        raise _invalid(f"شناسهٔ فهرست بها نامعتبر است: «{str(list_id)[:100]}»")
    return list_id


def check_domain(domain: str) -> str:
    """A price-list domain: one of DOMAINS' values, or its short name (urban, green, civil).

    Raises: INVALID_INPUT. Rule: R09 (price lists and formulas per domain)."""
    full = DOMAINS.get(domain, domain)
    if full not in DOMAINS.values():
        raise _invalid(f"حوزهٔ فهرست بها باید یکی از {', '.join(DOMAINS)} باشد: «{str(domain)[:40]}»")
    return full


def checked_items(items: Iterable[PriceItem]) -> tuple[PriceItem, ...]:
    """The items in code order, each checked: code (letters, digits, `_ - . /`, at most 40), unit
    (normalised, at most 20 characters), unit price a whole number of rials at least 1; no code twice;
    at least one item.

    Raises: INVALID_INPUT; AMOUNT_OUT_OF_RANGE (a price of 0 or beyond domain.money's range). Rule: R09."""
    out: dict[str, PriceItem] = {}
    for item in items:
        if not isinstance(item.code, str) or not _CODE.match(item.code):
            raise _invalid(f"کد ردیف فهرست بها نامعتبر است: «{str(item.code)[:40]}»")
        if item.code in out:
            raise _invalid(f"ردیف «{item.code}» دو بار در فهرست بها آمده است")
        unit = _text(item.unit, f"واحد ردیف «{item.code}»", 20)
        out[item.code] = PriceItem(item.code, unit, check_rial(item.unit_price, minimum=1,
                                                               field=f"بهای واحد ردیف {item.code}"))
    if not out:
        raise _invalid("فهرست بها هیچ ردیفی ندارد")
    return tuple(out[code] for code in sorted(out))


def items_digest(items: Iterable[PriceItem]) -> str:
    """SHA-256 (hex) of the items as canonical JSON [[code, unit, unit price], ...] in code order: the
    value an approval names. Rule: R09 (the deputy approves exactly these prices)."""
    rows = [[i.code, i.unit, i.unit_price] for i in sorted(items, key=lambda i: i.code)]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def expression_digest(expression: str) -> str:
    """SHA-256 (hex) of a formula's expression text (UTF-8)."""
    return hashlib.sha256(expression.encode("utf-8")).hexdigest()


def _checked_content(content: PriceListContent) -> PriceListContent:
    return PriceListContent(check_list_id(content.list_id), _version(content.version, "فهرست بها"),
                            check_domain(content.domain), checked_items(content.items))


def build_price_list_import(content: PriceListContent, version: int = 1) -> etree._Element:
    """The unsigned import document of a price-list version (signed by the operator on their token).

    Raises: INVALID_INPUT, AMOUNT_OUT_OF_RANGE (see checked_items, check_list_id, check_domain).
    Rule: R09 (uploaded price lists per domain)."""
    content = _checked_content(content)
    root, body = new_document(IMPORT_NS, "PriceListImport", version)
    sub(body, "PriceList", id=content.list_id, version=content.version, domain=content.domain,
        items_sha256=items_digest(content.items))
    for item in content.items:
        sub(body, "Item", code=item.code, unit=item.unit, unit_price=item.unit_price)
    return root


def _body(doc: etree._Element, ns: str, name: str) -> etree._Element:
    if doc.tag != f"{{{ns}}}{name}":
        raise DomainError(Reason.MALFORMED_XML, f"سند {name} نیست")
    body = body_of(doc)
    try:
        if version_of(doc) != 1:
            raise ValueError
    except (TypeError, ValueError):
        raise DomainError(Reason.MALFORMED_XML, f"نسخهٔ سند {name} پشتیبانی نمی‌شود") from None
    return body


def _one(body: etree._Element, ns: str, name: str) -> etree._Element:
    found = body.findall(f"{{{ns}}}{name}")
    if len(found) != 1:
        raise DomainError(Reason.MALFORMED_XML, f"سند باید دقیقاً یک {name} داشته باشد")
    return found[0]


def _int_attr(el: etree._Element, name: str) -> int:
    value = el.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise _invalid(f"مقدار «{name}» عدد صحیح نیست: «{value[:20]}»")
    return int(value)


def read_price_list_import(doc: etree._Element) -> PriceListContent:
    """What an import document states, checked as build_price_list_import checks it; the stated
    items digest must be the items'.

    Raises: MALFORMED_XML (not a version-1 PriceListImport); INVALID_INPUT, AMOUNT_OUT_OF_RANGE. Rule: R09."""
    body = _body(doc, IMPORT_NS, "PriceListImport")
    head = _one(body, IMPORT_NS, "PriceList")
    items = [PriceItem(el.get("code", ""), el.get("unit", ""), _int_attr(el, "unit_price"))
             for el in body.findall(f"{{{IMPORT_NS}}}Item")]
    content = _checked_content(PriceListContent(head.get("id", ""), _int_attr(head, "version"),
                                                head.get("domain", ""), tuple(items)))
    if head.get("items_sha256") != items_digest(content.items):
        raise _invalid("چکیدهٔ ردیف‌های فهرست بها با ردیف‌های سند نمی‌خواند")
    return content


def build_price_list_approval(approval: PriceListApproval, version: int = 1) -> etree._Element:
    """The unsigned approval of a price-list version (signed by the deputy on their token).

    Raises: INVALID_INPUT (ids, digest not SHA-256 hex, empty council reference). Rule: R09 (only the
    responsible deputy approves; the technical council's approval is recorded)."""
    a = _checked_approval(approval)
    root, body = new_document(APPROVAL_NS, "PriceListApproval", version)
    sub(body, "PriceList", id=a.list_id, version=a.version, domain=a.domain, items_sha256=a.items_sha256)
    sub(body, "TechnicalCouncil", ref=a.technical_council_ref)
    return root


def _checked_approval(a: PriceListApproval) -> PriceListApproval:
    if not isinstance(a.items_sha256, str) or not _HEX64.match(a.items_sha256):
        raise _invalid("چکیدهٔ ردیف‌های فهرست بها SHA-256 نیست")
    return PriceListApproval(check_list_id(a.list_id), _version(a.version, "فهرست بها"), check_domain(a.domain),
                             a.items_sha256, _text(a.technical_council_ref, "شمارهٔ مصوبهٔ شورای فنی", 100))


def read_price_list_approval(doc: etree._Element) -> PriceListApproval:
    """What a price-list approval states.

    Raises: MALFORMED_XML (not a version-1 PriceListApproval); INVALID_INPUT. Rule: R09."""
    body = _body(doc, APPROVAL_NS, "PriceListApproval")
    head, council = _one(body, APPROVAL_NS, "PriceList"), _one(body, APPROVAL_NS, "TechnicalCouncil")
    return _checked_approval(PriceListApproval(head.get("id", ""), _int_attr(head, "version"),
                                               head.get("domain", ""), head.get("items_sha256", ""),
                                               council.get("ref", "")))


def _checked_formula(a: FormulaApproval) -> FormulaApproval:
    if not isinstance(a.formula_id, str) or not _FORMULA_ID.match(a.formula_id):
        raise _invalid(f"شناسهٔ فرمول نامعتبر است: «{str(a.formula_id)[:60]}»")
    if not isinstance(a.expression, str) or not a.expression.strip() or len(a.expression) > 4000:
        raise _invalid("متن فرمول خالی یا بیش از اندازه بلند است")
    return FormulaApproval(a.formula_id, _version(a.version, "فرمول"), a.expression,
                           _text(a.technical_council_ref, "شمارهٔ مصوبهٔ شورای فنی", 100))


def build_formula_approval(approval: FormulaApproval, version: int = 1) -> etree._Element:
    """The unsigned approval of a formula version (signed by the deputy on their token).

    Raises: INVALID_INPUT. Rule: R09 (only the responsible deputy approves formulas; the technical
    council's approval is recorded)."""
    a = _checked_formula(approval)
    root, body = new_document(FORMULA_NS, "FormulaApproval", version)
    sub(body, "Formula", a.expression, id=a.formula_id, version=a.version,
        expression_sha256=expression_digest(a.expression))
    sub(body, "TechnicalCouncil", ref=a.technical_council_ref)
    return root


def read_formula_approval(doc: etree._Element) -> FormulaApproval:
    """What a formula approval states; the stated digest must be the expression's.

    Raises: MALFORMED_XML (not a version-1 FormulaApproval); INVALID_INPUT. Rule: R09."""
    body = _body(doc, FORMULA_NS, "FormulaApproval")
    formula, council = _one(body, FORMULA_NS, "Formula"), _one(body, FORMULA_NS, "TechnicalCouncil")
    a = _checked_formula(FormulaApproval(formula.get("id", ""), _int_attr(formula, "version"), formula.text or "",
                                         council.get("ref", "")))
    if formula.get("expression_sha256") != expression_digest(a.expression):
        raise _invalid("چکیدهٔ متن فرمول با متن سند نمی‌خواند")
    return a
