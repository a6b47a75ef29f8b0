"""The online auction (حراج) rehearsed end to end (issue 14 part 1): the bundled scenario through the
API, SoftHSM tokens, the online-auction flow, the Article 13 minutes signed at the members' stations
and the Article 18 notification; the report of scenario-format.md "More transaction kinds". Expected
values are worked out here from the scenario's offers and the policy's defaults (1% increment, last
2 minutes extend by 2)."""
from __future__ import annotations

from pathlib import Path

SCENARIO = Path(__file__).parents[3] / "pilot" / "scenarios" / "district-5-online-auction.toml"


def test_r30_online_auction_pilot_extensions_refusals_and_award(run):
    report = run(SCENARIO)
    assert report["tender"] == {"status": "awarded", "reason": None, "estimate_rial": 5_000_000_000}
    # 10:59 (last 2 min of 11:00) -> 11:02; 11:01 (last 2 min of 11:02) -> 11:04.
    assert report["auction"] == {"closes_at": "1400/05/10 11:04", "extensions": 2, "best_rial": 5_350_000_000}
    assert report["offers"] == {
        "b1": {"accepted": 3, "refused": {"OFFER_TOO_LOW": 1, "AUCTION_CLOSED": 0}},
        "b2": {"accepted": 2, "refused": {"OFFER_TOO_LOW": 1, "AUCTION_CLOSED": 1}},
        "b3": {"accepted": 0, "refused": {"OFFER_TOO_LOW": 0, "AUCTION_CLOSED": 0, "GUARANTEE_MISSING": 1}},
        "b4": {"accepted": 0, "refused": {"OFFER_TOO_LOW": 0, "AUCTION_CLOSED": 0, "BELOW_BASE_PRICE": 1}},
    }
    bids = report["bids"]
    assert bids["b1"] == {"A": "accepted", "B": None, "C": None, "price_rial": 5_350_000_000, "rank": 1,
                          "reason": None}
    assert bids["b2"]["price_rial"] == 5_300_000_000 and bids["b2"]["rank"] == 2
    assert bids["b3"]["A"] == "rejected" and bids["b3"]["reason"] == "GUARANTEE_INSUFFICIENT"
    assert bids["b4"]["rank"] is None and bids["b4"]["reason"] == "BELOW_BASE_PRICE"
    # The runner-up is within the guarantee amount (250,000,000) of the winner's price.
    assert (report["winner"], report["runner_up"]) == ("b1", "b2")
    assert report["minutes"]["article13"]["final"] is True
    assert report["minutes"]["article13"]["signers"] == ["m1", "m2", "m3", "m4", "m5"]
    assert report["minutes"]["article18"] == {"final": True, "signers": ["m1"], "notified": "b1"}
    # The award ends in an income contract (R30): the buyer pays the municipality, receipts against its code.
    assert report["contract"]["nature"] == "income" and report["receipts"]["r2"]["result"] == "recorded"


def test_r30_online_auction_rerun_resumes_without_sending_twice(run):
    first = run(SCENARIO, name="same")
    again = run(SCENARIO, name="same")  # the same work directory: a restart after a crash
    assert again == first
