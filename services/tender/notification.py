"""The Article 18 notification (R11) and the contract-signature round: the winner is notified with a
notice generated from the final minutes and e-signed by the chair; a winner who does not sign in
time forfeits the guarantee and the runner-up is notified; otherwise the tender is re-tendered
(art. 21)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from domain.documents.minutes import MinutesVersions
from domain.documents.notification import build_notification
from domain.persian import format_jalali_date
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.commission import Member
from domain.tender.status import TenderStatus
from domain.xmlsafe import parse_untrusted
from services.deps import Deps
from services.notify import notify
from services.ports import Confirmation
from services.signers import trust_store
from services.tender.minutes import final_minutes, record_signature, save_minutes
from services.tender.status import set_status
from services.tender.view import ENGINE_ACTOR, TenderView, load
from signing.verify import verify_document
from signing.xmldsig import signed_document_root


def notify_winner(deps: Deps, tender_id: str, bidder_id: str, version: int = 1) -> bytes:
    """The Article 18 notification, generated from the final minutes and e-signed by the chair.

    `version`: 1 for the winner, 2 for the runner-up. Returns the signed notification (XML bytes);
    the same notification again on a rerun.

    Raises: STORE_TAMPERED (the tender's data differs from what was announced, or the bid set from
    what was receipted), WRONG_STAGE (minutes not final), QUORUM_NOT_MET (neither the chair nor the chair's
    alternate took part), SIGNATURE_INVALID or the chair's signature's reason code."""
    kind = "article18" if version == 1 else f"article18-{version}"
    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, kind)
        if row is not None and row.final:
            return row.xml
    view = load(deps, tender_id)
    xml, award, signers = final_minutes(deps, tender_id)
    content = signed_document_root(parse_untrusted(xml))
    approved = MinutesVersions(["commission"], lambda v: content)
    approved.record_signature("commission", approved.version)
    notified_at = deps.clock.now()
    doc = build_notification(approved, notified_at, bidder_id=bidder_id, version=1)
    chair = chair_of(view, signers)
    doc = deps.signers.get(chair.national_id).sign(doc, deps.clock, chair.role.value, view.spec.unit)
    checks = verify_document(etree.tostring(doc), trust_store(deps.ca_cert, deps.sessions), deps.role_check,
                             [(chair.role.value, view.spec.unit)], received_at=deps.clock.now(),
                             max_skew=deps.policy.signing_time_skew())
    failed = checks[0].reason if checks else Reason.SIGNATURE_INVALID
    if failed is not None:
        raise DomainError(failed, "ابلاغ ماده ۱۸")
    with deps.uow() as uow:
        record_signature(uow, kind, tender_id, checks[0])
        uow.commit()
    row = save_minutes(deps, tender_id, kind, 1, doc, final=True)
    notify(deps, bidder_id, "winner_notification",
            {"tender_title": view.spec.title, "amount_rial": award.prices.get(bidder_id),
             "signing_deadline": format_jalali_date(ev.signing_deadline(view.spec, notified_at))},
            f"article18:{tender_id}:{bidder_id}")
    return row.xml


def chair_of(view: TenderView, signers: list[str]) -> Member:
    """The chair signs; if the chair did not take part, the chair's alternate who did.

    Raises: QUORUM_NOT_MET when neither took part."""
    taking_part = set(signers)
    for mem in view.members:
        if mem.role.value == "chair" and mem.id in taking_part:
            return mem
    chair_ids = {mm.id for mm in view.members if mm.role.value == "chair"}
    for mem in view.members:
        if mem.alternate_for in chair_ids and mem.id in taking_part:
            return mem
    raise DomainError(Reason.QUORUM_NOT_MET, "رئیس کمیسیون یا جانشین او در جلسه نبود")



def candidates(deps: Deps, tender_id: str) -> list[str]:
    """Who may be notified, in order: the winner, then the runner-up (art. 18-21)."""
    _, award, _ = final_minutes(deps, tender_id)
    return [b for b in (award.winner, award.runner_up) if b]


def signing_deadline(deps: Deps, tender_id: str, notified_at: datetime) -> datetime:
    """The end of the notified bidder's signing period (UTC; the tender's signing days)."""
    return ev.signing_deadline(load(deps, tender_id).spec, notified_at)


def record_signature_answer(deps: Deps, tender_id: str, bidder: str, answer: Confirmation) -> bool:
    """Audit who reported whether the notified bidder signed the contract (art. 18); returns the answer."""
    with deps.uow() as uow:
        uow.record(at=deps.clock.now(), actor=answer.answered_by, action="contract.signature_reported",
                   entity="tender", entity_id=tender_id, payload={"bidder": bidder, "signed": answer.confirmed})
        uow.commit()
    return answer.confirmed


def forfeit_guarantee(deps: Deps, tender_id: str, bidder: str) -> None:
    """The notified bidder did not sign in time: its guarantee is forfeited (audited once per bidder)."""
    with deps.uow() as uow:
        uow.record(at=deps.clock.now(), actor=ENGINE_ACTOR, action="guarantee.forfeited", entity="tender",
                   entity_id=tender_id, reason=Reason.GUARANTEE_FORFEITED, payload={"bidder": bidder})
        uow.commit()


@dataclass(frozen=True)
class SigningOutcome:
    """The end of the signature round: the bidder who signed (None: re-tender), who was notified,
    whose guarantee was forfeited, and the reason of a re-tender."""

    contract_bidder: str | None
    notified: tuple[str, ...]
    forfeited: tuple[str, ...]
    reason: Reason | None

    def to_dict(self) -> dict[str, Any]:
        return {"status": "awarded" if self.contract_bidder else "retender",
                "reason": self.reason.value if self.reason and not self.contract_bidder else None,
                "contract_bidder": self.contract_bidder, "forfeited": list(self.forfeited),
                "notified": list(self.notified)}


def close_signing(deps: Deps, tender_id: str, declined: set[str]) -> SigningOutcome:
    """Apply the domain's signing round to the final minutes' ranking and store the tender's status
    (`contracted`, or `retender` with WINNERS_DECLINED)."""
    _, award, _ = final_minutes(deps, tender_id)
    ranking = tuple(ev.PricedBid(b, p, deps.clock.now()) for b, p in award.prices.items())
    result = ev.signing_round(ev.AwardResult(ev.AwardStatus.AWARDED, None, ranking, award.winner,
                                             award.runner_up), declined)
    with deps.uow() as uow:
        if result.contract_bidder:
            set_status(uow, tender_id, TenderStatus.CONTRACTED, None, deps.clock.now())
        else:
            set_status(uow, tender_id, TenderStatus.RETENDER, result.reason, deps.clock.now())
        uow.commit()
    return SigningOutcome(result.contract_bidder, tuple(result.notified), tuple(result.forfeited),
                          result.reason if not result.contract_bidder else None)
