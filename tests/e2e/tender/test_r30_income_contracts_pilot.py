"""R30 rehearsed end to end (issue 14 part 2): awards of auctions and online auctions end in income
contracts registered with workflow (code at `final`); the buyer or lessee pays the municipality in
receipts recorded against the contract code (refused without one, as a payment is), each traced to
its schedule line; an income contract takes no status statement. The bundled scenarios' reports
(scenario-format.md "More transaction kinds"), expected values worked out from their files."""
from __future__ import annotations

from pilot.scenario import BUNDLED

SALE = BUNDLED / "district-5-property-sale.toml"
LEASE = BUNDLED / "district-5-kiosk-lease.toml"
ONLINE = BUNDLED / "district-5-online-auction.toml"


def test_r30_property_sale_auction_award_is_an_income_contract_with_receipts(run):
    report = run(SALE)
    assert (report["tender"]["status"], report["winner"]) == ("awarded", "b1")
    contract = report["contract"]
    assert contract["status"] == "final" and contract["code"]
    assert (contract["amount_rial"], contract["bidder"], contract["nature"], contract["type"]) == (
        2_650_000_000, "b1", "income", "general")
    # No status statement on an income contract, and so nothing paid to the buyer.
    assert report["status_statements"] == {"s1": {"result": "refused", "payable_rial": None,
                                                  "reason": "INCOME_CONTRACT_NO_STATEMENT"}}
    assert report["payments"] is None
    assert report["receipts"] == {
        "r1": {"result": "refused", "reason": "NO_CONTRACT_CODE", "lines": []},
        "r2": {"result": "recorded", "reason": None, "lines": [1]},
        "r3": {"result": "refused", "reason": "INVALID_INPUT", "lines": []},  # above the 1.65bn still due
        "r4": {"result": "recorded", "reason": None, "lines": [1]},
    }
    [line] = report["schedule"]
    assert (line["amount_rial"], line["received_rial"], line["receipts"]) == (2_650_000_000, 2_650_000_000,
                                                                              ["r2", "r4"])
    assert report["publication"]["ocds_valid"] is True


def test_r30_lease_receipts_are_traced_to_the_rent_schedule(run):
    report = run(LEASE)
    assert report["contract"]["nature"] == "income" and report["contract"]["status"] == "final"
    assert report["contract"]["amount_rial"] == 1_080_000_000  # 12 × 90,000,000
    assert report["receipts"] == {
        "r1": {"result": "recorded", "reason": None, "lines": [1]},
        "r2": {"result": "recorded", "reason": None, "lines": [2]},
        "r3": {"result": "recorded", "reason": None, "lines": [3]},
        "r4": {"result": "recorded", "reason": None, "lines": [3, 4]},
        "r5": {"result": "refused", "reason": "INVALID_INPUT", "lines": []},  # another contract's code
        "r6": {"result": "recorded", "reason": None, "lines": [5]},
    }
    schedule = report["schedule"]
    assert len(schedule) == 12 and schedule[0]["due"] == "1400/06/01" and schedule[11]["due"] == "1401/05/01"
    assert [(s["status"], s["received_rial"]) for s in schedule[:6]] == [
        ("paid", 90_000_000), ("paid_late", 90_000_000), ("paid_late", 90_000_000), ("paid", 90_000_000),
        ("short", 50_000_000), ("open", 0)]
    assert schedule[2]["receipts"] == ["r3", "r4"]


def test_r30_online_auction_ends_in_its_income_contract_and_receipts(run):
    report = run(ONLINE)
    assert report["winner"] == "b1"
    contract = report["contract"]
    assert (contract["status"], contract["amount_rial"], contract["bidder"], contract["nature"]) == (
        "final", 5_350_000_000, "b1", "income")
    assert report["receipts"] == {
        "r1": {"result": "refused", "reason": "NO_CONTRACT_CODE", "lines": []},
        "r2": {"result": "recorded", "reason": None, "lines": [1]},
        "r3": {"result": "refused", "reason": "INVALID_INPUT", "lines": []},
        "r4": {"result": "recorded", "reason": None, "lines": [1]},
    }
    assert report["schedule"][0]["received_rial"] == 5_350_000_000
