"""Tender evaluation as tender-rules.md states it, stage by stage.

The opening flow decrypts an envelope only when wants() says so: a bid excluded at one
stage never has its later envelopes decrypted, and they are reported returned_unopened.
evaluate_tender() runs the stages in the rules' order (all A, then B, then C) for callers
that hold the contents already or that decrypt through an opener callback.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum

from domain.formulas import Formula
from domain.money import apply_rate, round_rial
from domain.reasons import DomainError, Reason
from domain.tender.model import (
    BidRecord,
    EnvelopeA,
    EnvelopeB,
    EnvelopeC,
    Estimate,
    EstimateLine,
    Kind,
    Letter,
    PriceList,
    Procedure,
    TenderSpec,
)
from domain.tender.state import is_late


class EnvelopeStatus(str, Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETURNED_UNOPENED = "returned_unopened"
    NOT_SUBMITTED = "not_submitted"


@dataclass(frozen=True)
class Outcome:
    status: EnvelopeStatus
    reason: Reason | None = None

    @property
    def accepted(self) -> bool:
        return self.status is EnvelopeStatus.ACCEPTED


ACCEPTED = Outcome(EnvelopeStatus.ACCEPTED)
RETURNED_UNOPENED = Outcome(EnvelopeStatus.RETURNED_UNOPENED)
NOT_SUBMITTED = Outcome(EnvelopeStatus.NOT_SUBMITTED)


def rejected(reason: Reason) -> Outcome:
    return Outcome(EnvelopeStatus.REJECTED, Reason(reason))


class BStage(str, Enum):
    """Which envelope-B checks to run: qualification (documents, grade) at the A/B opening,
    technical (score) in two-stage technical evaluation."""

    QUALIFICATION = "qualification"
    TECHNICAL = "technical"


# --- the estimate -------------------------------------------------------------------------

def compute_estimate(spec: TenderSpec, price_list: PriceList, formula: Formula) -> Estimate:
    """Σ quantity × unit price over the tender's items by the approved `estimate` formula (R09),
    rounded half up once to whole rials; the lines keep each item's unit and price-list price.

    Raises: INVALID_INPUT (an item not in the price list), POLICY_INVALID (the formula fails).
    Rule: R09; tender-rules.md "Opening" (C: a coefficient applied to the price-list estimate)."""
    lines = tuple(EstimateLine(code=i.code, unit=price_list.item(i.code).unit, quantity=i.quantity,
                               unit_price=price_list.item(i.code).unit_price) for i in spec.items)
    total = formula.evaluate(quantities=[ln.quantity for ln in lines],
                             unit_prices=[ln.unit_price for ln in lines])
    return Estimate(total_rial=round_rial(total), lines=lines, price_list_id=price_list.id,
                    price_list_version=price_list.version, formula_ref=formula.ref)


# --- single-envelope rules ----------------------------------------------------------------

def evaluate_submission(spec: TenderSpec, bid: BidRecord) -> Outcome:
    """A refused submission (or one received after the deadline) never reaches the opening."""
    if bid.refused is not None:
        return rejected(bid.refused)
    if is_late(bid.receipt_at, spec.deadline):
        return rejected(Reason.LATE_SUBMISSION)
    return ACCEPTED


def evaluate_a(spec: TenderSpec, a: EnvelopeA) -> Outcome:
    if spec.guarantee_rial == 0:
        return ACCEPTED  # the documents ask for no guarantee (e.g. some price inquiries)
    g = a.guarantee
    if g is None:
        return rejected(Reason.GUARANTEE_MISSING)
    if g.amount_rial < spec.guarantee_rial:
        return rejected(Reason.GUARANTEE_INSUFFICIENT)
    if g.valid_until < spec.guarantee_valid_until:
        return rejected(Reason.GUARANTEE_EXPIRES_EARLY)
    return ACCEPTED


def evaluate_b(spec: TenderSpec, b: EnvelopeB, stage: BStage | None = None) -> Outcome:
    """stage None runs every check the procedure has; one-stage B is pass/fail (no score)."""
    stage = BStage(stage) if stage is not None else None
    if stage is BStage.TECHNICAL and spec.procedure is not Procedure.TWO_STAGE:
        raise DomainError(Reason.WRONG_STAGE, "ارزیابی فنی فقط در مناقصهٔ دومرحله‌ای است")
    if stage in (None, BStage.QUALIFICATION):
        if not spec.required_documents <= b.documents:
            return rejected(Reason.DOCUMENTS_INCOMPLETE)
        if spec.allowed_grades and b.grade not in spec.allowed_grades:
            return rejected(Reason.GRADE_NOT_ALLOWED)
    if spec.procedure is Procedure.TWO_STAGE and stage in (None, BStage.TECHNICAL):
        if b.technical_score is None or b.technical_score < spec.min_technical_score:  # type: ignore[operator]
            return rejected(Reason.TECHNICAL_SCORE_BELOW_MIN)
    return ACCEPTED


def price_of(spec: TenderSpec, estimate: int, c: EnvelopeC) -> int:
    """A lump sum as offered, or coefficient × estimate as ONE amount rounded half up once."""
    if c.amount_rial is not None:
        return c.amount_rial
    return apply_rate(estimate, c.coefficient)


@dataclass(frozen=True)
class PricedBid:
    bidder_id: str
    price_rial: int
    receipt_at: datetime


@dataclass(frozen=True)
class PriceRules:
    """The policy's price rules a tender is evaluated with (config.policy.Policy.price_rules builds it).

    abnormally_low: the tender's approved abnormal-price formula (policy `abnormally-low`);
    min_prices: that rule applies only with at least this many valid prices (the formula's
    `min_count`); price_inquiry_min_quotes: a price inquiry needs at least this many valid quotes
    ([defaults].price_inquiry_min_quotes)."""

    abnormally_low: Formula
    min_prices: int
    price_inquiry_min_quotes: int

    def __post_init__(self) -> None:
        for name in ("min_prices", "price_inquiry_min_quotes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DomainError(Reason.POLICY_INVALID, f"{name}: {value!r}")


def abnormal_threshold(estimate: int, prices: Sequence[int], rules: PriceRules) -> Decimal | None:
    """The approved rule's threshold (exact Decimal rials) over prices + [estimate]; None when
    there are fewer than rules.min_prices prices.

    Raises: POLICY_INVALID (the formula fails or gives no number).
    Rule: R09; tender-rules.md "Opening" (abnormally low prices, **default** M − S with at least 3)."""
    if len(prices) < rules.min_prices:
        return None
    formula = rules.abnormally_low
    value = formula.evaluate(values=[*prices, estimate], estimate=estimate)
    if isinstance(value, bool):
        raise DomainError(Reason.POLICY_INVALID, f"فرمول {formula.ref} باید عدد بدهد")
    return value


def evaluate_prices(spec: TenderSpec, estimate: int, priced_bids: Sequence[PricedBid],
                    rules: PriceRules) -> dict[str, Outcome]:
    """Bidder id -> outcome of its price. Auctions: below the base price (the estimate) is
    BELOW_BASE_PRICE. Tenders and price inquiries: strictly below the abnormal-price threshold is
    ABNORMALLY_LOW.

    Raises: POLICY_INVALID (abnormal_threshold).
    Rule: tender-rules.md "Opening" (abnormally low prices) and "Award" (auctions)."""
    if spec.kind is Kind.AUCTION:
        return {p.bidder_id: rejected(Reason.BELOW_BASE_PRICE) if p.price_rial < estimate else ACCEPTED
                for p in priced_bids}
    threshold = abnormal_threshold(estimate, [p.price_rial for p in priced_bids], rules)
    return {p.bidder_id: rejected(Reason.ABNORMALLY_LOW)
            if threshold is not None and p.price_rial < threshold else ACCEPTED
            for p in priced_bids}


# --- award ----------------------------------------------------------------------------------

class AwardStatus(str, Enum):
    AWARDED = "awarded"
    RETENDER = "retender"


@dataclass(frozen=True)
class AwardResult:
    status: AwardStatus
    reason: Reason | None
    ranking: tuple[PricedBid, ...]
    winner: str | None
    runner_up: str | None

    def rank_of(self, bidder_id: str) -> int | None:
        for i, p in enumerate(self.ranking, start=1):
            if p.bidder_id == bidder_id:
                return i
        return None


def min_valid_bids(spec: TenderSpec, price_inquiry_min_quotes: int) -> int:
    """The fewest valid bids that still award: the tender's minimum, and for a price inquiry at
    least the policy's price_inquiry_min_quotes written quotes.

    Raises: nothing. Rule: tender-rules.md "Transaction kinds" (price inquiry: at least three quotes)
    and "Opening" (fewer valid bids than the minimum, **default** 2: re-tender)."""
    if spec.kind is Kind.PRICE_INQUIRY:
        return max(spec.min_valid_bids, price_inquiry_min_quotes)
    return spec.min_valid_bids


def rank_and_award(spec: TenderSpec, valid: Iterable[PricedBid], price_inquiry_min_quotes: int) -> AwardResult:
    """Best price first (lowest for tenders and price inquiries, highest for auctions);
    ties go to the earlier receipt. The runner-up is declared only within the guarantee amount.
    Too few valid bids (min_valid_bids) gives RETENDER with reason TOO_FEW_VALID_BIDS.

    Raises: nothing. Rule: tender-rules.md "Award and the Article 13 minutes" (winner, runner-up)."""
    valid = list(valid)
    if len(valid) < min_valid_bids(spec, price_inquiry_min_quotes):
        return AwardResult(AwardStatus.RETENDER, Reason.TOO_FEW_VALID_BIDS, (), None, None)
    sign = -1 if spec.kind is Kind.AUCTION else 1
    ranking = tuple(sorted(valid, key=lambda p: (sign * p.price_rial, p.receipt_at, p.bidder_id)))
    winner = ranking[0]
    runner_up = None
    if len(ranking) > 1 and abs(ranking[1].price_rial - winner.price_rial) <= spec.guarantee_rial:
        runner_up = ranking[1].bidder_id
    return AwardResult(AwardStatus.AWARDED, None, ranking, winner.bidder_id, runner_up)


# --- Article 18 and the contract signature -------------------------------------------------

class SigningStatus(str, Enum):
    CONTRACTED = "contracted"
    RETENDER = "retender"


@dataclass(frozen=True)
class SigningResult:
    contract_bidder: str | None
    forfeited: list[str]
    notified: list[str]
    status: SigningStatus
    reason: Reason | None


def signing_deadline(spec: TenderSpec, notified_at: datetime) -> datetime:
    """The notified bidder signs within signing_days calendar days of the notification."""
    return notified_at + timedelta(days=spec.signing_days)


def signing_round(award: AwardResult, declines: set[str] | frozenset[str]) -> SigningResult:
    """Winner first; a bidder that does not sign in time forfeits its guarantee and the
    runner-up is notified the same way; with none left the tender is re-tendered."""
    if award.status is not AwardStatus.AWARDED or award.winner is None:
        raise DomainError(Reason.WRONG_STAGE, "قراردادی برای مناقصهٔ بدون برنده امضا نمی‌شود")
    forfeited: list[str] = []
    notified: list[str] = []
    for bidder in (award.winner, award.runner_up):
        if bidder is None:
            break
        notified.append(bidder)
        if bidder not in declines:
            reason = Reason.GUARANTEE_FORFEITED if forfeited else None
            return SigningResult(bidder, forfeited, notified, SigningStatus.CONTRACTED, reason)
        forfeited.append(bidder)
    return SigningResult(None, forfeited, notified, SigningStatus.RETENDER, Reason.WINNERS_DECLINED)


def performance_guarantee_rial(contract_amount_rial: int, rate: object) -> int:
    """The performance guarantee the winner provides: contract amount (int rials) × rate (the tender's,
    **default** the policy's performance_guarantee_rate 5%), rounded half up once.

    Raises: INVALID_INPUT for a rate that is not a number.
    Rule: R11; tender-rules.md "Article 18 notification and the contract"."""
    return apply_rate(contract_amount_rial, rate)


# --- per-bid staging ----------------------------------------------------------------------

@dataclass(frozen=True)
class BidEvaluation:
    """One bid's outcome so far; b/c are None while their stage has not run."""

    bidder_id: str
    receipt_at: datetime
    a: Outcome
    b: Outcome | None = None
    c: Outcome | None = None
    price_rial: int | None = None
    # Which envelope-B checks have run; two-stage C waits for both.
    b_checks: frozenset[BStage] = frozenset()
    b_complete: bool = False

    @property
    def reason(self) -> Reason | None:
        for outcome in (self.a, self.b, self.c):
            if outcome is not None and outcome.reason is not None:
                return outcome.reason
        return None

    @property
    def excluded(self) -> bool:
        return any(o is not None and not o.accepted for o in (self.a, self.b, self.c))

    @property
    def complete(self) -> bool:
        return self.b is not None and self.c is not None


def wants(ev: BidEvaluation, letter: Letter | str) -> bool:
    """Whether the flow must decrypt envelope B or C now: only if every earlier one was accepted
    and this one's outcome is still open. (A is decrypted for every bid whose submission
    evaluate_submission accepts.)"""
    letter = Letter(letter)
    if letter is Letter.A:
        raise DomainError(Reason.INVALID_INPUT, "پاکت الف با evaluate_submission تعیین می‌شود")
    if letter is Letter.B:
        return ev.a.accepted and (ev.b is None or (ev.b.accepted and not ev.b_complete))
    return ev.a.accepted and ev.b is not None and ev.b.accepted and ev.b_complete and ev.c is None


def _integrity(bid: BidRecord, letter: Letter) -> Outcome | None:
    if letter is Letter.A and bid.signature_invalid:
        return rejected(Reason.BIDDER_SIGNATURE_INVALID)
    if bid.tampered is letter:
        return rejected(Reason.ENVELOPE_TAMPERED)
    if bid.invalid is not None and bid.invalid[0] is letter:
        return rejected(bid.invalid[1])
    return None


def _require(bid: BidRecord, letter: Letter) -> object:
    content = bid.envelope(letter)
    if content is None:
        raise DomainError(Reason.WRONG_STAGE, f"پاکت {letter.value} پیشنهاد {bid.bidder_id} رمزگشایی نشده است")
    return content


def open_a(spec: TenderSpec, bid: BidRecord) -> BidEvaluation:
    """The A stage; a refused submission ends here with B and C not submitted."""
    submission = evaluate_submission(spec, bid)
    if not submission.accepted:
        return BidEvaluation(bid.bidder_id, bid.receipt_at, submission, NOT_SUBMITTED, NOT_SUBMITTED)
    outcome = _integrity(bid, Letter.A) or evaluate_a(spec, _require(bid, Letter.A))  # type: ignore[arg-type]
    if not outcome.accepted:
        return BidEvaluation(bid.bidder_id, bid.receipt_at, outcome, RETURNED_UNOPENED, RETURNED_UNOPENED)
    return BidEvaluation(bid.bidder_id, bid.receipt_at, outcome)


def _b_checks_needed(spec: TenderSpec) -> frozenset[BStage]:
    if spec.procedure is Procedure.TWO_STAGE:
        return frozenset({BStage.QUALIFICATION, BStage.TECHNICAL})
    return frozenset({BStage.QUALIFICATION})


def open_b(spec: TenderSpec, bid: BidRecord, ev: BidEvaluation, stage: BStage | None = None) -> BidEvaluation:
    """The B stage: stage None runs every check the procedure has; two-stage may run
    QUALIFICATION at the A/B session and TECHNICAL after the technical evaluation."""
    stage = BStage(stage) if stage is not None else None
    if not ev.a.accepted:
        return ev
    ran = _b_checks_needed(spec) if stage is None else frozenset({stage})
    if not wants(ev, Letter.B) or ran & ev.b_checks:
        raise DomainError(Reason.WRONG_STAGE, f"پاکت ب پیشنهاد {bid.bidder_id} قبلاً بررسی شده است")
    outcome = _integrity(bid, Letter.B) or evaluate_b(spec, _require(bid, Letter.B), stage)  # type: ignore[arg-type]
    checks = ev.b_checks | ran
    ev = replace(ev, b=outcome, b_checks=checks, b_complete=_b_checks_needed(spec) <= checks)
    if not outcome.accepted:
        return replace(ev, c=RETURNED_UNOPENED)
    return ev


def open_c(spec: TenderSpec, estimate: int, bid: BidRecord, ev: BidEvaluation) -> BidEvaluation:
    """The C stage: reads the price; exclusion by price comes later, over all prices together."""
    if ev.excluded:
        return ev
    if ev.b is None or not ev.b_complete:
        raise DomainError(Reason.WRONG_STAGE, "پاکت ج پیش از بررسی کامل پاکت ب باز نمی‌شود")
    if ev.c is not None:
        raise DomainError(Reason.WRONG_STAGE, f"پاکت ج پیشنهاد {bid.bidder_id} قبلاً باز شده است")
    tampered = _integrity(bid, Letter.C)
    if tampered is not None:
        return replace(ev, c=tampered)
    return replace(ev, c=ACCEPTED, price_rial=price_of(spec, estimate, _require(bid, Letter.C)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class TenderEvaluation:
    spec_id: str
    estimate_rial: int
    bids: Mapping[str, BidEvaluation]
    award: AwardResult
    abnormal_threshold: Decimal | None
    price_formula: Formula  # the abnormal-price formula the prices were judged by

    def rank_of(self, bidder_id: str) -> int | None:
        return self.award.rank_of(bidder_id)


def finish(spec: TenderSpec, estimate: int, evs: Mapping[str, BidEvaluation], rules: PriceRules) -> TenderEvaluation:
    """After every C stage: apply the price rule to the opened prices, then rank and award.

    Raises: WRONG_STAGE (a bid not excluded whose stages are incomplete), POLICY_INVALID (price rule).
    Rule: tender-rules.md "Opening" and "Award and the Article 13 minutes"."""
    evs = dict(evs)
    for ev in evs.values():
        if not ev.excluded and not ev.complete:
            raise DomainError(Reason.WRONG_STAGE, f"بررسی پیشنهاد {ev.bidder_id} کامل نشده است")
    priced = [PricedBid(e.bidder_id, e.price_rial, e.receipt_at) for e in evs.values()
              if e.c is not None and e.c.accepted and e.price_rial is not None]
    threshold = None
    if spec.kind is not Kind.AUCTION:
        threshold = abnormal_threshold(estimate, [p.price_rial for p in priced], rules)
    for bidder_id, outcome in evaluate_prices(spec, estimate, priced, rules).items():
        evs[bidder_id] = replace(evs[bidder_id], c=outcome)
    valid = [p for p in priced if evs[p.bidder_id].c.accepted]  # type: ignore[union-attr]
    award = rank_and_award(spec, valid, rules.price_inquiry_min_quotes)
    return TenderEvaluation(spec.id, estimate, dict(sorted(evs.items())), award, threshold, rules.abnormally_low)


Opener = Callable[[str, Letter], object]
# Refusals of a decrypted envelope's own content (sealing.content.decode_envelope with the policy's
# limits): the bid is excluded at that envelope with this reason, the session goes on.
CONTENT_REFUSALS = frozenset({Reason.INVALID_INPUT, Reason.AMOUNT_OUT_OF_RANGE})


def excluded(bid: BidRecord, letter: Letter, exc: DomainError) -> BidRecord:
    """The bid marked as excluded at `letter` for an opening failure: ENVELOPE_TAMPERED,
    BIDDER_SIGNATURE_INVALID, or a content refusal (CONTENT_REFUSALS). R08.

    Raises: `exc` itself for any other failure (the session cannot go on)."""
    if exc.reason is Reason.ENVELOPE_TAMPERED:
        return replace(bid, tampered=letter)
    if exc.reason is Reason.BIDDER_SIGNATURE_INVALID:
        return replace(bid, signature_invalid=True)
    if exc.reason in CONTENT_REFUSALS:
        return replace(bid, invalid=(letter, exc.reason))
    raise exc


def evaluate_tender(spec: TenderSpec, estimate: int, bids: Iterable[BidRecord], rules: PriceRules,
                    opener: Opener | None = None) -> TenderEvaluation:
    """All A, then all B, then all C, then prices (by the policy's `rules`) and award.

    estimate: the tender's estimate in rials (compute_estimate); bids: one effective record per bidder.
    Raises: DUPLICATE_BID (two records of one bidder), WRONG_STAGE, POLICY_INVALID, and whatever the
    opener raises other than ENVELOPE_TAMPERED / BIDDER_SIGNATURE_INVALID.
    Rule: R08, R09; tender-rules.md "Opening" (order: all A, then B, then C) and "Award".

    opener(bidder_id, letter) decrypts an envelope on demand; it is called only for envelopes
    the rules need, and a DomainError ENVELOPE_TAMPERED or BIDDER_SIGNATURE_INVALID it raises
    excludes the bid at that envelope, as does a content refusal (CONTENT_REFUSALS: the bidder's own
    content unreadable or out of the policy's bounds).
    """
    bids = list(bids)
    records = {b.bidder_id: b for b in bids}
    if len(records) != len(bids):
        raise DomainError(Reason.DUPLICATE_BID, "هر پیشنهاددهنده یک پیشنهاد مؤثر دارد (effective_bids)")

    def load(bid: BidRecord, letter: Letter) -> BidRecord:
        if opener is None:
            return bid
        try:
            content = opener(bid.bidder_id, letter)
        except DomainError as exc:
            return excluded(bid, letter, exc)
        if letter is Letter.A:
            return replace(bid, a=content)  # type: ignore[arg-type]
        if letter is Letter.B:
            return replace(bid, b=content)  # type: ignore[arg-type]
        return replace(bid, c=content)  # type: ignore[arg-type]

    evs: dict[str, BidEvaluation] = {}
    for bidder_id, bid in records.items():
        if evaluate_submission(spec, bid).accepted:
            records[bidder_id] = bid = load(bid, Letter.A)
        evs[bidder_id] = open_a(spec, bid)
    for bidder_id, ev in evs.items():
        if wants(ev, Letter.B):
            records[bidder_id] = load(records[bidder_id], Letter.B)
            evs[bidder_id] = open_b(spec, records[bidder_id], ev)
    for bidder_id, ev in evs.items():
        if wants(ev, Letter.C):
            records[bidder_id] = load(records[bidder_id], Letter.C)
            evs[bidder_id] = open_c(spec, estimate, records[bidder_id], ev)
    return finish(spec, estimate, evs, rules)


def bid_report(evaluation: TenderEvaluation, forfeited: Iterable[str] = ()) -> dict[str, dict[str, object]]:
    """Each bid's outcome as the minutes state it and the pilot report shows it (scenario-format.md),
    keyed by bidder id: {"A"|"B"|"C": envelope status, "price_rial": int rials | None,
    "rank": 1-based | None, "reason": reason code | None}; a stage that never ran is returned_unopened;
    a bidder in `forfeited` (did not sign in time) reports GUARANTEE_FORFEITED.

    Raises: nothing. Rule: R09; tender-rules.md "Award and the Article 13 minutes" (every bid's outcome
    per envelope with reasons, prices, ranking)."""
    forfeited = set(forfeited)
    report: dict[str, dict[str, object]] = {}
    for bidder_id, ev in evaluation.bids.items():
        reason = Reason.GUARANTEE_FORFEITED if bidder_id in forfeited else ev.reason
        report[bidder_id] = {
            "A": ev.a.status.value,
            "B": (ev.b or RETURNED_UNOPENED).status.value,
            "C": (ev.c or RETURNED_UNOPENED).status.value,
            "price_rial": ev.price_rial,
            "rank": evaluation.rank_of(bidder_id),
            "reason": reason.value if reason is not None else None,
        }
    return report
