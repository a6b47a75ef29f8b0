"""The Article 18 notification (R11) and the contract-signature round: the winner is notified with a
notice generated from the final minutes and e-signed by the chair at their own station (the engine
stores it unsigned, the chair signs it like the minutes: services.tender.minutes.receive_signature);
a winner who does not sign in time forfeits the guarantee and the runner-up is notified; otherwise
the tender is re-tendered (art. 21)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.documents.minutes import MinutesVersions
from domain.documents.notification import build_notification
from domain.documents.xmlcommon import body_of
from domain.persian import format_jalali_date
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.status import TenderStatus
from domain.xmlsafe import parse_untrusted
from services.deps import Deps
from services.notify import notify
from services.ports import Confirmation
from services.tender.minutes import (
    ARTICLE18,
    NOTIFICATION_NS,
    chair_of,
    complete,
    final_minutes,
    save_minutes,
    verified_final,
)
from services.tender.status import set_status
from services.tender.view import ENGINE_ACTOR, load
from signing.xmldsig import parse_xml_datetime, signed_document_root


@dataclass(frozen=True)
class NotificationDraft:
    """An Article 18 notification stored for signing: its document kind (article18 for the winner,
    article18-2 for the runner-up) and the member id(s) who must sign it at their station (the chair)."""

    kind: str
    signers: list[str]


def notification_kind(version: int) -> str:
    """The stored document kind of the `version`-th notification: article18, article18-2, ..."""
    return ARTICLE18 if version == 1 else f"{ARTICLE18}-{version}"


def draft_notification(deps: Deps, tender_id: str, bidder_id: str, version: int = 1) -> NotificationDraft:
    """Generate the Article 18 notification to `bidder_id` from the final minutes (notified now) and
    store it for the chair to sign at their station; the one already stored on a rerun.

    `version`: 1 for the winner, 2 for the runner-up.

    Raises: STORE_TAMPERED (the tender's data differs from what was announced, or the bid set from
    what was receipted), WRONG_STAGE (minutes not final), SIGNATURE_INVALID (the stored minutes are
    not those that became final), QUORUM_NOT_MET (neither the chair nor the chair's alternate took
    part), INVALID_INPUT (not the winner or runner-up). Rule: R11, art. 18-21."""
    kind = notification_kind(version)
    xml, _, signers = final_minutes(deps, tender_id)  # verified first: a rewritten award reaches nobody
    chair = chair_of(load(deps, tender_id), signers)
    with deps.uow() as uow:
        stored = uow.minutes.latest(tender_id, kind) is not None
    if not stored:
        content = signed_document_root(parse_untrusted(xml))
        approved = MinutesVersions(["commission"], lambda v: content)
        approved.record_signature("commission", approved.version)
        doc = build_notification(approved, deps.clock.now(), bidder_id=bidder_id, version=1)
        save_minutes(deps, tender_id, kind, 1, doc, final=False, action=f"{kind}.generated")
    return NotificationDraft(kind, [chair.id])


def notify_winner(deps: Deps, tender_id: str, bidder_id: str, version: int = 1) -> bytes:
    """The Article 18 notification once the chair has signed it at their station, read back verified,
    and sent to the bidder (once: the SMS is idempotent per tender and bidder). Returns the signed
    notification (XML bytes); the same on a rerun.

    `version`: 1 for the winner, 2 for the runner-up.

    Raises: STORE_TAMPERED, SIGNATURE_INVALID (the stored minutes or notification are not those that
    became final) or the failing signature's reason code, WRONG_STAGE (minutes not final, or no
    notification generated), QUORUM_NOT_MET (the chair has not signed it, or took no part). Rule: R11."""
    kind = notification_kind(version)
    _, award, signers = final_minutes(deps, tender_id)
    view = load(deps, tender_id)
    chair = chair_of(view, signers)
    with deps.uow() as uow:
        row = uow.minutes.latest(tender_id, kind)
        company = uow.bids.owner(tender_id, bidder_id)  # the registry's contacts are the company's (R26)
    if row is None:
        raise DomainError(Reason.WRONG_STAGE, "ابلاغ ماده ۱۸ هنوز تولید نشده است")
    if not complete(deps, tender_id, kind):
        raise DomainError(Reason.QUORUM_NOT_MET, "رئیس کمیسیون ابلاغ ماده ۱۸ را هنوز امضا نکرده است")
    xml = verified_final(deps, tender_id, kind, [(chair.role.value, view.spec.unit)])
    notified = body_of(signed_document_root(parse_untrusted(xml))).find(f"{NOTIFICATION_NS}NotifiedAt")
    notified_at = parse_xml_datetime(notified.get("utc", "") if notified is not None else "")
    notify(deps, bidder_id, "winner_notification",
            {"tender_title": view.spec.title, "amount_rial": award.prices.get(bidder_id),
             "signing_deadline": format_jalali_date(ev.signing_deadline(view.spec, notified_at))},
            f"article18:{tender_id}:{bidder_id}", company_id=company)
    return xml


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
