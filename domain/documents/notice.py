"""The documents of a tender's announcement (R02; "Stations and trust"):

- `TenderRequest`: the operator's request to create a tender, carrying the tender file (TOML) byte for
  byte, signed on the operator's token;
- `Notice`: the tender's notice as bidders read it, signed by the unit's authorised signatory on
  their token and countersigned by the engine when published. It states the rules in force for that
  unit and date (R02, R27), the seats of the opening key (which members and alternates hold the
  security representative's part and each voting seat's share, and how many voting seats open a bid)
  and every holder's certificate in full: each bidder's tool deals its own bid's key to them (issue 12).

    <Notice xmlns="urn:tehran:eproc:notice:1">
      <Body Id="body" version="1">
        <Tender id="D12-1400-017" unit="district-12" kind="tender" procedure="one_stage"/>
        <Title>...</Title>
        <AnnouncedAt utc="..." jalali="..."/> <Deadline .../> <OpeningAt .../> [<PriceOpeningAt .../>]
        <Guarantee rial="650000000" valid_until="2021-10-04" jalali="1400/07/12"/>
        <Estimate rial="13650000000" price_list="technical-civil/1400" price_list_version="1"/>
        <Rules policy_version="1400.1" wording="physical_and_electronic">
          <Rule rule="electronic_minutes_mandatory" in_force="true"/> ...
        </Rules>
        <Text>آگهی مناقصه: ...</Text>
        <OpeningSeats threshold="3">
          <Seat role="chair" members="m1 m6"/> <Seat role="finance" members="m2"/> ... <Seat role="security" members="m5"/>
        </OpeningSeats>
        <Commission>
          <Member id="m1" role="chair" full_name="..." certificate_serial="<hex>" certificate_sha256="<hex>"
                  key_transport="RSA_PKCS_OAEP_SHA256" certificate="<base64 DER>"/> ...
        </Commission>
        <Documents><Document file_name="tender-documents.json" sha256="..." size="..."/></Documents>
      </Body>
    </Notice>

National IDs of commission members are not published; their certificates identify the keys.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from domain.documents.xmlcommon import body_of, new_document, sub, time_attrs, version_of
from domain.persian import format_jalali_date, normalize
from domain.reasons import DomainError, Reason

REQUEST_NS = "urn:tehran:eproc:tender-request:1"
NS = "urn:tehran:eproc:notice:1"
MAX_FILE_BYTES = 1024 * 1024  # a tender file is a few kilobytes
WORDING_BOTH = "physical_and_electronic"    # R27: documents physical and electronic, both required
WORDING_ELECTRONIC = "electronic_only"       # R27: electronic only
_TENDER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,63}$")
_HEX = re.compile(r"^[0-9a-f]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,99}$")


def _malformed(detail: str) -> DomainError:
    return DomainError(Reason.MALFORMED_XML, detail)


def _invalid(detail: str) -> DomainError:
    return DomainError(Reason.INVALID_INPUT, detail)


def check_tender_id(tender_id: str) -> str:
    """A tender id: letters, digits and `_ - .`, at most 64 characters (e.g. D12-1400-017).

    Raises: INVALID_INPUT. Rule: issue 11 part 3 (tenders from a tender file)."""
    if not isinstance(tender_id, str) or not _TENDER_ID.match(tender_id):
        raise _invalid(f"شناسهٔ مناقصه نامعتبر است: «{str(tender_id)[:64]}»")
    return tender_id


@dataclass(frozen=True)
class TenderRequest:
    """An operator's request to create tender `tender_id` in `unit` from the tender file `content`
    (TOML bytes) named `file_name`."""

    tender_id: str
    unit: str
    file_name: str
    content: bytes


def build_tender_request(req: TenderRequest, version: int = 1) -> etree._Element:
    """The unsigned creation request (signed by the operator on their token as operator@unit).

    Raises: INVALID_INPUT (tender id, unit or file name malformed, empty file or larger than 1 MiB).
    Rule: issue 11 part 3; "Stations and trust" (every state-changing request is a signed document)."""
    check_tender_id(req.tender_id)
    if not _NAME.match(req.unit or "") or not _NAME.match(req.file_name or ""):
        raise _invalid("واحد یا نام پروندهٔ مناقصه نامعتبر است")
    if not req.content or len(req.content) > MAX_FILE_BYTES:
        raise _invalid("پروندهٔ مناقصه خالی یا بزرگ‌تر از ۱ مگابایت است")
    root, body = new_document(REQUEST_NS, "TenderRequest", version)
    sub(body, "Tender", id=req.tender_id, unit=req.unit)
    sub(body, "File", base64.b64encode(req.content).decode("ascii"), file_name=req.file_name,
        sha256=hashlib.sha256(req.content).hexdigest(), size=len(req.content))
    return root


def _body(doc: etree._Element, ns: str, name: str) -> etree._Element:
    if doc.tag != f"{{{ns}}}{name}":
        raise _malformed(f"سند {name} نیست")
    body = body_of(doc)
    try:
        if version_of(doc) != 1:
            raise ValueError
    except (TypeError, ValueError):
        raise _malformed(f"نسخهٔ سند {name} پشتیبانی نمی‌شود") from None
    return body


def _one(body: etree._Element, ns: str, name: str, optional: bool = False) -> etree._Element | None:
    found = body.findall(f"{{{ns}}}{name}")
    if len(found) > 1 or (not found and not optional):
        raise _malformed(f"سند باید دقیقاً یک {name} داشته باشد")
    return found[0] if found else None


def _req(body: etree._Element, ns: str, name: str) -> etree._Element:
    el = _one(body, ns, name)
    assert el is not None
    return el


def read_tender_request(doc: etree._Element) -> TenderRequest:
    """What a creation request states; the file's digest and size must match its content.

    Raises: MALFORMED_XML (not a version-1 TenderRequest, content not base64); INVALID_INPUT.
    Rule: issue 11 part 3."""
    body = _body(doc, REQUEST_NS, "TenderRequest")
    tender, file_el = _req(body, REQUEST_NS, "Tender"), _req(body, REQUEST_NS, "File")
    try:
        content = base64.b64decode("".join((file_el.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("محتوای پروندهٔ مناقصه base64 نیست") from None
    if hashlib.sha256(content).hexdigest() != file_el.get("sha256") or str(len(content)) != file_el.get("size"):
        raise _invalid("چکیده یا اندازهٔ پروندهٔ مناقصه با محتوای آن نمی‌خواند")
    req = TenderRequest(tender.get("id", ""), tender.get("unit", ""), file_el.get("file_name", ""), content)
    build_tender_request(req)  # the same checks as when it was built
    return req


@dataclass(frozen=True)
class NoticeMember:
    """A commission member or alternate as the notice names them, with the certificate their part of
    the opening key was wrapped to (serial hex, SHA-256 of the DER), or empty when they hold none."""

    id: str
    role: str
    name: str
    alternate_for: str | None = None
    certificate_serial: str = ""
    certificate_sha256: str = ""
    certificate_b64: str = ""  # the DER, base64: bidders wrap parts of their bid's key to it
    key_transport: str = ""    # the RSA-OAEP variant the member's token decrypts (signing.keytransport)


@dataclass(frozen=True)
class NoticeDocumentRef:
    """A document published with the notice: name, SHA-256 (hex) and size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class NoticeContent:
    """What a notice states. Times are aware UTC; amounts whole rials; `rules` the calendar rules in
    force (name -> bool) for the unit on the announcement day under policy `policy_version`."""

    tender_id: str
    unit: str
    kind: str
    procedure: str
    title: str
    announced_at: datetime
    deadline: datetime
    opening_at: datetime
    guarantee_rial: int
    guarantee_valid_until: date
    estimate_rial: int
    price_list: str
    price_list_version: int
    policy_version: str
    rules: dict[str, bool]
    text: str
    threshold: int                        # voting seats that open a bid, with the security part
    seats: dict[str, tuple[str, ...]]     # seat role (voting roles, then "security") -> member ids
    members: tuple[NoticeMember, ...]
    documents: tuple[NoticeDocumentRef, ...] = field(default_factory=tuple)
    price_opening_at: datetime | None = None

    @property
    def wording(self) -> str:
        """R27's notice wording mode: documents physical and electronic both, or electronic only."""
        return WORDING_BOTH if self.rules.get("physical_documents_accepted") else WORDING_ELECTRONIC


def _checked_seats(n: NoticeContent) -> None:
    """Every seat names members of the notice holding a certificate; the threshold fits the voting seats."""
    holders = {mem.id: mem for mem in n.members if mem.certificate_b64}
    voting = [role for role in n.seats if role != SECURITY_SEAT]
    if SECURITY_SEAT not in n.seats or not voting or not 1 <= n.threshold <= len(voting):
        raise _invalid("صندلی‌های کلید بازگشایی در آگهی ناقص است")
    for role, ids in n.seats.items():
        if not ids or any(i not in holders for i in ids):
            raise _invalid(f"صندلی «{role}» در آگهی عضو دارای گواهی ندارد")
    for mem in holders.values():
        try:
            base64.b64decode(mem.certificate_b64, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(f"گواهی عضو «{mem.id}» در آگهی base64 نیست") from None


def build_notice(n: NoticeContent, version: int = 1) -> etree._Element:
    """The unsigned notice (signed by the unit's authorised signatory, then countersigned by the
    engine when it publishes it).

    Raises: INVALID_INPUT (tender id, times out of order, no required phrase text, seats naming members
    without a certificate, a malformed member or document). Rule: R02 (the notice states the rules in
    force for that unit and date), R27 (wording modes), "Stations and trust" and issue 12 (the public
    material bidders deal their bid's key to is published in the signed notice)."""
    check_tender_id(n.tender_id)
    if not n.announced_at < n.deadline <= n.opening_at:
        raise _invalid("ترتیب زمان‌های آگهی باید انتشار < مهلت ≤ بازگشایی باشد")
    if not normalize(n.text) or not normalize(n.title):
        raise _invalid("متن یا عنوان آگهی خالی است")
    _checked_seats(n)
    root, body = new_document(NS, "Notice", version)
    sub(body, "Tender", id=n.tender_id, unit=n.unit, kind=n.kind, procedure=n.procedure)
    sub(body, "Title", normalize(n.title))
    sub(body, "AnnouncedAt", **time_attrs(n.announced_at))
    sub(body, "Deadline", **time_attrs(n.deadline))
    sub(body, "OpeningAt", **time_attrs(n.opening_at))
    if n.price_opening_at is not None:
        sub(body, "PriceOpeningAt", **time_attrs(n.price_opening_at))
    sub(body, "Guarantee", rial=n.guarantee_rial, valid_until=n.guarantee_valid_until.isoformat(),
        jalali=format_jalali_date(n.guarantee_valid_until))
    sub(body, "Estimate", rial=n.estimate_rial, price_list=n.price_list, price_list_version=n.price_list_version)
    rules = sub(body, "Rules", policy_version=n.policy_version, wording=n.wording)
    for name in sorted(n.rules):
        sub(rules, "Rule", rule=name, in_force="true" if n.rules[name] else "false")
    sub(body, "Text", normalize(n.text))
    seats = sub(body, "OpeningSeats", threshold=n.threshold)
    for role, ids in n.seats.items():
        sub(seats, "Seat", role=role, members=" ".join(ids))
    commission = sub(body, "Commission")
    for mem in n.members:
        if mem.certificate_serial and not _HEX.match(mem.certificate_serial) \
                or mem.certificate_sha256 and not _HEX64.match(mem.certificate_sha256):
            raise _invalid(f"گواهی عضو «{mem.id}» در آگهی نامعتبر است")
        sub(commission, "Member", id=mem.id, role=mem.role, full_name=normalize(mem.name),
            alternate_for=mem.alternate_for, certificate_serial=mem.certificate_serial or None,
            certificate_sha256=mem.certificate_sha256 or None, key_transport=mem.key_transport or None,
            certificate=mem.certificate_b64 or None)
    docs = sub(body, "Documents")
    for d in n.documents:
        if not _NAME.match(d.name) or not _HEX64.match(d.sha256) or d.size < 1:
            raise _invalid(f"سند آگهی نامعتبر است: «{d.name[:100]}»")
        sub(docs, "Document", file_name=d.name, sha256=d.sha256, size=d.size)
    return root


SECURITY_SEAT = "security"


def _utc(el: etree._Element | None) -> datetime | None:
    if el is None:
        return None
    try:
        value = datetime.fromisoformat((el.get("utc") or "").replace("Z", "+00:00"))
    except ValueError:
        raise _malformed(f"زمان «{etree.QName(el).localname}» در آگهی خوانا نیست") from None
    if value.tzinfo is None:
        raise _malformed("زمان آگهی منطقهٔ زمانی ندارد")
    return value


def _int(el: etree._Element, name: str) -> int:
    value = el.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise _malformed(f"مقدار «{name}» در آگهی عدد نیست")
    return int(value)


def read_notice(doc: etree._Element) -> NoticeContent:
    """What a notice (the canonical document inside the signed envelope) states.

    Raises: MALFORMED_XML (not a version-1 Notice, a missing or unreadable part); INVALID_INPUT (see
    build_notice). Rule: "Stations and trust" (bidders' tools read the opening key from the signed notice)."""
    body = _body(doc, NS, "Notice")

    def el(name: str) -> etree._Element:
        return _req(body, NS, name)

    tender, guarantee, estimate, rules_el = el("Tender"), el("Guarantee"), el("Estimate"), el("Rules")
    try:
        valid_until = date.fromisoformat(guarantee.get("valid_until", ""))
    except ValueError:
        raise _malformed("تاریخ اعتبار تضمین در آگهی خوانا نیست") from None
    announced, deadline, opening = _utc(el("AnnouncedAt")), _utc(el("Deadline")), _utc(el("OpeningAt"))
    assert announced is not None and deadline is not None and opening is not None
    members = tuple(NoticeMember(m.get("id", ""), m.get("role", ""), m.get("full_name", ""), m.get("alternate_for"),
                                 m.get("certificate_serial", ""), m.get("certificate_sha256", ""),
                                 m.get("certificate", ""), m.get("key_transport", ""))
                    for m in el("Commission").findall(f"{{{NS}}}Member"))
    seats_el = el("OpeningSeats")
    seats = {seat.get("role", ""): tuple((seat.get("members") or "").split())
             for seat in seats_el.findall(f"{{{NS}}}Seat")}
    documents = tuple(NoticeDocumentRef(d.get("file_name", ""), d.get("sha256", ""), _int(d, "size"))
                      for d in el("Documents").findall(f"{{{NS}}}Document"))
    rules = {r.get("rule", ""): r.get("in_force") == "true" for r in rules_el.findall(f"{{{NS}}}Rule")}
    content = NoticeContent(
        tender_id=tender.get("id", ""), unit=tender.get("unit", ""), kind=tender.get("kind", ""),
        procedure=tender.get("procedure", ""), title=el("Title").text or "", announced_at=announced,
        deadline=deadline, opening_at=opening, guarantee_rial=_int(guarantee, "rial"),
        guarantee_valid_until=valid_until, estimate_rial=_int(estimate, "rial"),
        price_list=estimate.get("price_list", ""), price_list_version=_int(estimate, "price_list_version"),
        policy_version=rules_el.get("policy_version", ""), rules=rules, text=el("Text").text or "",
        threshold=_int(seats_el, "threshold"), seats=seats, members=members, documents=documents,
        price_opening_at=_utc(_one(body, NS, "PriceOpeningAt", optional=True)))
    build_notice(content)  # the same checks as when it was built
    return content

