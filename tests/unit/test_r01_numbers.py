"""R01, issue 10 class 9: numbers are read exactly as people write them, by one parser
(domain.persian.parse_int / parse_decimal / parse_amount_rial) at every entry point.

Grouping separators (`,` `٬` `_` space) stand only between groups of three counted from the right;
`٫` is the decimal point; Persian and Arabic-Indic digits are read everywhere; digits of other
scripts are refused, never stored; every refusal is INVALID_INPUT in Persian naming the field."""
from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from domain.persian import parse_amount_rial, parse_decimal, parse_int, persian_digits
from domain.reasons import DomainError, Reason
from pilot.scenario import DEFAULT_SCENARIO, load_scenario


def _refused(fn, text, field="مبلغ") -> DomainError:
    with pytest.raises(DomainError) as err:
        fn(text, field)
    assert err.value.reason is Reason.INVALID_INPUT
    assert err.value.detail.startswith(f"{field}:")  # the message names the field
    return err.value


@pytest.mark.parametrize("text, value", [
    ("12,967,500", 12_967_500),
    ("۱۲٬۹۶۷٬۵۰۰", 12_967_500),
    ("١٢٬٩٦٧٬٥٠٠", 12_967_500),
    ("1 250 000", 1_250_000),
    ("1\u00a0250\u00a0000", 1_250_000),   # no-break spaces, as word processors write them
    ("\u200f1,250,000\u200e", 1_250_000),  # direction marks copied from a right-to-left page
    ("999", 999),
    ("007", 7),
    (1_296_750_000, 1_296_750_000),
])
def test_r01_integers_as_people_write_them(text, value):
    assert parse_int(text, "مبلغ") == value
    assert parse_amount_rial(text) == value


@pytest.mark.parametrize("text", [
    "12,967,500,00",   # the example: read today as 1,296,750,000
    "1,25", "1,2345", "12,34,567", ",123", "123,", "1,,234", "1,250٬000", "1 25 000",
])
def test_r01_grouping_only_between_groups_of_three(text):
    err = _refused(parse_int, text)
    assert "«" in err.detail
    _refused(parse_amount_rial, text)
    _refused(parse_decimal, text, "ضریب")


@pytest.mark.parametrize("text", ["१२३", "１２３", "১২৩", "12३", "๑๒๓", "１,２３４", "²"])
def test_r01_digits_of_other_scripts_are_refused(text):
    for fn in (parse_int, parse_decimal, parse_amount_rial):
        err = _refused(fn, text, "رتبه")
        assert "خطی جز فارسی" in err.detail


@pytest.mark.parametrize("text, value", [
    ("۰٫۹۱", Decimal("0.91")), ("0.91", Decimal("0.91")), ("٠٫٩١", Decimal("0.91")),
    (0.93, Decimal("0.93")), ("1,000.5", Decimal("1000.5")), ("۱٬۰۰۰٫۲۵", Decimal("1000.25")),
    (3, Decimal(3)), ("-0.5", Decimal("-0.5")),
])
def test_r01_the_persian_decimal_separator_is_a_decimal_point(text, value):
    assert parse_decimal(text, "ضریب") == value


@pytest.mark.parametrize("text", ["1.2.3", "NaN", "inf", "1e3", ".5", "5.", "۰/۹۱", "", "بیست", float("nan")])
def test_r01_what_is_not_a_number_is_refused(text):
    _refused(parse_decimal, text, "ضریب")


@pytest.mark.parametrize("value", ["۱۲٫۵", "12.5", 12.5, 12.0, True, Decimal("1.5")])
def test_r01_an_integer_field_refuses_fractions_floats_and_booleans(value):
    _refused(parse_int, value, "رتبه")


@given(st.integers(min_value=0, max_value=10**16))
def test_r01_property_every_grouping_of_an_integer_reads_back(n):
    grouped = f"{n:,}"
    for text in (grouped, grouped.replace(",", "٬"), persian_digits(grouped).replace(",", "٬"), str(n)):
        assert parse_int(text, "مبلغ") == n


# --- through the scenario file (pilot/scenario.py) -------------------------------------------------

def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = DEFAULT_SCENARIO.read_text(encoding="utf-8")


def test_r01_scenario_amount_with_a_misplaced_separator_is_refused_naming_the_key(tmp_path):
    text = BASE.replace("price = { coefficient = 0.91 }", 'price = { amount_rial = "12,967,500,00" }', 1)
    assert text != BASE
    with pytest.raises(DomainError) as err:
        load_scenario(_scenario(tmp_path, text))
    assert err.value.reason is Reason.INVALID_INPUT
    assert "bidders.0.price.amount_rial" in err.value.detail and "«12,967,500,00»" in err.value.detail
    assert "جداکنندهٔ هزارگان" in err.value.detail


def test_r01_scenario_coefficient_with_the_persian_decimal_separator_loads(tmp_path):
    text = BASE.replace("price = { coefficient = 0.91 }", 'price = { coefficient = "۰٫۹۱" }', 1)
    assert load_scenario(_scenario(tmp_path, text)).bidders[0].price.coefficient == Decimal("0.91")


def _persian_numbers(value):
    """Every number of a parsed scenario written as Persian-digit text (decimals with ٫)."""
    if isinstance(value, dict):
        return {persian_digits(k): _persian_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_persian_numbers(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return persian_digits(f"{value:,}").replace(",", "٬")
    if isinstance(value, float):
        return persian_digits(repr(value)).replace(".", "٫")
    return value


def _toml(value, key="") -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    return str(value)


def test_r01_every_numeric_field_of_a_scenario_reads_persian_digits_the_same_way(tmp_path):
    raw = tomllib.loads(BASE)
    persian = _persian_numbers(raw)
    text = "\n".join(f'"{k}" = {_toml(v)}' for k, v in persian.items())
    assert "۱" in text and "٫" in text
    assert load_scenario(_scenario(tmp_path, text)) == load_scenario(DEFAULT_SCENARIO)


@pytest.mark.parametrize("key, old, new", [
    ("grade", "grade = 2", 'grade = "२"'),
    ("grade", "grade = 2", 'grade = "２"'),
    ("quantity", "quantity = 9000", 'quantity = "९०००"'),
])
def test_r01_scenario_digits_of_other_scripts_are_refused_in_persian(tmp_path, key, old, new):
    text = BASE.replace(old, new, 1)
    assert text != BASE
    with pytest.raises(DomainError) as err:
        load_scenario(_scenario(tmp_path, text))
    assert err.value.reason is Reason.INVALID_INPUT
    assert key in err.value.detail and "خطی جز فارسی" in err.value.detail
    assert "Input should" not in err.value.detail  # no English pydantic message
