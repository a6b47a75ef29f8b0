from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from domain.identity import validate_company_id, validate_national_id
from domain.money import apply_rate, round_rial
from domain.reasons import DomainError, Reason


def _nid_check(nine: str) -> str:
    s = sum(int(nine[i]) * (10 - i) for i in range(9)) % 11
    return nine + str(s if s < 2 else 11 - s)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1 and s[3:] != "000000"))
def test_every_correct_check_digit_is_accepted_and_others_refused(nine):
    good = _nid_check(nine)
    assert validate_national_id(good) == good
    for d in "0123456789":
        if d != good[-1]:
            with pytest.raises(DomainError):
                validate_national_id(nine + d)


def test_national_id_with_persian_digits_and_lost_leading_zero():
    assert validate_national_id("۰۸۳۰۱۶۶۱۳۰") == "0830166130"
    assert validate_national_id("830166130") == "0830166130"


@pytest.mark.parametrize("bad", ["1111111111", "12345", "5260181592", "abcdefghij"])
def test_invalid_national_ids(bad):
    with pytest.raises(DomainError) as exc:
        validate_national_id(bad)
    assert exc.value.reason is Reason.INVALID_INPUT


def test_company_ids_of_the_public_scenarios_are_valid_and_a_changed_digit_is_not():
    assert validate_company_id("50752917036") == "50752917036"
    with pytest.raises(DomainError):
        validate_company_id("50752917037")
    with pytest.raises(DomainError):
        validate_company_id("5075291703")


def test_half_up_rounding_once():
    assert round_rial(Decimal("2.5")) == 3
    assert round_rial(Decimal("-2.5")) == -3
    assert round_rial("1364999999.5") == 1365000000
    # coefficient × estimate is one amount: 0.91 × 1_500_000_001 = 1_365_000_000.91 -> ...001
    assert apply_rate(1_500_000_001, 0.91) == 1_365_000_001
