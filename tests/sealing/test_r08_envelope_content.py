"""R08: the plaintext of envelopes A, B and C is strict JSON; bad content is refused in Persian."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from domain.persian import format_jalali_date, persian_digits
from domain.reasons import DomainError, Reason
from sealing.content import (
    EnvelopeA,
    EnvelopeB,
    EnvelopeC,
    Guarantee,
    decode_envelope,
    encode_envelope,
    envelope_from_dict,
)


def _refusal(letter: str, data: bytes) -> DomainError:
    with pytest.raises(DomainError) as err:
        decode_envelope(letter, data)
    assert err.value.reason is Reason.INVALID_INPUT
    return err.value


def test_r08_envelope_a_with_guarantee_round_trips_and_normalises_persian_digits():
    raw = json.dumps({"guarantee": {"amount_rial": 75_000_000, "valid_until": persian_digits("1400/7/12")}},
                     ensure_ascii=False).encode()
    a = decode_envelope("A", raw)
    assert a.guarantee.valid_until == "1400/07/12"
    assert a.guarantee.valid_until_date == date(2021, 10, 4)
    assert decode_envelope("A", encode_envelope(a)) == a
    assert json.loads(encode_envelope(a)) == {"guarantee": {"amount_rial": 75_000_000, "valid_until": "1400/07/12"}}


def test_r08_envelope_a_states_a_missing_guarantee_explicitly():
    a = decode_envelope("A", b'{"guarantee": null}')
    assert a.guarantee is None
    assert encode_envelope(a) == b'{"guarantee":null}'
    assert "guarantee" in _refusal("A", b"{}").detail


def test_r08_envelope_b_round_trips_with_normalised_document_names():
    b = decode_envelope("B", json.dumps({"documents": ["اساسنامه شركت", "grade_certificate"], "grade": 2,
                                         "technical_score": 75}, ensure_ascii=False).encode())
    assert b.documents == ["اساسنامه شرکت", "grade_certificate"]  # Arabic kaf becomes Persian
    assert decode_envelope("B", encode_envelope(b)) == b
    one_stage = decode_envelope("B", b'{"documents": [], "grade": 1}')
    assert one_stage.technical_score is None


def test_r08_envelope_c_is_a_coefficient_or_an_amount():
    c = decode_envelope("C", json.dumps({"coefficient": "۰٫۹۳"}).encode())
    assert c.coefficient == "0.93" and c.coefficient_decimal == Decimal("0.93") and c.amount_rial is None
    assert encode_envelope(c) == b'{"coefficient":"0.93"}'
    lump = decode_envelope("C", b'{"amount_rial": 1400000000}')
    assert lump.amount_rial == 1_400_000_000 and lump.coefficient is None
    assert decode_envelope("C", encode_envelope(lump)) == lump
    assert EnvelopeC.by_coefficient(0.93).coefficient == "0.93"
    assert EnvelopeC.by_coefficient(Decimal("1.05")) == decode_envelope("C", b'{"coefficient":"1.05"}')


@pytest.mark.parametrize("letter, data, field", [
    ("A", b'{"guarantee": {"amount_rial": "75000000", "valid_until": "1400/07/12"}}', "amount_rial"),
    ("A", b'{"guarantee": {"amount_rial": true, "valid_until": "1400/07/12"}}', "amount_rial"),
    ("A", b'{"guarantee": {"amount_rial": 7.5, "valid_until": "1400/07/12"}}', "amount_rial"),
    ("A", b'{"guarantee": {"amount_rial": 0, "valid_until": "1400/07/12"}}', "amount_rial"),
    ("A", b'{"guarantee": {"amount_rial": 5, "valid_until": "1400/12/30"}}', "valid_until"),
    ("A", b'{"guarantee": {"amount_rial": 5, "valid_until": "1400/13/01"}}', "valid_until"),
    ("A", b'{"guarantee": {"amount_rial": 5, "valid_until": "2021-10-04T00:00"}}', "valid_until"),
    ("A", b'{"guarantee": null, "note": "extra"}', "note"),
    ("B", b'{"documents": "all", "grade": 2}', "documents"),
    ("B", b'{"documents": [""], "grade": 2}', "documents"),
    ("B", b'{"documents": [], "grade": 0}', "grade"),
    ("B", b'{"documents": [], "grade": 2, "technical_score": 101}', "technical_score"),
    ("C", b'{"coefficient": 0.93}', "coefficient"),
    ("C", b'{"coefficient": "-0.93"}', "coefficient"),
    ("C", b'{"coefficient": "0"}', "coefficient"),
    ("C", b'{"coefficient": "1e3"}', "coefficient"),
    ("C", b'{"coefficient": "0.93", "amount_rial": 5}', "ج"),
    ("C", b'{}', "ج"),
    ("C", b'{"amount_rial": 100000000000000000000}', "amount_rial"),
])
def test_r08_bad_envelope_content_is_invalid_input_naming_the_field(letter, data, field):
    err = _refusal(letter, data)
    assert field in err.detail
    assert "پاکت" in err.message_fa


@pytest.mark.parametrize("data", [b"\xff\xfe", b"not json", b"[1, 2]", b'"text"', b"[" * 100_000])
def test_r08_content_that_is_not_a_json_object_is_invalid_input(data):
    _refusal("B", data)


def test_r08_content_of_another_letter_is_refused():
    _refusal("B", encode_envelope(EnvelopeC(amount_rial=5)))
    _refusal("A", encode_envelope(EnvelopeB(documents=[], grade=1)))
    with pytest.raises(DomainError):
        decode_envelope("D", b"{}")
    with pytest.raises(DomainError) as err:
        envelope_from_dict("A", {"guarantee": {"amount_rial": -1, "valid_until": "1400/07/12"}})
    assert err.value.reason is Reason.INVALID_INPUT


_jalali = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)).map(format_jalali_date)
_contents = st.one_of(
    st.builds(EnvelopeA, guarantee=st.none() | st.builds(
        Guarantee, amount_rial=st.integers(1, 10**16), valid_until=_jalali)),
    st.builds(EnvelopeB, documents=st.lists(st.text(alphabet="ابپتثکگیaz_ 0123", min_size=1).filter(str.strip)),
              grade=st.integers(1, 5), technical_score=st.none() | st.integers(0, 100)),
    st.builds(EnvelopeC.by_amount, st.integers(1, 10**16)),
    st.builds(EnvelopeC.by_coefficient, st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999"),
                                                    places=4, allow_nan=False, allow_infinity=False)
              .filter(lambda d: d > 0)),
)


@settings(max_examples=150, deadline=None)
@given(_contents)
def test_r08_property_content_round_trip(model):
    letter = {EnvelopeA: "A", EnvelopeB: "B", EnvelopeC: "C"}[type(model)]
    data = encode_envelope(model)
    assert decode_envelope(letter, data) == model
    assert encode_envelope(decode_envelope(letter, data)) == data


def test_r08_convenience_constructors_refuse_with_reason_codes():
    for build, arg in ((EnvelopeC.by_coefficient, "0.1234567890123"), (EnvelopeC.by_coefficient, "abc"),
                       (EnvelopeC.by_amount, 0), (EnvelopeC.by_amount, "5")):
        with pytest.raises(DomainError) as err:
            build(arg)
        assert err.value.reason is Reason.INVALID_INPUT
