"""The contract as the final Article 13 minutes award it: amount, contractor, commission (R12)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.money import apply_rate
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services import tender as tender_svc
from services.contract.blacklist import refuse_if_blacklisted
from services.deps import Deps
from signing.xmldsig import signed_document_root

MINUTES_NS = "{urn:tehran:eproc:minutes:1}"
# The widest coefficient a bidder writes; more places than this is a lump sum, not a coefficient.
MAX_COEFFICIENT_PLACES = 6


def coefficient_from_prices(estimate_rial: int, price_rial: int) -> Decimal | None:
    """The bidder's coefficient as the minutes imply it: the shortest decimal whose price, rounded once,
    is the stated price. None when no short decimal gives it (a lump-sum bid)."""
    if estimate_rial <= 0 or price_rial <= 0:
        return None
    ratio = Decimal(price_rial) / Decimal(estimate_rial)
    for places in range(MAX_COEFFICIENT_PLACES + 1):
        q = ratio.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if q > 0 and apply_rate(estimate_rial, q) == price_rial:
            return q.normalize() if q == q.to_integral_value() else q
    return None


@dataclass(frozen=True)
class Award:
    """The award as the final minutes state it: tender, unit, title, kind, bidder and company, amount and
    estimate (rials), the implied coefficient, the chair's and the commission's national IDs."""

    tender_id: str
    unit: str
    title: str
    kind: str
    bidder: str
    company_id: str
    amount_rial: int
    estimate_rial: int
    coefficient: Decimal | None
    chair_nid: str
    commission_nids: tuple[str, ...]


def award_for(deps: Deps, tender_id: str, bidder: str) -> Award:
    """Amount, contractor and commission as the final Article 13 minutes state them.

    Raises: STORE_TAMPERED (the tender's data differs from what was announced, or the bid set from
    what was receipted), WRONG_STAGE (minutes not final), INVALID_INPUT (bidder not ranked, or no bid stored),
    QUORUM_NOT_MET (no chair in the session), BLACKLISTED (the bidder's company is on the contractor
    registry's blacklist today: audited as `contract.award_refused`; R25)."""
    xml, award, signer_ids = tender_svc.final_minutes(deps, tender_id)
    if bidder not in award.prices:
        raise DomainError(Reason.INVALID_INPUT, f"پیشنهاددهندهٔ «{bidder}» در رتبه‌بندی صورتجلسه نیست")
    view = tender_svc.load(deps, tender_id)
    body = signed_document_root(parse_untrusted(xml)).find(f"{MINUTES_NS}Body")
    estimate = int(body.find(f"{MINUTES_NS}Estimate").get("total_rial"))
    price = award.prices[bidder]
    with deps.uow() as uow:
        bid = uow.bids.latest(tender_id, bidder)
        # An online auction's bidders offer in the open: the company is the one its accepted offers name.
        offered = [o.company_id for o in uow.auctions.offers(tender_id) if o.bidder_ref == bidder and o.accepted] \
            if bid is None else []
        if bid is None and not offered:
            raise DomainError(Reason.INVALID_INPUT, f"پیشنهاد «{bidder}» ثبت نشده است")
        company_id = bid.company_id if bid is not None else offered[-1]
        # An auction held online (its window registered) is a حراج: its contract says so (OCDS, R21).
        kind = "online_auction" if uow.auctions.get(tender_id) is not None else view.spec.kind.value
    # R25: no contract for a contractor on the blacklist on the day the contract is taken from the award.
    refuse_if_blacklisted(deps, company_id, deps.clock.now(), action="contract.award_refused", entity="tender",
                          entity_id=tender_id, payload={"bidder": bidder})
    chair = tender_svc.chair_of(view, signer_ids)
    by_id = {mm.id: mm for mm in view.members}
    return Award(tender_id, view.spec.unit, view.spec.title, kind, bidder, company_id, price,
                 estimate, coefficient_from_prices(estimate, price), chair.national_id,
                 tuple(by_id[s].national_id for s in signer_ids if s in by_id))

