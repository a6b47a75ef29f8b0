"""R12: the contract code's format, and its check character catching typos."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from contract_helpers import memory_codes
from hypothesis import given, settings, strategies as st

from domain.contract.code import (
    ContractCodeSequence,
    check_character,
    code_prefix,
    make_contract_code,
    parse_contract_code,
    validate_contract_code,
)
from domain.reasons import DomainError, Reason

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def iso7064_mod37_2(body: str) -> str:
    """Reference computation written from the standard: Σ value × 2^(position from the right, check = 1)."""
    chars = [c for c in body if c != "-"]
    n = len(chars)
    total = sum(ALNUM.index(c) * pow(2, n - i, 37) for i, c in enumerate(chars)) % 37
    return (ALNUM + "*")[(1 - total) % 37]


def test_r12_contract_code_format():
    code = make_contract_code("12", 1400, 42)
    assert code[:-1] == "12-1400-000042-"
    assert code[-1] == iso7064_mod37_2("12-1400-000042")
    assert parse_contract_code(code) == ("12", 1400, 42)


def test_r12_code_accepts_persian_digits_and_lower_case():
    code = make_contract_code("s3", 1401, 7)
    typed = code.lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert validate_contract_code(typed) == code


@pytest.mark.parametrize("bad", ["", "12-1400-42-K", "12/1400/000042/K", "district-12-1400-000042-K",
                                 "12-1400-000042", "12-14000-000042-K"])
def test_r12_malformed_codes_are_rejected(bad):
    with pytest.raises(DomainError) as err:
        validate_contract_code(bad)
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("unit, year, seq", [("", 1400, 1), ("district-12", 1400, 1), ("12", 99, 1),
                                             ("12", 1400, 0), ("12", 1400, 1_000_000)])
def test_r12_code_parts_are_checked(unit, year, seq):
    with pytest.raises(DomainError) as err:
        make_contract_code(unit, year, seq)
    assert err.value.reason is Reason.INVALID_INPUT


@settings(max_examples=60, deadline=None)
@given(unit=st.text(alphabet=ALNUM, min_size=1, max_size=4), year=st.integers(1396, 1420),
       seq=st.integers(1, 999_999), data=st.data())
def test_r12_every_single_character_typo_is_caught(unit, year, seq, data):
    code = make_contract_code(unit, year, seq)
    positions = [i for i, c in enumerate(code) if c != "-"]
    i = data.draw(st.sampled_from(positions))
    alphabet = ALNUM + "*" if i == len(code) - 1 else (ALNUM if i < len(unit) else "0123456789")
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != code[i]]))
    typo = code[:i] + replacement + code[i + 1:]
    with pytest.raises(DomainError):
        validate_contract_code(typo)


def test_r12_every_adjacent_swap_is_caught():
    for seq in (1, 12345, 908172, 999_999):
        code = make_contract_code("S3", 1400, seq)
        for i in range(len(code) - 1):
            a, b = code[i], code[i + 1]
            if a == b or "-" in (a, b):
                continue
            swapped = code[:i] + b + a + code[i + 2:]
            with pytest.raises(DomainError):
                validate_contract_code(swapped)


def test_r12_check_character_matches_reference():
    for body in ["12-1400-000001", "00-1396-000999", "S1-1405-123456"]:
        assert check_character(body) == iso7064_mod37_2(body)


def test_r12_generator_uses_the_tehran_jalali_year_of_final_approval():
    gen = memory_codes({"district-2": "02"})
    # 1399/12/30 23:30 Tehran is 20:00 UTC on 2021-03-20; 1400 starts at Tehran midnight.
    last_of_1399 = gen("district-2", datetime(2021, 3, 20, 19, 0, tzinfo=timezone.utc))
    first_of_1400 = gen("district-2", datetime(2021, 3, 20, 21, 0, tzinfo=timezone.utc))
    assert parse_contract_code(last_of_1399) == ("02", 1399, 1)
    assert parse_contract_code(first_of_1400) == ("02", 1400, 1)
    with pytest.raises(DomainError) as err:
        gen("district-99", datetime(2021, 3, 20, tzinfo=timezone.utc))
    assert err.value.reason is Reason.UNKNOWN_UNIT


def test_r12_sequence_counts_what_the_unit_already_holds_for_that_year():
    asked = []

    def issued(unit, prefix):
        asked.append((unit, prefix))
        return 41

    gen = ContractCodeSequence(lambda unit: {"district-12": "12"}[unit], issued)
    code = gen("district-12", datetime(2021, 7, 20, 8, 0, tzinfo=timezone.utc))
    assert parse_contract_code(code) == ("12", 1400, 42)
    assert asked == [("district-12", code_prefix("12", 1400))] and code.startswith("12-1400-")
