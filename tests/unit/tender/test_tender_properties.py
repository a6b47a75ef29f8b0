"""Random tenders: the engine agrees with the hand-written reference of test_tender_scenarios."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st
from test_tender_scenarios import reference, run

DOCS = ["articles_of_association", "grade_certificate", "equipment_list"]
VALIDITY = ["1400/07/11", "1400/07/12", "1400/08/01"]


@st.composite
def scenarios(draw):
    two_stage = draw(st.booleans())
    n = draw(st.integers(min_value=1, max_value=7))
    # Distinct submission minutes so ties in price are broken by receipt time alone.
    slots = draw(st.lists(st.integers(min_value=0, max_value=14 * 24 * 60 - 1), min_size=n, max_size=n, unique=True))
    bidders = []
    for i, slot in enumerate(slots):
        day, minute = divmod(slot, 24 * 60)
        bid = {
            "id": f"b{i + 1}",
            "submit_at": f"1400/04/{day + 1:02d} {minute // 60:02d}:{minute % 60:02d}",
            "documents": draw(st.lists(st.sampled_from(DOCS), unique=True, min_size=1)),
            "grade": draw(st.integers(min_value=1, max_value=5)),
            "technical_score": draw(st.integers(min_value=40, max_value=100)),
            "price": draw(st.one_of(
                st.builds(lambda c: {"coefficient": c / 100}, st.integers(min_value=60, max_value=130)),
                st.builds(lambda a: {"amount_rial": a}, st.integers(min_value=1_000_000, max_value=3_000_000)))),
        }
        if draw(st.integers(min_value=0, max_value=5)):
            bid["guarantee"] = {"amount_rial": draw(st.sampled_from([90_000, 100_000, 150_000])),
                                "valid_until": draw(st.sampled_from(VALIDITY))}
        bidders.append(bid)
    tender = {
        "kind": "tender", "procedure": "two_stage" if two_stage else "one_stage", "unit": "district-22",
        "title": "آزمون", "items": [{"code": "X1", "quantity": draw(st.integers(min_value=1, max_value=40))},
                                    {"code": "X2", "quantity": draw(st.integers(min_value=1, max_value=40))}],
        "guarantee_rial": 100_000, "guarantee_valid_until": "1400/07/12",
        "announce_at": "1400/03/20 09:00", "deadline": "1400/04/12 14:00", "opening_at": "1400/04/15 10:00",
        "required_documents": DOCS[:2], "allowed_grades": [1, 2, 3, 4],
        "min_valid_bids": draw(st.integers(min_value=1, max_value=3)),
    }
    if two_stage:
        tender.update(min_technical_score=65, price_opening_at="1400/04/20 10:00")
    return {"scenario": {"name": "random"},
            "price_list": {"id": "pl/1400", "items": [{"code": "X1", "unit": "m3", "unit_price": 31_415},
                                                      {"code": "X2", "unit": "m2", "unit_price": 27_183}]},
            "tender": tender, "bidders": bidders}


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_r08_random_tenders_match_reference(data):
    from domain.tender.evaluation import bid_report

    estimate, ev = run(data)
    ref_estimate, ref_report, ref_winner, ref_runner = reference(data)
    assert estimate.total_rial == ref_estimate
    assert bid_report(ev) == ref_report
    assert (ev.award.winner, ev.award.runner_up) == (ref_winner, ref_runner)
