"""Announcing a tender (R02): register it, split its opening key among the commission, publish the
notice whose text states the rules in force for that unit and date."""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from config.policy import Policy
from domain.formulas import Formula
from domain.persian import format_jalali_datetime, jalali_year
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.commission import Member, opening_key_seats
from domain.tender.model import TenderSpec
from sealing.opening_key import OpeningSeats
from services import codec, rules_calendar
from services.checkpoints import checkpoint
from services.deps import Deps
from services.signers import current_certificate, trust_store
from services.tender.view import ENGINE_ACTOR, announced_digests, price_list_of
from store import models as m

if TYPE_CHECKING:
    from integrations.announcement import AnnouncementPortal

NOTICE_DOCUMENT = "notice.xml"  # the signed notice, as the portal serves it for download


def notice_text(policy: Policy, spec: TenderSpec, rules: dict[str, bool]) -> str:
    """The notice states the submission and signature rules in force for that unit and date (`rules`:
    services.rules_calendar.effects at the announcement, the calendar with its approved changes and
    events).

    Returns the Persian notice text (R02, R27).

    Raises: INVALID_INPUT when the spec has no announcement time."""
    parts = [f"آگهی {'مناقصه' if spec.kind.value == 'tender' else 'معامله'}: {spec.title}.",
             f"مهلت ارسال پیشنهاد: {format_jalali_datetime(spec.deadline)}؛ زمان بازگشایی: "
             f"{format_jalali_datetime(spec.opening_at)}.",
             *[f"{p}." for p in policy.announcement.required_phrases]]
    if rules["physical_documents_accepted"]:
        parts.append(policy.announcement.physical_phrase + "؛ ارائهٔ هر دو الزامی است.")
    if rules["electronic_minutes_mandatory"]:
        parts.append("صورتجلسات فقط با امضای الکترونیکی اعضای کمیسیون معتبر است.")
    return " ".join(parts)


@dataclass(frozen=True)
class SignedNotice:
    """The notice document of a tender announced through the API: signed by the unit's authorised
    signatory (`signer_national_id`) and countersigned by the engine (`xml`, as published), received
    at `received_at` (aware UTC)."""

    xml: bytes
    signer_national_id: str
    received_at: datetime


def check_tender(deps: Deps, spec: TenderSpec, price_list_ref: tuple[str, int], formulas: dict[str, Formula],
                 announced_at: datetime) -> int:
    """The checks of an announcement at `announced_at` (aware UTC): the unit, the submission window,
    the approved price list and formulas, the procedure against the threshold of the estimate.
    Returns the estimate in rials (the approved estimate formula over the price list).

    Raises: UNKNOWN_UNIT; INVALID_INPUT (window shorter than the policy's minimum days for a tender,
    price list not approved, a price inquiry above the medium threshold), POLICY_INVALID (formula
    not approved). Rule: R02, R09; art. 15 of the Tender Law."""
    with deps.uow() as uow:
        uow.units.get(spec.unit)
        min_days = deps.policy.defaults.min_submission_days
        if spec.kind.value == "tender" and spec.deadline - announced_at < timedelta(days=min_days):
            raise DomainError(Reason.INVALID_INPUT, f"مهلت ارسال پیشنهاد کمتر از {min_days} روز است")
        pl = uow.price_lists.get(*price_list_ref)
        if pl is None:
            raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای {price_list_ref[0]} نسخهٔ {price_list_ref[1]} مصوب نیست")
        for f in formulas.values():
            if uow.formulas.get(f.id, f.version) is None:
                raise DomainError(Reason.POLICY_INVALID, f"فرمول {f.ref} مصوب و ثبت نشده است")
        price_list = price_list_of(pl)
    estimate = ev.compute_estimate(spec, price_list, formulas["estimate"])
    _check_procedure_fits_threshold(deps.policy, spec, estimate.total_rial, announced_at)
    return estimate.total_rial


def announce(deps: Deps, spec: TenderSpec, members: Sequence[Member], price_list_ref: tuple[str, int],
             formulas: dict[str, Formula], actor: str = ENGINE_ACTOR, *, seats: OpeningSeats | None = None,
             notice: SignedNotice | None = None) -> str:
    """Register the tender with the seats of its bids' opening keys (no key: each bidder deals its
    own, issue 12), publish the notice.

    `spec`: the tender; `members`: the commission with alternates; `price_list_ref`: (list id,
    version); `formulas`: the approved formulas by name (estimate, abnormally-low, guarantee).
    A tender announced through the API (services.tender.files) gives the `seats` fixed when it was
    created and its signed `notice`, stored and published with the notice's documents.
    Returns the tender id; announcing again is a no-op (R02; art. 15 of the Tender Law).

    Raises: INVALID_INPUT (unknown unit, no announcement time, window shorter than the policy's minimum days, price list not
    approved, a price inquiry above the medium threshold), POLICY_INVALID (formula not approved),
    SECURITY_REP_ABSENT, QUORUM_NOT_MET (no member of a seat holds a valid certificate)."""
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.tenders.get(spec.id) is not None:
            return spec.id  # idempotent: announced already
    announced_at = _announced_at(spec)
    estimate_rial = check_tender(deps, spec, price_list_ref, formulas, announced_at)
    if seats is None:
        seats = opening_seats(deps, spec, members, now)
    data = {"spec": codec.spec_to_dict(spec), "commission": codec.members_to_list(list(members)),
            "price_list": {"list_id": price_list_ref[0], "version": price_list_ref[1]},
            "formulas": {k: [f.id, f.version] for k, f in formulas.items()}}
    text = notice_text(deps.policy, spec, rules_calendar.effects(deps, spec.unit, _announced_at(spec)))
    payload: dict[str, Any] = {"estimate_rial": estimate_rial, "threshold": data["formulas"],
                               "opening_seats": seats.to_dict() | {"certificates": sorted(seats.certificates)},
                               "notice": text}
    with deps.uow() as uow:
        tender = uow.tenders.add(m.Tender(id=spec.id, unit_id=spec.unit, kind=spec.kind.value,
                                          procedure=spec.procedure.value, title=spec.title, status="announced",
                                          estimate_rial=estimate_rial, spec_json=codec.dumps(data),
                                          opening_plan_json=seats.to_json(), announced_at=announced_at,
                                          deadline=spec.deadline, opening_at=spec.opening_at,
                                          price_opening_at=spec.price_opening_at))
        if notice is not None:
            digest = hashlib.sha256(notice.xml).hexdigest()
            uow.session.flush()  # the notice refers to the tender row
            uow.notices.add(m.TenderNotice(tender_id=spec.id, version=1, xml=notice.xml, sha256=digest,
                                           signer_national_id=notice.signer_national_id,
                                           received_at=notice.received_at))
            payload.update(notice_sha256=digest, notice_signer=notice.signer_national_id)
        payload.update(announced_digests(uow, tender))  # re-verified at every load (R08)
        uow.record(at=now, actor=actor, action="tender.announced", entity="tender", entity_id=spec.id,
                   payload=payload)
        uow.commit()
    if deps.portal is not None:
        _publish_notice(deps.portal, deps.policy, spec, text, data, announced_at,
                        notice.xml if notice is not None else None)
    checkpoint(deps, f"notice:{spec.id}")
    return spec.id


def _announced_at(spec: TenderSpec) -> datetime:
    if spec.announce_at is None:
        raise DomainError(Reason.INVALID_INPUT, f"زمان انتشار آگهی مناقصهٔ «{spec.id}» تعیین نشده است")
    return spec.announce_at


def _check_procedure_fits_threshold(policy: Policy, spec: TenderSpec, estimate: int, announced_at: datetime) -> None:
    cls = policy.threshold_class(estimate, jalali_year(announced_at))
    if spec.kind.value == "price_inquiry" and cls == "large":
        raise DomainError(Reason.INVALID_INPUT, "معاملهٔ بزرگ باید با مناقصهٔ عمومی انجام شود، نه استعلام بها")


def opening_seats(deps: Deps, spec: TenderSpec, members: Sequence[Member], now: datetime) -> OpeningSeats:
    """Who holds a part of every bid's opening key (domain.tender.commission.opening_key_seats) and the
    certificate each part is wrapped to (DER base64, the token's RSA-OAEP variant). Parts go only to
    members holding a valid, unrevoked certificate at `now` (aware UTC); readiness reports the others.

    Raises: SECURITY_REP_ABSENT, QUORUM_NOT_MET (no member of a seat holds a valid certificate);
    CERT_UNTRUSTED (a forged CRL record). Rule: "Stations and trust"; R04, R08 (art. 18-19)."""
    recipients: dict[str, tuple[x509.Certificate, str]] = {}
    trust = trust_store(deps.ca_cert, deps.sessions)  # revocation from the CA-signed CRL
    for mem in members:
        found = current_certificate(deps.sessions, mem.national_id, now, trust)
        if found is not None:
            recipients[mem.id] = found
    seats = opening_key_seats(members, recipients, deps.policy.defaults.quorum)
    holders = [*[i for ids in seats.voting.values() for i in ids], *seats.security]
    certificates = {mid: (base64.b64encode(recipients[mid][0].public_bytes(Encoding.DER)).decode("ascii"),
                          recipients[mid][1] or "RSA_PKCS_OAEP_SHA1") for mid in holders}
    return OpeningSeats(spec.id, seats.threshold or len(seats.voting),
                        {r: tuple(ids) for r, ids in seats.voting.items()}, tuple(seats.security), certificates)


def tender_documents(spec: TenderSpec) -> bytes:
    """The tender documents published with the notice (JSON of the specification, UTF-8)."""
    return json.dumps(codec.spec_to_dict(spec), ensure_ascii=False, indent=1).encode("utf-8")


def _publish_notice(portal: AnnouncementPortal, policy: Policy, spec: TenderSpec, text: str, data: dict[str, Any],
                    announced_at: datetime, signed_notice: bytes | None = None) -> None:
    from integrations.announcement import Notice, NoticeDocument

    doc = tender_documents(spec)
    documents = [NoticeDocument("tender-documents.json", hashlib.sha256(doc).hexdigest(), len(doc), doc)]
    if signed_notice is not None:
        documents.append(NoticeDocument(NOTICE_DOCUMENT, hashlib.sha256(signed_notice).hexdigest(),
                                        len(signed_notice), signed_notice))
    notice = Notice(tender_id=spec.id, unit=spec.unit, title=spec.title, text=text, documents=tuple(documents),
                    published_at=announced_at)
    portal.publish_notice(notice, policy.announcement.required_phrases)

