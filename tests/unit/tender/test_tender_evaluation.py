"""Envelope rules, prices, ranking, award and the Article 18 signing round."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from tender_helpers import FORMULAS, PRICE_RULES, T0, make_bid, make_spec

from domain.reasons import DomainError, Reason
from domain.tender.evaluation import (
    AwardStatus,
    BStage,
    EnvelopeStatus,
    PricedBid,
    bid_report,
    compute_estimate,
    evaluate_a,
    evaluate_b,
    evaluate_prices,
    evaluate_tender,
    open_a,
    open_b,
    open_c,
    performance_guarantee_rial,
    price_of,
    rank_and_award,
    signing_deadline,
    signing_round,
    wants,
)
from domain.tender.model import (
    BidRecord,
    EnvelopeA,
    EnvelopeB,
    EnvelopeC,
    Guarantee,
    Letter,
    PriceList,
    PriceListItem,
    effective_bids,
)

QUOTES = PRICE_RULES.price_inquiry_min_quotes


def _rep(spec, bids, estimate=1_000_000, rules=PRICE_RULES, **kw):
    ev = evaluate_tender(spec, estimate, bids, rules, **kw)
    return ev, bid_report(ev)


# --- envelope A and B ----------------------------------------------------------------------

@pytest.mark.parametrize("guarantee, expected", [
    (None, Reason.GUARANTEE_MISSING),
    (Guarantee(999, date(2021, 10, 1)), Reason.GUARANTEE_INSUFFICIENT),
    (Guarantee(1_000, date(2021, 9, 30)), Reason.GUARANTEE_EXPIRES_EARLY),
    (Guarantee(1_000, date(2021, 10, 1)), None),
    (Guarantee(5_000, date(2022, 1, 1)), None),
])
def test_r08_envelope_a_guarantee_rules(guarantee, expected):
    out = evaluate_a(make_spec(guarantee_rial=1_000), EnvelopeA(guarantee))
    assert out.reason == expected
    assert out.accepted == (expected is None)


def test_r08_envelope_b_documents_grade_and_score():
    one = make_spec()
    assert evaluate_b(one, EnvelopeB({"articles"}, 2)).reason is Reason.DOCUMENTS_INCOMPLETE
    assert evaluate_b(one, EnvelopeB({"articles", "grade_certificate"}, 5)).reason is Reason.GRADE_NOT_ALLOWED
    # One-stage B is pass/fail: a score, even a low one, does not matter.
    assert evaluate_b(one, EnvelopeB({"articles", "grade_certificate"}, 1, 10)).accepted
    with pytest.raises(DomainError) as exc:
        evaluate_b(one, EnvelopeB({"articles", "grade_certificate"}, 1), BStage.TECHNICAL)
    assert exc.value.reason is Reason.WRONG_STAGE
    two = make_spec(procedure="two_stage")
    docs = {"articles", "grade_certificate", "extra"}
    assert evaluate_b(two, EnvelopeB(docs, 1, 59.99)).reason is Reason.TECHNICAL_SCORE_BELOW_MIN
    assert evaluate_b(two, EnvelopeB(docs, 1, 60)).accepted
    assert evaluate_b(two, EnvelopeB(docs, 1, 10), BStage.QUALIFICATION).accepted
    assert evaluate_b(two, EnvelopeB(docs, 1, None), BStage.TECHNICAL).reason is Reason.TECHNICAL_SCORE_BELOW_MIN


def test_r08_refused_submission_reports_a_rejected_and_b_c_not_submitted():
    spec = make_spec()
    late = make_bid("late", minutes_before=-1, amount=900_000)
    exact = make_bid("exact", minutes_before=0, amount=950_000)
    _, rep = _rep(spec, [late, exact, make_bid("x", amount=990_000)])
    assert rep["late"] == {"A": "rejected", "B": "not_submitted", "C": "not_submitted",
                           "price_rial": None, "rank": None, "reason": "LATE_SUBMISSION"}
    assert rep["exact"]["A"] == "accepted"  # at the deadline is on time


def test_r08_resubmission_before_deadline_supersedes_and_late_one_is_ignored():
    spec = make_spec()
    first = make_bid("b1", minutes_before=120, amount=900_000)
    second = make_bid("b1", minutes_before=30, amount=950_000)
    after = make_bid("b1", minutes_before=-5, amount=800_000)
    only_late = make_bid("b2", minutes_before=-5, amount=800_000)
    chosen = {b.bidder_id: b for b in effective_bids(spec, [after, first, second, only_late])}
    assert chosen["b1"] is second
    assert chosen["b2"].refused is Reason.LATE_SUBMISSION and chosen["b2"].c is None


# --- decrypt only what is needed ---------------------------------------------------------

def test_r08_excluded_bids_later_envelopes_are_never_decrypted():
    spec = make_spec(procedure="two_stage")
    docs = ("articles", "grade_certificate")
    full = {b.bidder_id: b for b in [
        make_bid("poor", guarantee=10, amount=900_000, score=90),
        make_bid("nodocs", documents=("articles",), amount=900_000, score=90),
        make_bid("lowscore", documents=docs, amount=900_000, score=40),
        make_bid("ok1", documents=docs, amount=950_000, score=70),
        make_bid("ok2", documents=docs, amount=960_000, score=80),
        make_bid("late", minutes_before=-10, amount=1, score=99),
    ]}
    calls: list[tuple[str, str]] = []

    def opener(bidder, letter):
        calls.append((bidder, letter.value))
        return full[bidder].envelope(letter)

    sealed = [BidRecord(b.bidder_id, b.receipt_at) for b in full.values()]
    ev, rep = _rep(spec, sealed, opener=opener)
    opened = set(calls)
    assert ("late", "A") not in opened
    assert {("poor", "B"), ("poor", "C"), ("nodocs", "C"), ("lowscore", "C")}.isdisjoint(opened)
    assert {("ok1", "C"), ("ok2", "C"), ("lowscore", "B")} <= opened
    assert rep["poor"]["B"] == rep["poor"]["C"] == "returned_unopened"
    assert rep["lowscore"]["C"] == "returned_unopened"
    assert ev.award.winner == "ok1"


def test_r08_tampered_envelope_and_invalid_bidder_signature():
    spec = make_spec()
    bids = [make_bid("t", amount=900_000, tampered="C"),
            make_bid("s", amount=900_000, signature_invalid=True),
            make_bid("tb", amount=900_000, tampered=Letter.B),
            make_bid("ok", amount=950_000), make_bid("ok2", amount=960_000)]
    _, rep = _rep(spec, bids)
    assert (rep["t"]["A"], rep["t"]["B"], rep["t"]["C"], rep["t"]["reason"]) == (
        "accepted", "accepted", "rejected", "ENVELOPE_TAMPERED")
    assert rep["t"]["price_rial"] is None
    assert (rep["s"]["A"], rep["s"]["B"], rep["s"]["reason"]) == ("rejected", "returned_unopened", "BIDDER_SIGNATURE_INVALID")
    assert (rep["tb"]["B"], rep["tb"]["C"], rep["tb"]["reason"]) == ("rejected", "returned_unopened", "ENVELOPE_TAMPERED")


def test_r08_opener_tamper_error_excludes_that_envelope():
    spec = make_spec()
    full = {b.bidder_id: b for b in [make_bid("a", amount=900_000), make_bid("b", amount=950_000),
                                      make_bid("c", amount=960_000)]}

    def opener(bidder, letter):
        if bidder == "a" and letter is Letter.C:
            raise DomainError(Reason.ENVELOPE_TAMPERED, "tag")
        return full[bidder].envelope(letter)

    ev, rep = _rep(spec, [BidRecord(k, v.receipt_at) for k, v in full.items()], opener=opener)
    assert rep["a"]["reason"] == "ENVELOPE_TAMPERED" and rep["a"]["C"] == "rejected"
    assert ev.award.winner == "b"


def test_staged_opening_refuses_out_of_order_steps():
    spec = make_spec()
    bid = make_bid("b1", amount=900_000)
    ev = open_a(spec, replace(bid, b=None, c=None))
    assert wants(ev, "B") and not wants(ev, "C")
    with pytest.raises(DomainError) as exc:
        open_c(spec, 1_000_000, bid, ev)
    assert exc.value.reason is Reason.WRONG_STAGE
    with pytest.raises(DomainError) as exc:
        open_b(spec, replace(bid, b=None), ev)  # B not decrypted yet
    assert exc.value.reason is Reason.WRONG_STAGE
    ev = open_b(spec, bid, ev)
    assert wants(ev, "C") and not wants(ev, "B")
    ev = open_c(spec, 1_000_000, bid, ev)
    assert ev.price_rial == 900_000 and not wants(ev, "C")


def test_r08_two_stage_technical_pass_after_qualification():
    good = make_bid("g", amount=900_000, score=80)
    spec0 = make_spec(procedure="two_stage")
    ev = open_b(spec0, good, open_b(spec0, good, open_a(spec0, good), "qualification"), "technical")
    assert ev.b_complete and wants(ev, "C") and open_c(spec0, 1, good, ev).price_rial == 900_000

    spec = make_spec(procedure="two_stage")
    bid = make_bid("b1", amount=900_000, score=50)
    ev = open_b(spec, bid, open_a(spec, bid), BStage.QUALIFICATION)
    # Qualification alone does not decide two-stage C: the technical score must be checked first.
    assert ev.b.accepted and wants(ev, "B") and not wants(ev, "C")
    with pytest.raises(DomainError) as exc:
        open_c(spec, 1_000_000, bid, ev)
    assert exc.value.reason is Reason.WRONG_STAGE
    with pytest.raises(DomainError):
        open_b(spec, bid, ev, BStage.QUALIFICATION)  # the same check twice
    ev = open_b(spec, bid, ev, "technical")
    assert ev.b.reason is Reason.TECHNICAL_SCORE_BELOW_MIN
    assert ev.c.status is EnvelopeStatus.RETURNED_UNOPENED and not wants(ev, "C")


# --- prices -----------------------------------------------------------------------------------

def test_r09_coefficient_times_estimate_rounds_half_up_once():
    spec = make_spec()
    assert price_of(spec, 5, EnvelopeC(coefficient="0.5")) == 3  # 2.5 → 3 (banker's rounding would give 2)
    assert price_of(spec, 1_000_001, EnvelopeC(coefficient="0.5")) == 500_001
    assert price_of(spec, 1_000_003, EnvelopeC(coefficient="0.5")) == 500_002  # 500001.5 → 500002
    assert price_of(spec, 7, EnvelopeC(amount_rial=123)) == 123
    # Once per amount: rounding each line first would give 2 + 2 = 4 instead of round(3.0) = 3.
    two_lines = make_spec(items=(("L1", 1), ("L2", 1)))
    pl = PriceList("pl", 1, {"L1": PriceListItem("L1", "m", 5), "L2": PriceListItem("L2", "m", 5)})
    estimate = compute_estimate(two_lines, pl, FORMULAS["estimate"]).total_rial
    assert estimate == 10
    assert price_of(two_lines, estimate, EnvelopeC(coefficient="0.3")) == 3


def test_r09_estimate_uses_price_list_and_rejects_unknown_code():
    pl = PriceList("pl", 3, {"X1": PriceListItem("X1", "m3", 1_250_000)})
    est = compute_estimate(make_spec(items=(("X1", "12.5"),)), pl, FORMULAS["estimate"])
    assert est.total_rial == 15_625_000 and est.price_list_version == 3
    with pytest.raises(DomainError) as exc:
        compute_estimate(make_spec(items=(("NOPE", 1),)), pl, FORMULAS["estimate"])
    assert exc.value.reason is Reason.INVALID_INPUT


def _pb(bidder, price, minutes=0):
    return PricedBid(bidder, price, T0 - timedelta(minutes=minutes))


def test_r09_abnormally_low_boundary_is_strict():
    spec = make_spec()
    # values 80, 100, 100 + estimate 120: mean 100, population sd sqrt(200) ≈ 14.14 → threshold ≈ 85.86.
    out = evaluate_prices(spec, 120, [_pb("low", 80), _pb("m1", 100), _pb("m2", 100)], PRICE_RULES)
    assert out["low"].reason is Reason.ABNORMALLY_LOW and out["m1"].accepted and out["m2"].accepted
    # A price exactly at M − S is not strictly below it: values 90,110,110 + estimate 90 → M=100, S=10.
    out = evaluate_prices(spec, 90, [_pb("at", 90), _pb("x", 110), _pb("y", 110)], PRICE_RULES)
    assert all(o.accepted for o in out.values())
    # With two prices the rule does not apply at all.
    out = evaluate_prices(spec, 1_000, [_pb("a", 1), _pb("b", 1_000)], PRICE_RULES)
    assert all(o.accepted for o in out.values())


def test_r08_auction_highest_wins_and_below_base_price_excluded():
    spec = make_spec(kind="auction", guarantee_rial=50)
    bids = [make_bid("low", amount=999), make_bid("base", amount=1_000),
            make_bid("high", amount=5_000), make_bid("mid", amount=4_960)]
    ev, rep = _rep(spec, bids, estimate=1_000)
    assert rep["low"]["reason"] == "BELOW_BASE_PRICE"
    assert rep["base"]["C"] == "accepted"  # equal to the base price is acceptable
    # The abnormal-price rule does not apply: 5_000 is far from the others yet stays valid.
    assert ev.award.winner == "high" and ev.award.runner_up == "mid"
    assert [p.bidder_id for p in ev.award.ranking] == ["high", "mid", "base"]
    assert ev.abnormal_threshold is None


def test_ties_go_to_the_earlier_receipt():
    spec = make_spec()
    award = rank_and_award(spec, [_pb("later", 500, minutes=10), _pb("earlier", 500, minutes=20), _pb("x", 700)], QUOTES)
    assert award.winner == "earlier" and award.ranking[1].bidder_id == "later"
    auction = make_spec(kind="auction")
    award = rank_and_award(auction, [_pb("later", 900, minutes=1), _pb("earlier", 900, minutes=2)], QUOTES)
    assert award.winner == "earlier"


def test_runner_up_only_within_the_guarantee_amount():
    spec = make_spec(guarantee_rial=1_000)
    assert rank_and_award(spec, [_pb("w", 10_000), _pb("r", 11_000)], QUOTES).runner_up == "r"  # exactly the guarantee
    outside = rank_and_award(spec, [_pb("w", 10_000), _pb("r", 11_001)], QUOTES)
    assert outside.winner == "w" and outside.runner_up is None


def test_too_few_valid_bids_is_retender():
    spec = make_spec()
    ev, rep = _rep(spec, [make_bid("only", amount=900_000), make_bid("poor", guarantee=1, amount=800_000)])
    assert ev.award.status is AwardStatus.RETENDER and ev.award.reason is Reason.TOO_FEW_VALID_BIDS
    assert ev.award.winner is None and rep["only"]["rank"] is None
    assert rank_and_award(make_spec(min_valid_bids=3), [_pb("a", 1), _pb("b", 2)], QUOTES).reason is Reason.TOO_FEW_VALID_BIDS


def test_r01_price_inquiry_needs_three_quotes_and_lowest_wins():
    spec = make_spec(kind="price_inquiry", min_valid_bids=2)
    two = rank_and_award(spec, [_pb("a", 100), _pb("b", 90)], QUOTES)
    assert two.status is AwardStatus.RETENDER and two.reason is Reason.TOO_FEW_VALID_BIDS
    three = rank_and_award(spec, [_pb("a", 100), _pb("b", 90), _pb("c", 95)], QUOTES)
    assert three.status is AwardStatus.AWARDED and three.winner == "b"
    # The minimum is the policy's price_inquiry_min_quotes, not a number in code.
    assert QUOTES == 3 and rank_and_award(spec, [_pb("a", 100), _pb("b", 90)], 2).winner == "b"
    assert rank_and_award(make_spec(min_valid_bids=2), [_pb("a", 100), _pb("b", 90)], 9).winner == "b"  # tenders: spec's


def test_r09_abnormal_rule_applies_from_the_policy_min_count():
    spec, two = make_spec(), [_pb("a", 1), _pb("b", 1_000)]
    assert PRICE_RULES.min_prices == 3
    assert all(o.accepted for o in evaluate_prices(spec, 1_000, two, PRICE_RULES).values())
    stricter = replace(PRICE_RULES, min_prices=2)
    assert evaluate_prices(spec, 1_000, two, stricter)["a"].reason is Reason.ABNORMALLY_LOW


# --- signing round and guarantees ---------------------------------------------------------

def _award(runner=True):
    spec = make_spec(guarantee_rial=1_000 if runner else 0)
    return rank_and_award(spec, [_pb("w", 10_000), _pb("r", 10_500), _pb("t", 20_000)], QUOTES)


def test_winner_signs():
    res = signing_round(_award(), set())
    assert (res.contract_bidder, res.forfeited, res.status.value, res.reason) == ("w", [], "contracted", None)


def test_guarantee_forfeited_and_runner_up_signs():
    res = signing_round(_award(), {"w"})
    assert res.contract_bidder == "r" and res.forfeited == ["w"] and res.notified == ["w", "r"]
    assert res.reason is Reason.GUARANTEE_FORFEITED and res.status.value == "contracted"


def test_winners_declined_is_retender():
    both = signing_round(_award(), {"w", "r"})
    assert (both.contract_bidder, both.forfeited, both.status.value, both.reason) == (
        None, ["w", "r"], "retender", Reason.WINNERS_DECLINED)
    no_runner = signing_round(_award(runner=False), {"w"})
    assert no_runner.forfeited == ["w"] and no_runner.reason is Reason.WINNERS_DECLINED
    with pytest.raises(DomainError) as exc:
        signing_round(rank_and_award(make_spec(), [], QUOTES), set())
    assert exc.value.reason is Reason.WRONG_STAGE


def test_forfeited_winner_keeps_envelopes_in_report():
    spec = make_spec()
    ev, _ = _rep(spec, [make_bid("w", amount=900_000), make_bid("r", amount=900_500)])
    rep = bid_report(ev, forfeited=signing_round(ev.award, {"w"}).forfeited)
    assert rep["w"]["reason"] == "GUARANTEE_FORFEITED"
    assert (rep["w"]["A"], rep["w"]["B"], rep["w"]["C"], rep["w"]["rank"]) == ("accepted", "accepted", "accepted", 1)


def test_signing_deadline_and_performance_guarantee():
    spec = make_spec(signing_days=7)
    assert signing_deadline(spec, T0) == T0 + timedelta(days=7)
    rate = spec.performance_guarantee_rate  # the policy's default, 5%
    assert performance_guarantee_rial(12_967_500_010, rate) == 648_375_001  # 5% of it is …000.5 → half up


def test_model_refuses_inconsistent_envelope_c():
    with pytest.raises(DomainError):
        EnvelopeC()
    with pytest.raises(DomainError):
        EnvelopeC(coefficient="0.9", amount_rial=10)
    with pytest.raises(DomainError):
        BidRecord("x", T0.replace(tzinfo=None))
