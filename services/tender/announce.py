"""Announcing a tender (R02): register it, split its opening key among the commission, publish the
notice whose text states the rules in force for that unit and date."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509

from config.policy import Policy
from domain.formulas import Formula
from domain.persian import format_jalali_datetime, jalali_year, to_tehran
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.commission import Member, opening_key_seats
from domain.tender.model import TenderSpec
from sealing.opening_key import OpeningKeyPlan, create_opening_key
from services import codec
from services.checkpoints import checkpoint
from services.deps import Deps
from services.signers import CertKeyWrapper, current_certificate, trust_store
from services.tender.view import ENGINE_ACTOR, price_list_of
from store import models as m

if TYPE_CHECKING:
    from integrations.announcement import AnnouncementPortal


def notice_text(policy: Policy, spec: TenderSpec) -> str:
    """The notice states the submission and signature rules in force for that unit and date.

    Returns the Persian notice text (R02, R27).

    Raises: INVALID_INPUT when the spec has no announcement time."""
    day = to_tehran(_announced_at(spec)).date()
    rules = policy.effects(spec.unit, day)
    parts = [f"آگهی {'مناقصه' if spec.kind.value == 'tender' else 'معامله'}: {spec.title}.",
             f"مهلت ارسال پیشنهاد: {format_jalali_datetime(spec.deadline)}؛ زمان بازگشایی: "
             f"{format_jalali_datetime(spec.opening_at)}.",
             *[f"{p}." for p in policy.announcement.required_phrases]]
    if rules["physical_documents_accepted"]:
        parts.append(policy.announcement.physical_phrase + "؛ ارائهٔ هر دو الزامی است.")
    if rules["electronic_minutes_mandatory"]:
        parts.append("صورتجلسات فقط با امضای الکترونیکی اعضای کمیسیون معتبر است.")
    return " ".join(parts)


def announce(deps: Deps, spec: TenderSpec, members: Sequence[Member], price_list_ref: tuple[str, int],
             formulas: dict[str, Formula], actor: str = ENGINE_ACTOR) -> str:
    """Register the tender, create its opening key split among the commission, publish the notice.

    `spec`: the tender; `members`: the commission with alternates; `price_list_ref`: (list id,
    version); `formulas`: the approved formulas by name (estimate, abnormally-low, guarantee).
    Returns the tender id; announcing again is a no-op (R02; art. 15 of the Tender Law).

    Raises: INVALID_INPUT (unknown unit, no announcement time, window shorter than the policy's minimum days, price list not
    approved, a price inquiry above the medium threshold), POLICY_INVALID (formula not approved),
    SECURITY_REP_ABSENT, QUORUM_NOT_MET (no member of a seat holds a valid certificate)."""
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.tenders.get(spec.id) is not None:
            return spec.id  # idempotent: announced already
        uow.units.get(spec.unit)
        announced_at = _announced_at(spec)
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
    plan = _opening_key(deps, spec, members, now)
    data = {"spec": codec.spec_to_dict(spec), "commission": codec.members_to_list(list(members)),
            "price_list": {"list_id": price_list.id, "version": price_list.version},
            "formulas": {k: [f.id, f.version] for k, f in formulas.items()}}
    text = notice_text(deps.policy, spec)
    with deps.uow() as uow:
        uow.tenders.add(m.Tender(id=spec.id, unit_id=spec.unit, kind=spec.kind.value,
                                 procedure=spec.procedure.value, title=spec.title, status="announced",
                                 estimate_rial=estimate.total_rial, spec_json=codec.dumps(data),
                                 opening_plan_json=plan.to_json(), announced_at=announced_at,
                                 deadline=spec.deadline, opening_at=spec.opening_at,
                                 price_opening_at=spec.price_opening_at))
        uow.record(at=now, actor=actor, action="tender.announced", entity="tender", entity_id=spec.id,
                   payload={"estimate_rial": estimate.total_rial, "threshold": data["formulas"],
                            "opening_public_key": plan.public_key_b64, "notice": text})
        uow.commit()
    if deps.portal is not None:
        _publish_notice(deps.portal, deps.policy, spec, text, data, announced_at)
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


def _opening_key(deps: Deps, spec: TenderSpec, members: Sequence[Member], now: datetime) -> OpeningKeyPlan:
    """Shares go only to members holding a valid certificate now; readiness reports the others."""
    recipients: dict[str, tuple[x509.Certificate, str]] = {}
    trust = trust_store(deps.ca_cert, deps.sessions)  # revocation from the CA-signed CRL
    for mem in members:
        found = current_certificate(deps.sessions, mem.national_id, now, trust)
        if found is not None:
            recipients[mem.id] = found
    seats = opening_key_seats(members, recipients, deps.policy.defaults.quorum)
    return create_opening_key(spec.id, seats.voting, seats.security, CertKeyWrapper(recipients), seats.threshold)


def _publish_notice(portal: AnnouncementPortal, policy: Policy, spec: TenderSpec, text: str, data: dict[str, Any],
                    announced_at: datetime) -> None:
    from integrations.announcement import Notice, NoticeDocument

    doc = json.dumps(data["spec"], ensure_ascii=False, indent=1).encode("utf-8")
    notice = Notice(tender_id=spec.id, unit=spec.unit, title=spec.title, text=text,
                    documents=(NoticeDocument("tender-documents.json", hashlib.sha256(doc).hexdigest(), len(doc),
                                              doc),),
                    published_at=announced_at)
    portal.publish_notice(notice, policy.announcement.required_phrases)

