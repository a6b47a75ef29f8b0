"""R18 properties of status statements over generated inputs."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from contract_helpers import Ledger, policy_terms
from hypothesis import given, settings, strategies as st

from domain.contract.statement import APPROVED, StatementInput, WasteTerms, compute_statement

rates = st.decimals(min_value=0, max_value=Decimal("0.3"), places=3)
coefficients = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("1.5"), places=2)
quantities = st.lists(st.decimals(min_value=0, max_value=10_000, places=2), min_size=1, max_size=4)
PRICES = {"a": 1_250_000, "b": 480_000, "c": 95_000, "d": 7}


def items_of(qs):
    return {code: q for code, q in zip(PRICES, qs)}


@settings(max_examples=150, deadline=None)
@given(qs=quantities, coefficient=coefficients, retention=rates, insurance=rates, tax=rates,
       vehicles=st.integers(0, 20), workers=st.integers(0, 80))
def test_r18_payable_never_exceeds_gross_and_each_deduction_is_half_up(qs, coefficient, retention, insurance,
                                                                        tax, vehicles, workers):
    terms = policy_terms(10**15, coefficient=coefficient,
                           deduction_rates={"retention": retention, "insurance": insurance, "tax": tax},
                           waste=WasteTerms(14, 60, 15_000_000, 4_000_000))
    r = compute_statement(StatementInput("s", items_of(qs), True, vehicles, workers), terms, PRICES)
    assert r.result == APPROVED
    exact = sum(q * PRICES[c] for c, q in items_of(qs).items()) * coefficient
    assert abs(Decimal(r.cumulative_rial) - exact) <= Decimal("0.5")
    for name, rate in terms.deduction_rates.items():
        assert r.deductions[name] == int((r.gross_rial * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert abs(Decimal(r.deductions[name]) - r.gross_rial * rate) <= Decimal("0.5")
    assert r.penalty_rial == max(0, 14 - vehicles) * 15_000_000 + max(0, 60 - workers) * 4_000_000
    assert r.payable_rial == r.gross_rial - sum(r.deductions.values()) - r.penalty_rial
    assert r.payable_rial <= r.gross_rial


@settings(max_examples=80, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 500), st.booleans()), min_size=1, max_size=6))
def test_r18_gross_of_approved_statements_sums_to_the_last_approved_cumulative(steps):
    ledger = Ledger(policy_terms(10**12, coefficient="0.93"), PRICES)
    running = 0
    total_gross = 0
    for i, (increment, signed) in enumerate(steps):
        running += increment
        r = ledger.submit(StatementInput(f"s{i}", {"a": running}, signed))
        if r.result == APPROVED:
            total_gross += r.gross_rial
    # Telescoping: whatever was halted or refused, approved grosses add up to the approved cumulative.
    assert total_gross == ledger.approved_cumulative_rial
