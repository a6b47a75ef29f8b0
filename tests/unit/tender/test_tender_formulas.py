"""Formulas as approved, versioned data evaluated without Python eval (R09)."""
from __future__ import annotations

import statistics
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st
from tender_helpers import FORMULAS, POLICY

from domain.formulas import Formula
from domain.money import round_rial
from domain.reasons import DomainError, Reason

ESTIMATE_FORMULA, GUARANTEE_FORMULA = FORMULAS["estimate"], FORMULAS["guarantee"]

AT = datetime(2021, 5, 1, 8, 0, tzinfo=timezone.utc)


def f(expr: str, **kw) -> Formula:
    data = dict(id="t", version=1, expression=expr, approved_by="deputy-urban-services", approved_at=AT,
                technical_council_ref="TC-1400/112")
    data.update(kw)
    return Formula(**data)


@pytest.mark.parametrize("field", ["approved_by", "technical_council_ref", "expression", "id"])
def test_r09_formula_without_approval_record_is_refused(field):
    with pytest.raises(DomainError) as exc:
        f("1", **{field: " "})
    assert exc.value.reason is Reason.POLICY_INVALID


def test_r09_formula_needs_aware_approval_time_positive_version_and_valid_syntax():
    for kw in ({"approved_at": datetime(2021, 5, 1)}, {"version": 0}, {"expression": "mean(("}):
        with pytest.raises(DomainError) as exc:
            f("1", **kw) if "expression" not in kw else f(kw["expression"])
        assert exc.value.reason is Reason.POLICY_INVALID


def test_r09_policy_formulas_carry_approval_and_versions():
    formulas = [d.to_formula() for d in POLICY.formulas]
    assert {x.id for x in formulas} == {"estimate", "abnormally-low", "guarantee", "waste-penalty"}
    assert all(x.version >= 1 and x.approved_by and x.technical_council_ref for x in formulas)
    assert FORMULAS["abnormally-low"].ref == "abnormally-low@1"
    assert POLICY.formula("abnormally-low").min_count == 3


def test_r09_literals_are_exact_decimals():
    assert f("0.1 + 0.2").evaluate() == Decimal("0.3")
    assert f("x * 0.93").evaluate(x=13_650_000_000) == Decimal("12694500000.00")
    assert f("round_rial(x / 2)").evaluate(x=5) == 3  # 2.5 half up


def test_r09_no_python_eval_escape():
    for expr in ("__import__('os').system('true')", "open('/etc/passwd')", "x.__class__", "(1).real"):
        with pytest.raises(DomainError) as exc:
            f(expr).evaluate(x=1)
        assert exc.value.reason is Reason.POLICY_INVALID


def test_r09_functions_available():
    v = [1, 2, 3, 4]
    assert f("sum(v) + len(v) + min(v) + max(v)").evaluate(v=v) == 10 + 4 + 1 + 4
    assert f("mean(v)").evaluate(v=v) == Decimal("2.5")
    assert abs(f("pstdev(v) * pstdev(v)").evaluate(v=v) - Decimal("1.25")) < Decimal("1e-40")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**13), min_size=1, max_size=8))
def test_r09_pstdev_matches_exact_population_variance(values):
    got = f("pstdev(v)").evaluate(v=values)
    exact_var = statistics.pvariance([Fraction(x) for x in values])  # exact Fraction
    # got² equals the exact variance to within the rounding of 60 significant digits.
    err = abs(Fraction(got) ** 2 - exact_var)
    assert err <= Fraction(1, 10**30) * max(1, exact_var)


def test_r09_estimate_formula_is_sum_of_quantity_times_price():
    assert ESTIMATE_FORMULA.evaluate(quantities=[9000, 5000], unit_prices=[1_250_000, 480_000]) == 13_650_000_000
    assert ESTIMATE_FORMULA.evaluate(quantities=[Decimal("0.5")], unit_prices=[3]) == Decimal("1.5")


def test_r09_guarantee_is_data_and_a_new_version_changes_it():
    def guarantee(estimate: int, formula: Formula = GUARANTEE_FORMULA) -> int:
        return round_rial(formula.evaluate(estimate=estimate))

    assert guarantee(13_650_000_000) == 682_500_000
    assert guarantee(11) == 1  # 0.55 → 1
    v2 = f("round_rial(estimate * 3 / 100)", id="guarantee", version=2)
    assert guarantee(13_650_000_000, v2) == 409_500_000
    assert GUARANTEE_FORMULA.version == 1


def test_r18_waste_penalty_is_an_approved_policy_formula():
    penalty = POLICY.formula("waste-penalty").to_formula()
    assert penalty.evaluate(missing_vehicles=2, missing_workers=3, penalty_per_missing_vehicle_rial=15_000_000,
                            penalty_per_missing_worker_rial=4_000_000) == 42_000_000


def test_r09_policy_entry_becomes_a_domain_formula_approved_at_utc_midnight():
    x = POLICY.formula("estimate").to_formula()
    assert x.approved_at == datetime(2021, 3, 5, 0, 0, tzinfo=timezone.utc)  # 1399/12/15
    assert x.evaluate(quantities=[2], unit_prices=[3]) == 6
