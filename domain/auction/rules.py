"""The online auction's rules, one function each (tender-rules.md "Transaction kinds and procedures",
the `online_auction` paragraph, and "Award and the Article 13 minutes"):

- the window opens and closes on the engine's clock (`check_window`: AUCTION_CLOSED);
- the bid guarantee (envelope A) is accepted before a bidder may offer (`check_guarantee`:
  GUARANTEE_MISSING; the guarantee itself is judged by domain.tender.evaluation.evaluate_a);
- an offer below the base price (the estimate) is BELOW_BASE_PRICE (`check_base_price`);
- an offer must beat the current best by the minimum increment (`check_increment`: OFFER_TOO_LOW),
  **default** 1% of the base price rounded up to whole rials (`min_increment_rial`);
- an offer in the last minutes extends the close, a limited number of times (`extended`);
- at the close the highest valid offer wins, ties to the earlier receipt (`award`, through
  domain.tender.evaluation.rank_and_award, the one home of that rule).

Every time is an aware UTC datetime; every amount an int in rials. The defaults come from the
policy's `[online_auction]` (config.policy.Policy.online_auction_rules) and reach these functions as
required values."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from domain.money import check_rial, to_decimal
from domain.persian import format_jalali_datetime, format_rial
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.model import Kind, TenderSpec


@dataclass(frozen=True)
class ExtensionRules:
    """The policy's online-auction defaults: `min_increment_rate` (fraction of the base price),
    an offer within `extend_within` of the close extends it by `extend_by`, at most
    `max_extensions` times. Raises (on construction): POLICY_INVALID for a negative or zero value."""

    min_increment_rate: Decimal
    extend_within: timedelta
    extend_by: timedelta
    max_extensions: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_increment_rate", to_decimal(self.min_increment_rate))
        if self.min_increment_rate <= 0 or self.extend_within < timedelta(0) or self.extend_by <= timedelta(0) \
                or self.max_extensions < 0:
            raise DomainError(Reason.POLICY_INVALID, "قواعد حراج (online_auction) نامعتبر است")


@dataclass(frozen=True)
class AuctionTerms:
    """One online auction's terms: the tender it belongs to, the base price (the estimate, rials), the
    minimum increment (rials), the window [opens_at, closes_at] (aware UTC) and the extension rules.

    Raises (on construction): INVALID_INPUT (a window that closes before it opens, a naive time, an
    increment below 1 rial), AMOUNT_OUT_OF_RANGE."""

    tender_id: str
    base_rial: int
    min_increment_rial: int
    opens_at: datetime
    closes_at: datetime
    extend_within: timedelta
    extend_by: timedelta
    max_extensions: int

    def __post_init__(self) -> None:
        check_rial(self.base_rial, minimum=1, field="base_rial")
        check_rial(self.min_increment_rial, minimum=1, field="min_increment_rial")
        for name in ("opens_at", "closes_at"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise DomainError(Reason.INVALID_INPUT, f"{name}: زمان باید با منطقهٔ زمانی (UTC) باشد")
        if self.closes_at <= self.opens_at:
            raise DomainError(Reason.INVALID_INPUT, "پایان مهلت حراج پیش از آغاز آن است")
        if self.max_extensions < 0 or self.extend_by <= timedelta(0) or self.extend_within < timedelta(0):
            raise DomainError(Reason.INVALID_INPUT, "قواعد تمدید حراج نامعتبر است")

    @property
    def latest_close(self) -> datetime:
        """The latest the window can close (UTC): the close plus every extension allowed."""
        return self.closes_at + self.extend_by * self.max_extensions


@dataclass(frozen=True)
class AuctionState:
    """The auction as its accepted offers left it: the current close (UTC), how many extensions,
    the best offer (rials), who made it and when it was received. Who made it is never shown to
    bidders (`public_view`)."""

    closes_at: datetime
    extensions: int = 0
    best_rial: int | None = None
    best_bidder: str | None = None
    best_at: datetime | None = None
    offers: int = 0


@dataclass(frozen=True)
class Offer:
    """An offer as the engine received it: bidder, amount in rials, receipt time (aware UTC) and
    whether the bidder's guarantee had been accepted by then."""

    bidder_id: str
    amount_rial: int
    received_at: datetime
    guarantee_accepted: bool


@dataclass(frozen=True)
class OfferOutcome:
    """What became of one offer: accepted (and whether it extended the close) or refused with its
    reason code and its Persian detail; `closes_at` is the close after it (UTC)."""

    offer: Offer
    accepted: bool
    reason: Reason | None
    extended: bool
    closes_at: datetime
    detail: str = ""  # the refusal's Persian detail


def min_increment_rial(base_rial: int, rate: object) -> int:
    """The default minimum increment: `rate` (a fraction, the policy's min_increment_rate) of the base
    price in rials, rounded UP to whole rials, at least 1 rial.

    Raises: INVALID_INPUT (a rate that is not a number). Rule: tender-rules.md `online_auction`
    (**default** 1% of the base price, rounded up to whole rials)."""
    value = (Decimal(base_rial) * to_decimal(rate)).to_integral_value(rounding=ROUND_CEILING)
    return max(1, int(value))


def terms_of(tender_id: str, base_rial: int, opens_at: datetime, closes_at: datetime, rules: ExtensionRules,
             min_increment: int | None = None) -> AuctionTerms:
    """An auction's terms from the tender documents (`min_increment` rials, or None for the policy's
    default rate of the base price) and the policy's extension rules.

    Raises: INVALID_INPUT, AMOUNT_OUT_OF_RANGE (AuctionTerms). Rule: tender-rules.md `online_auction`."""
    increment = min_increment if min_increment is not None else min_increment_rial(base_rial, rules.min_increment_rate)
    return AuctionTerms(tender_id, base_rial, increment, opens_at, closes_at, rules.extend_within, rules.extend_by,
                        rules.max_extensions)


def initial_state(terms: AuctionTerms) -> AuctionState:
    """The auction before any offer: the scheduled close, no extension, no best offer. Raises nothing."""
    return AuctionState(closes_at=terms.closes_at)


def check_window(terms: AuctionTerms, state: AuctionState, at: datetime) -> None:
    """An offer is received only inside the window: from `opens_at` (inclusive) to the current close,
    extensions included (exclusive: at the close the commission's sitting begins, so nothing can
    arrive "at" it), judged at the engine's receipt time (aware UTC).

    Raises: AUCTION_CLOSED (before the window opens, or after the close). Rule: tender-rules.md
    `online_auction`; scenario-format.md "More transaction kinds"."""
    if at < terms.opens_at:
        raise DomainError(Reason.AUCTION_CLOSED, f"حراج هنوز آغاز نشده است؛ آغاز: {format_jalali_datetime(terms.opens_at)}")
    if at >= state.closes_at:
        raise DomainError(Reason.AUCTION_CLOSED, f"پایان: {format_jalali_datetime(state.closes_at)}")


def check_guarantee(accepted: bool) -> None:
    """A bidder offers only once its bid guarantee (envelope A) has been accepted.

    Raises: GUARANTEE_MISSING. Rule: tender-rules.md `online_auction` (the bid guarantee (A) is required
    before a bidder may offer)."""
    if not accepted:
        raise DomainError(Reason.GUARANTEE_MISSING, "پیش از پیشنهاد در حراج، تضمین شرکت باید پذیرفته شده باشد")


def check_base_price(terms: AuctionTerms, amount_rial: int) -> None:
    """An offer (rials) is at least the base price (the estimate).

    Raises: BELOW_BASE_PRICE. Rule: tender-rules.md "Award and the Article 13 minutes" (auctions)."""
    if amount_rial < terms.base_rial:
        raise DomainError(Reason.BELOW_BASE_PRICE, f"قیمت پایه: {format_rial(terms.base_rial)} ریال")


def next_minimum(terms: AuctionTerms, state: AuctionState) -> int:
    """The least offer (rials) that can be accepted now: the base price before any offer, else the
    best offer plus the minimum increment. Raises nothing. Rule: tender-rules.md `online_auction`."""
    return terms.base_rial if state.best_rial is None else state.best_rial + terms.min_increment_rial


def check_increment(terms: AuctionTerms, state: AuctionState, amount_rial: int) -> None:
    """An offer (rials) beats the current best by at least the minimum increment (the first offer
    only has to reach the base price: check_base_price).

    Raises: OFFER_TOO_LOW. Rule: tender-rules.md `online_auction`."""
    if state.best_rial is not None and amount_rial < state.best_rial + terms.min_increment_rial:
        raise DomainError(Reason.OFFER_TOO_LOW, f"کمترین پیشنهاد پذیرفتنی: {format_rial(next_minimum(terms, state))} ریال")


def extended(terms: AuctionTerms, state: AuctionState, at: datetime) -> AuctionState:
    """The state after an accepted offer received at `at` (UTC): an offer within `extend_within` of
    the current close moves the close `extend_by` later, at most `max_extensions` times.

    Raises nothing. Rule: tender-rules.md `online_auction` (**default** last 2 minutes, 2 minutes, at
    most 10 extensions)."""
    if state.extensions < terms.max_extensions and state.closes_at - terms.extend_within <= at < state.closes_at:
        return replace(state, closes_at=state.closes_at + terms.extend_by, extensions=state.extensions + 1)
    return state


def accept_offer(terms: AuctionTerms, state: AuctionState, offer: Offer) -> OfferOutcome:
    """Judge one offer against the state the earlier accepted offers left, in the rules' order:
    window, guarantee, base price, increment; an accepted offer becomes the best and may extend the
    close. Returns the outcome (a refusal is an outcome, not an exception).

    Raises: INVALID_INPUT, AMOUNT_OUT_OF_RANGE (an amount that is not a positive whole rial).
    Refusal reasons: AUCTION_CLOSED, GUARANTEE_MISSING, BELOW_BASE_PRICE, OFFER_TOO_LOW.
    Rule: tender-rules.md `online_auction`."""
    check_rial(offer.amount_rial, minimum=1, field="amount_rial")
    try:
        check_window(terms, state, offer.received_at)
        check_guarantee(offer.guarantee_accepted)
        check_base_price(terms, offer.amount_rial)
        check_increment(terms, state, offer.amount_rial)
    except DomainError as exc:
        return OfferOutcome(offer, False, exc.reason, False, state.closes_at, exc.detail)
    after = extended(terms, state, offer.received_at)
    return OfferOutcome(offer, True, None, after.extensions > state.extensions, after.closes_at)


def apply(state: AuctionState, outcome: OfferOutcome) -> AuctionState:
    """The state after `outcome` (unchanged by a refusal). Raises nothing."""
    if not outcome.accepted:
        return state
    return replace(state, closes_at=outcome.closes_at, extensions=state.extensions + int(outcome.extended),
                   best_rial=outcome.offer.amount_rial, best_bidder=outcome.offer.bidder_id,
                   best_at=outcome.offer.received_at, offers=state.offers + 1)


def replay(terms: AuctionTerms, offers: Iterable[Offer]) -> tuple[AuctionState, list[OfferOutcome]]:
    """Every offer in the order received, judged by `accept_offer` against the state before it:
    the final state and each outcome. Deterministic, so the store's offers always give the same
    auction. Raises: what accept_offer raises."""
    state = initial_state(terms)
    outcomes = []
    for offer in offers:
        outcome = accept_offer(terms, state, offer)
        outcomes.append(outcome)
        state = apply(state, outcome)
    return state, outcomes


def is_closed(state: AuctionState, now: datetime) -> bool:
    """Whether the window is over at `now` (UTC): at or after the current close. Raises nothing."""
    return now >= state.closes_at


def best_offers(outcomes: Iterable[OfferOutcome]) -> dict[str, ev.PricedBid]:
    """Each bidder's best accepted offer (rials) with the receipt time of its first offer of that
    amount: bidder id -> PricedBid. Raises nothing."""
    best: dict[str, ev.PricedBid] = {}
    for o in outcomes:
        if not o.accepted:
            continue
        mine = best.get(o.offer.bidder_id)
        if mine is None or o.offer.amount_rial > mine.price_rial:
            best[o.offer.bidder_id] = ev.PricedBid(o.offer.bidder_id, o.offer.amount_rial, o.offer.received_at)
    return best


def award(spec: TenderSpec, outcomes: Iterable[OfferOutcome], price_inquiry_min_quotes: int) -> ev.AwardResult:
    """The award at the close: each bidder's best accepted offer ranked highest first, ties to the
    earlier receipt, the runner-up within the guarantee amount, too few valid bidders a re-tender
    (domain.tender.evaluation.rank_and_award, with the auction's `spec` of kind auction).

    Raises: INVALID_INPUT when `spec` is not an auction's. Rule: tender-rules.md "Award and the
    Article 13 minutes" (highest for auctions; ties to the earlier receipt)."""
    if spec.kind is not Kind.AUCTION:
        raise DomainError(Reason.INVALID_INPUT, "حراج بر پایهٔ مزایده (kind = auction) ثبت می‌شود")
    return ev.rank_and_award(spec, best_offers(outcomes).values(), price_inquiry_min_quotes)


def evaluation(spec: TenderSpec, estimate_rial: int, guarantees: Mapping[str, ev.Outcome],
               receipts: Mapping[str, datetime], outcomes: Sequence[OfferOutcome],
               rules: ev.PriceRules) -> ev.TenderEvaluation:
    """The auction's result in the shape the Article 13 minutes are generated from: per bidder (every
    bidder who lodged a guarantee: `guarantees` bidder -> envelope A outcome, `receipts` bidder ->
    when its guarantee was received), A as judged, no envelope B, C accepted at its best accepted
    offer (rejected with its last refusal when it made only refused offers, not submitted when it
    made none), ranked by `award`.

    Raises: INVALID_INPUT (not an auction). Rule: tender-rules.md `online_auction` and "Award and the
    Article 13 minutes"."""
    result = award(spec, outcomes, rules.price_inquiry_min_quotes)
    best = best_offers(outcomes)
    bids: dict[str, ev.BidEvaluation] = {}
    for bidder_id in sorted(set(guarantees) | set(best)):
        a = guarantees.get(bidder_id, ev.rejected(Reason.GUARANTEE_MISSING))
        mine = best.get(bidder_id)
        received = mine.receipt_at if mine is not None else receipts.get(bidder_id, spec.opening_at)
        if mine is None or not a.accepted:
            # No accepted offer: C states the last refusal (BELOW_BASE_PRICE, ...) or that none was made.
            refused = [o.reason for o in outcomes if o.offer.bidder_id == bidder_id and o.reason is not None]
            c = ev.rejected(refused[-1]) if a.accepted and refused else ev.NOT_SUBMITTED
            bids[bidder_id] = ev.BidEvaluation(bidder_id, received, a, ev.NOT_SUBMITTED, c)
        else:
            bids[bidder_id] = ev.BidEvaluation(bidder_id, received, a, ev.NOT_SUBMITTED, ev.ACCEPTED, mine.price_rial,
                                               b_complete=True)
    return ev.TenderEvaluation(spec.id, estimate_rial, bids, result, None, rules.abnormally_low)


def public_view(terms: AuctionTerms, state: AuctionState, now: datetime) -> dict[str, object]:
    """What any bidder may see (never who offered): the base price, the increment, the best offer and
    the least acceptable next offer (rials), the window (UTC ISO 8601 and Jalali Tehran), the
    extensions so far, and whether it is `not_open`, `open` or `closed` at `now`.

    Raises nothing. Rule: tender-rules.md `online_auction` (bidders see the current best price,
    never who offered it)."""
    status = "not_open" if now < terms.opens_at else ("closed" if is_closed(state, now) else "open")
    return {"tender_id": terms.tender_id, "status": status, "base_rial": terms.base_rial,
            "min_increment_rial": terms.min_increment_rial, "best_rial": state.best_rial,
            "next_minimum_rial": next_minimum(terms, state), "offers": state.offers,
            "opens_at": terms.opens_at.isoformat(), "closes_at": state.closes_at.isoformat(),
            "opens_at_jalali": format_jalali_datetime(terms.opens_at),
            "closes_at_jalali": format_jalali_datetime(state.closes_at), "extensions": state.extensions,
            "max_extensions": terms.max_extensions}
