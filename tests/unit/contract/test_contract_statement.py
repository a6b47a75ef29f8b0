"""R17-R19: status statements, computed from both public scenarios with the arithmetic written out."""
from __future__ import annotations

import statistics
from decimal import Decimal

import pytest
from contract_helpers import Ledger, load_scenario, policy_terms

from domain.contract.statement import (
    APPROVED,
    HALTED,
    REFUSED,
    STANDARD_PATH,
    StatementInput,
    WasteTerms,
    compute_statement,
)
from domain.reasons import DomainError, Reason


def price_list(scn) -> dict[str, int]:
    return {i["code"]: i["unit_price"] for i in scn["price_list"]["items"]}


def estimate_and_bids(name: str) -> tuple[dict, int, dict[str, dict]]:
    """A scenario, its estimate (Σ quantity × unit price, rials) and its bidders by id."""
    scn = load_scenario(name)
    prices = price_list(scn)
    estimate = sum(i["quantity"] * prices[i["code"]] for i in scn["tender"]["items"])
    return scn, estimate, {b["id"]: b for b in scn["bidders"]}


def statement_input(raw) -> StatementInput:
    # The scenario omits signed_by_contractor on district 2: omitted means signed (as the pilot reads it).
    return StatementInput(raw["id"], raw["items"], raw.get("signed_by_contractor", True),
                          raw.get("vehicles"), raw.get("workers"))


# --- district 12: who wins, written out -----------------------------------------------------------
def test_r18_district12_award_inputs_derived_independently():
    scn, estimate, bids = estimate_and_bids("district-12-asphalt.toml")
    # estimate = 9000 × 1,250,000 + 5000 × 480,000 = 11,250,000,000 + 2,400,000,000
    assert estimate == 13_650_000_000
    # b2's guarantee (400,000,000) is below the required 650,000,000: rejected at envelope A.
    assert bids["b2"]["guarantee"]["amount_rial"] < scn["tender"]["guarantee_rial"]
    valid = {k: Decimal(str(bids[k]["price"]["coefficient"])) * estimate for k in ("b1", "b3", "b4", "b5")}
    assert valid == {"b1": 12_421_500_000, "b3": 12_967_500_000, "b4": 13_240_500_000, "b5": 13_923_000_000}
    values = list(valid.values()) + [Decimal(estimate)]
    floor = statistics.mean(values) - statistics.pstdev(values)   # M − S ≈ 12,715,370,000
    assert valid["b1"] < floor < valid["b3"]                         # b1 abnormally low, b3 wins
    assert round(floor, -4) == Decimal("12715370000")


@pytest.fixture
def d12():
    scn = load_scenario("district-12-asphalt.toml")
    # Winner b3: coefficient 0.95, contract amount 0.95 × 13,650,000,000 = 12,967,500,000.
    terms = policy_terms(12_967_500_000, coefficient=Decimal("0.95"))
    return scn, terms


def test_r18_district12_s1_first_statement(d12):
    scn, terms = d12
    s1 = compute_statement(statement_input(scn["status_statements"][0]), terms, price_list(scn), 0)
    # Σ = 3000 × 1,250,000 + 1500 × 480,000 = 3,750,000,000 + 720,000,000 = 4,470,000,000
    # cumulative = 4,470,000,000 × 0.95 = 4,246,500,000; gross = cumulative − 0
    # retention = 10% = 424,650,000; insurance = 5% = 212,325,000; tax = 0
    # payable = 4,246,500,000 − 424,650,000 − 212,325,000 = 3,609,525,000
    assert (s1.result, s1.reason) == (APPROVED, None)
    assert s1.cumulative_rial == 4_246_500_000
    assert s1.gross_rial == 4_246_500_000
    assert s1.deductions == {"retention": 424_650_000, "insurance": 212_325_000, "tax": 0}
    assert s1.penalty_rial == 0
    assert s1.payable_rial == 3_609_525_000
    assert s1.approval_path == ("contractor", "supervisor", "employer_reviewer", "treasurer")


def test_r18_district12_s2_is_measured_from_s1(d12):
    scn, terms = d12
    ledger = Ledger(terms, price_list(scn))
    results = [ledger.submit(statement_input(raw)) for raw in scn["status_statements"]]
    s2 = results[1]
    # Σ = 6500 × 1,250,000 + 3000 × 480,000 = 8,125,000,000 + 1,440,000,000 = 9,565,000,000
    # cumulative = 9,565,000,000 × 0.95 = 9,086,750,000
    # gross = 9,086,750,000 − 4,246,500,000 = 4,840,250,000
    # retention = 484,025,000; insurance = 242,012,500; payable = 4,840,250,000 − 726,037,500 = 4,114,212,500
    assert s2.result == APPROVED
    assert s2.cumulative_rial == 9_086_750_000
    assert s2.gross_rial == 4_840_250_000
    assert s2.deductions == {"retention": 484_025_000, "insurance": 242_012_500, "tax": 0}
    assert s2.payable_rial == 4_114_212_500
    assert ledger.approved_cumulative_rial == 9_086_750_000


# --- district 2: waste collection --------------------------------------------------------------------
def test_r18_district2_award_inputs_derived_independently():
    scn, estimate, bids = estimate_and_bids("district-2-waste-two-stage.toml")
    # estimate = 8000 × 2,400,000 + 60000 × 95,000 = 19,200,000,000 + 5,700,000,000
    assert estimate == 24_900_000_000
    assert bids["b3"]["submit_at"] > scn["tender"]["deadline"]                                  # late
    assert bids["b2"]["technical_score"] < scn["tender"]["min_technical_score"]                 # 58 < 65
    # Two valid prices (b1 0.98, b4 1.01): fewer than 3, so no abnormal-price exclusion; b1 wins.
    assert Decimal(str(bids["b1"]["price"]["coefficient"])) * estimate == 24_402_000_000


@pytest.fixture
def d2():
    scn = load_scenario("district-2-waste-two-stage.toml")
    c = scn["contract"]
    terms = policy_terms(
        contract_amount_rial=24_402_000_000, coefficient=Decimal("0.98"),
        waste=WasteTerms(c["min_vehicles"], c["min_workers"], c["penalty_per_missing_vehicle_rial"],
                         c["penalty_per_missing_worker_rial"]))
    ledger = Ledger(terms, price_list(scn))
    return {raw["id"]: ledger.submit(statement_input(raw)) for raw in scn["status_statements"]}, ledger


def test_r18_district2_s1_meets_the_minimums(d2):
    results, _ = d2
    s1 = results["s1"]
    # Σ = 700 × 2,400,000 + 5100 × 95,000 = 1,680,000,000 + 484,500,000 = 2,164,500,000
    # cumulative = 2,164,500,000 × 0.98 = 2,121,210,000
    # retention = 212,121,000; insurance = 106,060,500; vehicles 14 ≥ 14, workers 60 ≥ 60: no penalty
    # payable = 2,121,210,000 − 212,121,000 − 106,060,500 = 1,803,028,500
    assert (s1.result, s1.cumulative_rial, s1.gross_rial) == (APPROVED, 2_121_210_000, 2_121_210_000)
    assert s1.deductions == {"retention": 212_121_000, "insurance": 106_060_500, "tax": 0}
    assert (s1.penalty_rial, s1.payable_rial) == (0, 1_803_028_500)
    assert s1.approval_path == STANDARD_PATH and not s1.stricter


def test_r18_district2_s2_without_vehicles_and_workers_is_halted(d2):
    results, _ = d2
    s2 = results["s2"]
    # Σ = 1420 × 2,400,000 + 10300 × 95,000 = 3,408,000,000 + 978,500,000 = 4,386,500,000; × 0.98
    assert (s2.result, s2.reason) == (HALTED, Reason.RESOURCES_NOT_REPORTED)
    assert s2.cumulative_rial == 4_298_770_000
    assert (s2.gross_rial, s2.payable_rial, s2.deductions, s2.approval_path) == (None, None, {}, ())


def test_r18_district2_s3_below_minimums_pays_a_penalty_on_the_stricter_path(d2):
    results, ledger = d2
    s3 = results["s3"]
    # s2 was halted, so s3 is measured from s1's 2,121,210,000.
    # gross = 4,298,770,000 − 2,121,210,000 = 2,177,560,000
    # retention = 217,756,000; insurance = 108,878,000
    # penalty = (14 − 12) × 15,000,000 + (60 − 55) × 4,000,000 = 30,000,000 + 20,000,000 = 50,000,000
    # payable = 2,177,560,000 − 217,756,000 − 108,878,000 − 50,000,000 = 1,800,926,000
    assert (s3.result, s3.reason) == (APPROVED, None)
    assert s3.gross_rial == 2_177_560_000
    assert s3.deductions == {"retention": 217_756_000, "insurance": 108_878_000, "tax": 0}
    assert (s3.missing_vehicles, s3.missing_workers, s3.penalty_rial) == (2, 5, 50_000_000)
    assert s3.payable_rial == 1_800_926_000
    assert s3.approval_path == ("contractor", "supervisor", "employer_reviewer", "deputy", "treasurer")
    assert s3.stricter
    assert ledger.approved_cumulative_rial == 4_298_770_000


def test_r18_waste_halt_needs_both_figures():
    terms = policy_terms(1_000_000, coefficient="1", waste=WasteTerms(2, 3, 100, 10))
    only_vehicles = compute_statement(StatementInput("x", {"a": 1}, True, vehicles=2), terms, {"a": 1000})
    only_workers = compute_statement(StatementInput("y", {"a": 1}, True, workers=3), terms, {"a": 1000})
    assert {only_vehicles.result, only_workers.result} == {HALTED}
    zero = compute_statement(StatementInput("z", {"a": 1}, True, vehicles=0, workers=0), terms, {"a": 1000})
    # Zero reported is a figure, not a missing one: 2 × 100 + 3 × 10 = 230 penalty.
    assert (zero.result, zero.penalty_rial) == (APPROVED, 230)


# --- refusals and configuration -----------------------------------------------------------------------
def test_r17_statement_without_contractor_signature_is_refused():
    terms = policy_terms(10_000_000, coefficient="1")
    r = compute_statement(StatementInput("s", {"a": 3}, signed_by_contractor=False), terms, {"a": 1_000_000})
    assert (r.result, r.reason, r.payable_rial) == (REFUSED, Reason.STATEMENT_NOT_SIGNED, None)


def test_r18_cumulative_above_contract_plus_allowed_change_is_refused():
    # contract 10,000,000 × 1.25 = 12,500,000 ceiling
    terms = policy_terms(10_000_000, coefficient="1")
    at_ceiling = compute_statement(StatementInput("a", {"a": 125}, True), terms, {"a": 100_000})
    above = compute_statement(StatementInput("b", {"a": 125.00001}, True), terms, {"a": 100_000})
    assert at_ceiling.result == APPROVED and at_ceiling.cumulative_rial == 12_500_000
    assert (above.result, above.reason) == (REFUSED, Reason.STATEMENT_EXCEEDS_CONTRACT)
    tighter = policy_terms(10_000_000, coefficient="1", allowed_change="0.10")
    assert compute_statement(StatementInput("c", {"a": 111}, True), tighter, {"a": 100_000}).result == REFUSED


def test_r18_refused_statement_does_not_move_the_previous_cumulative():
    ledger = Ledger(policy_terms(10_000_000, coefficient="1"), {"a": 100_000})
    ledger.submit(StatementInput("s1", {"a": 20}, True))
    ledger.submit(StatementInput("s2", {"a": 50}, False))
    s3 = ledger.submit(StatementInput("s3", {"a": 50}, True))
    # gross = 50 × 100,000 − 20 × 100,000 = 3,000,000 (s2 refused, not counted)
    assert s3.gross_rial == 3_000_000
    with pytest.raises(DomainError):
        ledger.submit(StatementInput("s3", {"a": 60}, True))


def test_r18_statement_smaller_than_already_approved_is_refused():
    ledger = Ledger(policy_terms(10_000_000, coefficient="1"), {"a": 100_000})
    ledger.submit(StatementInput("s1", {"a": 20}, True))
    r = ledger.submit(StatementInput("s2", {"a": 10}, True))
    assert (r.result, r.reason) == (REFUSED, Reason.AMOUNT_OUT_OF_RANGE)


def test_r18_coefficient_applies_once_to_the_sum_then_rounds_half_up():
    terms = policy_terms(10_000_000, coefficient="0.5")
    # Σ = 1 × 1 + 1 × 1 = 2; 2 × 0.5 = 1. Rounding per item would give 0.5 → 1 twice = 2.
    items = [{"code": "a", "quantity": 1}, {"code": "b", "quantity": 1}]
    assert compute_statement(StatementInput("s", items, True), terms, {"a": 1, "b": 1}).cumulative_rial == 1
    # 5 × 0.5 = 2.5 rounds half up to 3 (banker's rounding would give 2).
    assert compute_statement(StatementInput("s", {"a": 1}, True), terms, {"a": 5}).cumulative_rial == 3
    terms_b = policy_terms(10_000_000, coefficient="0.5", deduction_rates={"retention": "0.5"})
    # gross 3; retention 3 × 0.5 = 1.5 → 2; payable 3 − 2 = 1
    r2 = compute_statement(StatementInput("s", {"a": 1}, True), terms_b, {"a": 5})
    assert (r2.deductions, r2.payable_rial) == ({"retention": 2}, 1)


def test_r18_lump_sum_contract_pays_its_share():
    # Lump sum 900,000,000 for an estimate of 1,200,000,000: a third of the work is
    # 400,000,000 × 900,000,000 / 1,200,000,000 = 300,000,000.
    terms = policy_terms(900_000_000, estimate_rial=1_200_000_000)
    r = compute_statement(StatementInput("s", {"a": 400}, True), terms, {"a": 1_000_000})
    assert r.cumulative_rial == 300_000_000
    assert r.deductions == {"retention": 30_000_000, "insurance": 15_000_000, "tax": 0}


def test_r18_configured_tax_is_deducted():
    terms = policy_terms(100_000_000, coefficient="1",
                           deduction_rates={"retention": "0.10", "insurance": "0.05", "tax": "0.09"})
    r = compute_statement(StatementInput("s", {"a": 7}, True), terms, {"a": 1_234_567})
    # gross = 7 × 1,234,567 = 8,641,969; retention 864,196.9 → 864,197; insurance 432,098.45 → 432,098;
    # tax 777,777.21 → 777,777; payable = 8,641,969 − 2,074,072 = 6,567,897
    assert r.deductions == {"retention": 864_197, "insurance": 432_098, "tax": 777_777}
    assert r.payable_rial == 6_567_897


@pytest.mark.parametrize("kwargs", [
    {"coefficient": None}, {"coefficient": "1", "estimate_rial": 5}, {"coefficient": "0"},
    {"coefficient": "1", "deduction_rates": {"retention": "1.2"}},
    {"coefficient": "1", "deduction_rates": {"a": "0.6", "b": "0.6"}},
    {"coefficient": "1", "allowed_change": "-0.1"},
])
def test_r18_unusable_terms_are_rejected(kwargs):
    with pytest.raises(DomainError) as err:
        policy_terms(1_000_000, **kwargs)
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("items", [{"zzz": 1}, {"a": -1}, [{"code": "a", "quantity": 1}, {"code": "a", "quantity": 2}]])
def test_r18_unknown_items_and_bad_quantities_are_rejected(items):
    with pytest.raises(DomainError) as err:
        compute_statement(StatementInput("s", items, True), policy_terms(10, coefficient="1"), {"a": 1})
    assert err.value.reason is Reason.INVALID_INPUT
