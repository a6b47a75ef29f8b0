"""Tenders from a tender file, announced from the operators' stations (issue 11 part 3; R02).

1. `create_tender`: the unit's operator (services.pricelists.OPERATOR_ROLE) sends the tender file
   (TOML: the keys of a scenario's `[tender]` and `[[commission]]`, plus `[tender] id` and a
   `[price_list]` reference) inside a TenderRequest signed on their token. The engine parses it
   (`parse_tender_file`, the one parser, also run on the station first), checks the unit, the dates,
   the registry roles of the commission, the price list's and the formulas' token-signed approvals
   (R09), computes the estimate, creates the opening key split among the commission's certificates
   and keeps the tender as a draft.
2. `draft_notice`: the notice as it would be published now (domain.documents.notice), for the unit's
   authorised signatory (`NOTICE_SIGNATORY`) to check and sign on their token at their station.
3. `publish_notice`: the signed notice, verified at receipt, must be exactly the tender's notice as
   of the announcement time it states (within the policy's signing-time skew of its receipt); the
   engine countersigns it, registers the tender (services.tender.announce.announce with the plan
   made at creation) and publishes it on the portal with its documents.
4. `published_notice`: the published, signed notice bidders verify before sealing.

The sealed bid file (`pack_bid_file`, `read_bid_file`) is what `eproc bid seal` writes on the bidder's
station and `eproc bid submit` streams to POST /v1/tenders/{id}/bids as it is.
"""
from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import IO, Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.policy import Policy
from domain.documents.notice import (
    SECURITY_SEAT,
    NoticeContent,
    NoticeDocumentRef,
    NoticeMember,
    build_notice,
    check_tender_id,
    read_notice,
    read_tender_request,
)
from domain.documents.xmlcommon import body_of
from domain.formulas import Formula
from domain.identity import validate_company_id, validate_national_id
from domain.persian import normalize, parse_amount_rial, parse_decimal, parse_int, to_tehran
from domain.reasons import DomainError, Reason
from domain.tender.commission import Member, Role
from domain.tender.model import Kind, Procedure, TenderItem, TenderSpec
from domain.validation_fa import problems_fa
from domain.xmlsafe import parse_untrusted
from sealing.envelopes import SealedBid
from sealing.opening_key import OpeningSeats
from services import codec, rules_calendar
from services.auth import VerifiedDocument
from services.deps import Deps
from services.fields import (
    CommissionMemberKeys,
    check_times_order,
    day as _day,
    edge as _edge,
    normalize_all,
    text as _text,
    when as _when,
)
from services.pricelists import FORMULA, OPERATOR_ROLE, PRICE_LIST
from services.signers import ENGINE_ROLE, ENGINE_UNIT
from services.tender.announce import (
    SignedNotice,
    announce,
    check_tender,
    notice_text,
    opening_seats,
    tender_documents,
)
from store import models as m

NOTICE_SIGNATORY = "chair"  # the unit's authorised signatory of notices: the commission's chair
TENDER_FORMULAS = ("estimate", "abnormally-low", "guarantee")  # the formulas a tender is priced and judged by
__all__ = ["BID_FILE_MAGIC", "NOTICE_SIGNATORY", "OPERATOR_ROLE", "TENDER_FORMULAS", "BidFile", "CreatedTender",
           "TenderFile", "check_announced", "create_tender", "draft_notice", "pack_bid_file", "parse_tender_file",
           "publish_notice", "published_notice", "read_bid_file", "tender_status"]


# --- the tender file ------------------------------------------------------------------------------

class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuantityDef(_M):
    code: str
    quantity: Decimal = Field(gt=0)
    _v = field_validator("quantity", mode="before")(_edge(lambda v, n: parse_decimal(v, "مقدار")))


class TenderDef(_M):
    """`[tender]`: the keys of a scenario's tender (../shared/spec/scenario-format.md) plus its `id`;
    `announce_at` is the planned announcement (the notice states when it was really published)."""

    id: str
    kind: Literal["tender", "auction", "price_inquiry"]
    procedure: Literal["one_stage", "two_stage"]
    unit: str
    title: str
    items: list[QuantityDef] = Field(min_length=1)
    guarantee_rial: int
    guarantee_valid_until: date
    deadline: datetime
    opening_at: datetime
    announce_at: datetime | None = None
    required_documents: list[str] = Field(default_factory=list)
    allowed_grades: list[int] = Field(default_factory=list)
    min_technical_score: int | None = None
    price_opening_at: datetime | None = None
    min_valid_bids: int | None = Field(default=None, ge=1)
    signing_days: int | None = Field(default=None, ge=1)

    _v_id = field_validator("id", mode="before")(_edge(lambda v, n: check_tender_id(normalize(str(v)))))
    _v_dt = field_validator("announce_at", "deadline", "opening_at", "price_opening_at", mode="before")(_edge(_when))
    _v_d = field_validator("guarantee_valid_until", mode="before")(_edge(_day))
    _v_r = field_validator("guarantee_rial", mode="before")(_edge(lambda v, n: parse_amount_rial(v, "مبلغ تضمین")))
    _v_t = field_validator("title", mode="before")(_edge(_text))
    _v_i = field_validator("allowed_grades", "min_technical_score", "min_valid_bids", "signing_days",
                           mode="before")(_edge(lambda v, n: parse_int(v, n or "عدد")))

    @model_validator(mode="after")
    def _order(self) -> TenderDef:
        check_times_order(self)
        return self


class MemberDef(CommissionMemberKeys):
    """`[[commission]]`: a member or alternate of the Article 13 commission, as in a scenario."""

    _v = field_validator("national_id", mode="before")(_edge(lambda v, n: validate_national_id(str(v))))
    _v_t = field_validator("name", mode="before")(_edge(_text))


class PriceListRef(_M):
    """`[price_list]`: which approved price-list version the tender is priced from."""

    id: str
    version: int = Field(ge=1)
    _v = field_validator("version", mode="before")(_edge(lambda v, n: parse_int(v, "نسخهٔ فهرست بها")))


class TenderFile(_M):
    """A tender file: `[price_list]`, `[tender]`, `[[commission]]`."""

    price_list: PriceListRef
    tender: TenderDef
    commission: list[MemberDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> TenderFile:
        ids = [mm.id for mm in self.commission]
        if len(ids) != len(set(ids)):
            raise ValueError("شناسه‌های اعضای کمیسیون باید یکتا باشند")
        for mm in self.commission:
            if mm.alternate_for and mm.alternate_for not in ids:
                raise ValueError(f"commission.{mm.id}.alternate_for: عضو «{mm.alternate_for}» تعریف نشده است")
        return self

    def members(self) -> list[Member]:
        """The commission as the domain sees it (alternates name the member id they stand in for)."""
        return [Member(mm.id, Role(mm.role), mm.national_id, mm.alternate_for, mm.name) for mm in self.commission]

    def spec(self, policy: Policy, announce_at: datetime | None = None) -> TenderSpec:
        """The tender's specification, announced at `announce_at` (default: the planned time), with
        the policy's defaults where the file leaves them out."""
        t, d = self.tender, policy.defaults
        return TenderSpec(id=t.id, kind=Kind(t.kind), procedure=Procedure(t.procedure), unit=t.unit, title=t.title,
                          items=tuple(TenderItem(i.code, i.quantity) for i in t.items),
                          guarantee_rial=t.guarantee_rial, guarantee_valid_until=t.guarantee_valid_until,
                          deadline=t.deadline, opening_at=t.opening_at, price_opening_at=t.price_opening_at,
                          required_documents=frozenset(t.required_documents),
                          allowed_grades=frozenset(t.allowed_grades),
                          min_technical_score=None if t.min_technical_score is None else Decimal(t.min_technical_score),
                          min_valid_bids=t.min_valid_bids or d.min_valid_bids,
                          signing_days=t.signing_days or d.signing_days,
                          performance_guarantee_rate=d.performance_guarantee_rate,
                          announce_at=announce_at or t.announce_at)


def parse_tender_file(data: bytes, name: str = "tender.toml") -> TenderFile:
    """The tender file `data` (UTF-8 TOML) validated: every text normalised (domain.persian), numbers,
    amounts, Jalali times and national IDs through the edge parsers of domain/, unknown keys refused.

    Raises: INVALID_INPUT naming the file, the key and the problem in Persian (bad TOML, a missing
    or unknown key, a time that does not exist in Tehran, times out of order, a malformed id).
    Rule: issue 11 part 3 (a tender from a tender file); R01 (numbers and dates as people write them)."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{name}: TOML نامعتبر: {exc}") from None
    try:
        return TenderFile.model_validate(normalize_all(raw))
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{name}: {problems_fa(exc.errors())}") from None


# --- creating a tender -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CreatedTender:
    """A tender created from a file: id, unit, estimate in rials, the seats of its bids' opening keys
    (role -> member ids, and the threshold; issue 12) and whether it has been announced."""

    tender_id: str
    unit: str
    estimate_rial: int
    seats: OpeningSeats
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {"tender_id": self.tender_id, "unit": self.unit, "estimate_rial": self.estimate_rial,
                "opening_seats": {"threshold": self.seats.threshold,
                                  "seats": {**{r: list(i) for r, i in self.seats.voting.items()},
                                            "security": list(self.seats.security)}},
                "status": self.status}


def tender_formulas(deps: Deps) -> dict[str, Formula]:
    """The formulas a tender created now is priced and judged by: the policy's newest version of each
    of TENDER_FORMULAS, as approved (the stored row the deputy's approval wrote).

    Raises: POLICY_INVALID (a formula missing from the policy, or without a token-signed approval). Rule: R09."""
    out: dict[str, Formula] = {}
    with deps.uow() as uow:
        for name in TENDER_FORMULAS:
            entry = deps.policy.formula(name)
            row = uow.formulas.get(entry.id, entry.version)
            if row is None or uow.approvals.get(FORMULA, entry.id, entry.version) is None:
                raise DomainError(Reason.POLICY_INVALID, f"فرمول {entry.id} نسخهٔ {entry.version} با امضای معاون "
                                                         "تصویب نشده است")
            out[name] = Formula(row.formula_id, row.version, row.expression, row.approved_by, row.approved_at,
                                row.technical_council_ref)
    return out


def _check_commission(deps: Deps, members: list[Member], unit: str, day: date) -> None:
    with deps.uow() as uow:
        for mem in members:
            if not uow.roles.holds(mem.national_id, mem.role.value, unit, day):
                raise DomainError(Reason.INVALID_INPUT, f"عضو «{mem.id}» سمت «{mem.role.value}» را در {unit} "
                                                        "در ثبت سمت‌ها ندارد")


def create_tender(deps: Deps, doc: VerifiedDocument) -> CreatedTender:
    """Create the tender of the operator's signed TenderRequest `doc` (verified at receipt as
    OPERATOR_ROLE@unit): parse its file, check it, create its opening key, keep it as a draft.
    Sending the same file again returns the same tender.

    Raises: MALFORMED_XML, INVALID_INPUT (the request or file; the unit not the operator's; dates out
    of order, a deadline already passed or a window shorter than the policy's minimum days; a
    commission member without their registry role; price list not approved by token; the id already
    used by another file), UNKNOWN_UNIT, POLICY_INVALID (a formula not approved by token),
    SECURITY_REP_ABSENT, QUORUM_NOT_MET (no certified member for a seat).
    Rule: issue 11 part 3; R02, R09; art. 15 of the Tender Law."""
    req = read_tender_request(doc.root)
    tf = parse_tender_file(req.content, req.file_name)
    t = tf.tender
    if t.id != req.tender_id or t.unit != req.unit or req.unit != doc.unit:
        raise DomainError(Reason.INVALID_INPUT, "شناسه یا واحد پروندهٔ مناقصه با درخواست و نشست نمی‌خواند")
    now = doc.received_at
    file_sha = hashlib.sha256(req.content).hexdigest()
    with deps.uow() as uow:
        existing = uow.tender_drafts.get(t.id)
        taken = existing is not None or uow.tenders.get(t.id) is not None
    if existing is not None and json.loads(existing.data_json).get("file_sha256") == file_sha:
        return tender_status(deps, t.id)
    if taken:
        raise DomainError(Reason.INVALID_INPUT, f"شناسهٔ مناقصهٔ «{t.id}» پیش‌تر به کار رفته است")
    if t.deadline <= now:
        raise DomainError(Reason.INVALID_INPUT, "مهلت ارسال پیشنهاد گذشته است")
    announce_at = max(t.announce_at or now, now)
    spec = tf.spec(deps.policy, announce_at)
    ref = (tf.price_list.id, tf.price_list.version)
    with deps.uow() as uow:
        uow.units.get(t.unit)
        if uow.approvals.get(PRICE_LIST, *ref) is None:
            raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای {ref[0]} نسخهٔ {ref[1]} با امضای معاون تصویب نشده است")
    formulas = tender_formulas(deps)
    estimate = check_tender(deps, spec, ref, formulas, announce_at)
    members = tf.members()
    _check_commission(deps, members, t.unit, to_tehran(now).date())
    seats = opening_seats(deps, spec, members, now)
    certs = {mid: x509.load_der_x509_certificate(base64.b64decode(der)) for mid, (der, _m) in seats.certificates.items()}
    data = {"file_sha256": file_sha, "file_name": req.file_name, "spec": codec.spec_to_dict(spec),
            "planned_announce_at": t.announce_at.isoformat() if t.announce_at else None,
            "commission": codec.members_to_list(members), "price_list": {"list_id": ref[0], "version": ref[1]},
            "formulas": {k: [f.id, f.version] for k, f in formulas.items()},
            "certificates": {mid: {"serial": f"{c.serial_number:x}",
                                   "sha256": hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()}
                             for mid, c in certs.items()}}
    with deps.uow() as uow:
        uow.tender_drafts.add(m.TenderDraft(id=t.id, unit_id=t.unit, created_by=doc.national_id, created_at=now,
                                            request_xml=doc.xml, data_json=codec.dumps(data),
                                            estimate_rial=estimate, opening_plan_json=seats.to_json()))
        uow.record(at=now, actor=doc.national_id, action="tender.created", entity="tender", entity_id=t.id,
                   payload={"unit": t.unit, "file_sha256": file_sha, "request_sha256": doc.sha256,
                            "estimate_rial": estimate, "opening_seats_sha256": hashlib.sha256(
                                seats.to_json().encode("utf-8")).hexdigest(),
                            "price_list": data["price_list"], "formulas": data["formulas"]})
        uow.commit()
    return CreatedTender(t.id, t.unit, estimate, seats, "created")


def tender_status(deps: Deps, tender_id: str) -> CreatedTender:
    """A tender created from a file: created (its notice not yet published) or its stored status.

    Raises: NOT_FOUND (no such tender). Rule: issue 11 part 3."""
    with deps.uow() as uow:
        draft = uow.tender_drafts.get(tender_id)
        row = uow.tenders.get(tender_id)
    if draft is None:
        raise DomainError(Reason.NOT_FOUND, f"مناقصهٔ «{tender_id}» از پروندهٔ مناقصه ساخته نشده است")
    return CreatedTender(draft.id, draft.unit_id, draft.estimate_rial, OpeningSeats.from_json(draft.opening_plan_json),
                         row.status if row is not None else "created")


# --- the notice --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Draft:
    row: m.TenderDraft
    data: dict[str, Any]
    spec: TenderSpec
    members: list[Member]
    seats: OpeningSeats


def _draft(deps: Deps, tender_id: str) -> _Draft:
    with deps.uow() as uow:
        row = uow.tender_drafts.get(tender_id)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"مناقصهٔ «{tender_id}» از پروندهٔ مناقصه ساخته نشده است")
    data = json.loads(row.data_json)
    return _Draft(row, data, codec.spec_from_dict(data["spec"]), codec.members_from_list(data["commission"]),
                  OpeningSeats.from_json(row.opening_plan_json))


def _notice_content(deps: Deps, d: _Draft, announced_at: datetime) -> NoticeContent:
    spec = replace(d.spec, announce_at=announced_at)
    rules = rules_calendar.effects(deps, spec.unit, announced_at)  # the calendar with its approved changes (R27)
    docs = tender_documents(spec)
    certs = d.data.get("certificates", {})
    members = tuple(NoticeMember(mem.id, mem.role.value, mem.name, mem.alternate_for,
                                 certs.get(mem.id, {}).get("serial", ""), certs.get(mem.id, {}).get("sha256", ""),
                                 *d.seats.certificates.get(mem.id, ("", "")))
                    for mem in d.members)
    return NoticeContent(
        tender_id=spec.id, unit=spec.unit, kind=spec.kind.value, procedure=spec.procedure.value, title=spec.title,
        announced_at=announced_at, deadline=spec.deadline, opening_at=spec.opening_at,
        guarantee_rial=spec.guarantee_rial, guarantee_valid_until=spec.guarantee_valid_until,
        estimate_rial=d.row.estimate_rial, price_list=d.data["price_list"]["list_id"],
        price_list_version=d.data["price_list"]["version"], policy_version=deps.policy.version,
        rules=rules, text=notice_text(deps.policy, spec, rules),
        threshold=d.seats.threshold, seats={**d.seats.voting, SECURITY_SEAT: d.seats.security}, members=members,
        documents=(NoticeDocumentRef("tender-documents.json", hashlib.sha256(docs).hexdigest(), len(docs)),),
        price_opening_at=spec.price_opening_at)


def draft_notice(deps: Deps, tender_id: str) -> bytes:
    """The tender's notice as it would be published now (the engine's clock, whole seconds), unsigned,
    for the unit's authorised signatory to check and sign on their token.

    Raises: NOT_FOUND (no such tender); WRONG_STAGE (already announced). Rule: R02, R27."""
    d = _draft(deps, tender_id)
    with deps.uow() as uow:
        if uow.tenders.get(tender_id) is not None:
            raise DomainError(Reason.WRONG_STAGE, f"آگهی مناقصهٔ «{tender_id}» پیش‌تر منتشر شده است")
    now = deps.clock.now().astimezone(timezone.utc).replace(microsecond=0)
    return etree.tostring(build_notice(_notice_content(deps, d, now)), xml_declaration=True, encoding="UTF-8")


def _body_c14n(doc: etree._Element) -> bytes:
    # Exclusive C14N: the envelope's namespace declarations around a received notice do not count.
    return etree.tostring(body_of(doc), method="c14n", exclusive=True, with_comments=False)


def publish_notice(deps: Deps, doc: VerifiedDocument) -> bytes:
    """Publish the tender's notice `doc`, signed by the unit's authorised signatory (verified at
    receipt as NOTICE_SIGNATORY@unit): it must be the tender's notice as of the announcement time it
    states, that time within the policy's signing-time skew of the receipt. The engine countersigns it
    (ENGINE_ROLE), registers the tender with the opening key made at creation, stores the notice and
    publishes it with its documents. Returns the published XML (signatory's and engine's signatures);
    a tender already announced returns its published notice.

    Raises: MALFORMED_XML, INVALID_INPUT (not the tender's notice, stale, signed for another unit, a
    window now shorter than the policy's minimum), NOT_FOUND (no such tender), TOKEN_NOT_FOUND (the
    engine's own token missing), and announce's refusals. Rule: R02; "Stations and trust" (the public
    material bidders encrypt to is published in the signed notice)."""
    content = read_notice(doc.root)
    with deps.uow() as uow:
        stored = uow.notices.latest(content.tender_id)
    if stored is not None:
        return stored.xml
    d = _draft(deps, content.tender_id)
    if content.unit != d.row.unit_id or doc.unit != d.row.unit_id:
        raise DomainError(Reason.INVALID_INPUT, "آگهی برای واحد دیگری امضا شده است")
    skew = deps.policy.signing_time_skew()
    if abs(doc.received_at - content.announced_at) > max(skew, timedelta(seconds=1)):
        raise DomainError(Reason.INVALID_INPUT, "زمان انتشار آگهی با زمان دریافت فاصله دارد؛ پیش‌نویس تازه بگیرید "
                                                "و دوباره امضا کنید")
    expected = build_notice(_notice_content(deps, d, content.announced_at))
    if _body_c14n(expected) != _body_c14n(doc.root):
        raise DomainError(Reason.INVALID_INPUT, "آگهی امضاشده همان آگهی این مناقصه نیست")
    signed = deps.engine().sign(parse_untrusted(doc.xml), deps.clock, ENGINE_ROLE, ENGINE_UNIT)
    xml = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    formulas: dict[str, Formula] = {}
    with deps.uow() as uow:  # the formulas as stored (the draft names their versions)
        for name, (fid, version) in d.data["formulas"].items():
            row = uow.formulas.get(fid, version)
            if row is None:
                raise DomainError(Reason.POLICY_INVALID, f"فرمول {fid} نسخهٔ {version} ثبت نشده است")
            formulas[name] = Formula(row.formula_id, row.version, row.expression, row.approved_by, row.approved_at,
                                     row.technical_council_ref)
    ref = (d.data["price_list"]["list_id"], int(d.data["price_list"]["version"]))
    announce(deps, replace(d.spec, announce_at=content.announced_at), d.members, ref, formulas,
             actor=doc.national_id, seats=d.seats, notice=SignedNotice(xml, doc.national_id, doc.received_at))
    with deps.uow() as uow:
        stored = uow.notices.latest(content.tender_id)
    return stored.xml if stored is not None else xml


def check_announced(deps: Deps, tender_id: str) -> None:
    """Bids go only to a tender whose notice has been published (by the API or a rehearsal).

    Raises: NOT_FOUND (no such tender, or not announced yet). Rule: R02, R07."""
    with deps.uow() as uow:
        announced = uow.tenders.get(tender_id) is not None
    if not announced:
        raise DomainError(Reason.NOT_FOUND, f"آگهی مناقصهٔ «{tender_id}» منتشر نشده است")


def published_notice(deps: Deps, tender_id: str) -> bytes:
    """The tender's published notice (signed by the unit's signatory, countersigned by the engine).

    Raises: NOT_FOUND (no notice published for it through the API). Rule: R02."""
    with deps.uow() as uow:
        stored = uow.notices.latest(tender_id)
    if stored is None:
        raise DomainError(Reason.NOT_FOUND, f"آگهی امضاشدهٔ مناقصهٔ «{tender_id}» منتشر نشده است")
    return stored.xml


# --- the sealed bid file ------------------------------------------------------------------------------
# What `eproc bid seal` writes on the bidder's station and `eproc bid submit` uploads as it is:
#   b"EPROC-BID/1\n", 4-byte big-endian header length, header JSON {tender, bidder, company,
#   manifest_bytes, sealed_bytes}, the signed manifest (XML), the sealed bid (sealing.envelopes blob).
BID_FILE_MAGIC = b"EPROC-BID/1\n"
_BID_HEADER_MAX = 4096


@dataclass(frozen=True)
class BidFile:
    """A sealed bid as the bidder's station packs it: tender and bidder ids, the company's national
    ID, the sealed envelopes and the manifest signed on the company signatory's token."""

    tender_id: str
    bidder_id: str
    company_id: str
    sealed: SealedBid
    manifest: bytes


def pack_bid_file(bid: BidFile) -> bytes:
    """The bytes of a sealed bid file (see BID_FILE_MAGIC). Raises: nothing."""
    blob = bid.sealed.to_bytes()
    head = json.dumps({"tender": bid.tender_id, "bidder": bid.bidder_id, "company": bid.company_id,
                       "manifest_bytes": len(bid.manifest), "sealed_bytes": len(blob)},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")
    return b"".join((BID_FILE_MAGIC, len(head).to_bytes(4, "big"), head, bid.manifest, blob))


def read_bid_file(f: IO[bytes]) -> BidFile:
    """A sealed bid file read from `f` (at its start) to its end; nothing is decrypted or verified
    here (services.tender.submission.submit_bid does that).

    Raises: INVALID_INPUT (not a sealed bid file, lengths that do not add up, a malformed header or
    sealed blob; the company ID by domain.identity). Rule: R07, R08."""
    def bad(detail: str) -> DomainError:
        return DomainError(Reason.INVALID_INPUT, f"پروندهٔ پیشنهاد مهروموم‌شده نامعتبر است: {detail}")

    if f.read(len(BID_FILE_MAGIC)) != BID_FILE_MAGIC:
        raise bad("قالب شناخته نیست")
    size = int.from_bytes(f.read(4).rjust(4, b"\xff"), "big")
    if size > _BID_HEADER_MAX:
        raise bad("سرآیند بیش از اندازه است")
    try:
        head = json.loads(f.read(size).decode("utf-8"))
        tender, bidder, company = str(head["tender"]), str(head["bidder"]), str(head["company"])
        manifest_bytes, sealed_bytes = head["manifest_bytes"], head["sealed_bytes"]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (manifest_bytes, sealed_bytes)):
            raise ValueError("lengths")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise bad(f"سرآیند خوانا نیست ({type(exc).__name__})") from None
    manifest = f.read(manifest_bytes)
    blob = f.read(sealed_bytes)
    if len(manifest) != manifest_bytes or len(blob) != sealed_bytes or f.read(1):
        raise bad("طول بخش‌ها با سرآیند نمی‌خواند")
    return BidFile(normalize(tender), normalize(bidder), validate_company_id(company), SealedBid.from_bytes(blob),
                   manifest)
