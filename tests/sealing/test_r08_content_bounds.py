"""R08, issue 10 class 14: what a sealed bid may carry is bounded. Envelope C's coefficient and every
sealed amount have the policy's caps (config/policy/default.toml [limits]); a JSON key given twice is
refused (two readers could see two different prices); a bid and each attachment have a size limit;
each refusal is INVALID_INPUT with a clear Persian message."""
from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.limits import ContentLimits
from domain.reasons import DomainError, Reason
from sealing.content import EnvelopeC, decode_envelope, envelope_from_dict

POLICY = load_policy(BUNDLED_POLICY)
LIMITS = POLICY.content_limits()
SMALL = ContentLimits(max_coefficient=Decimal("1.5"), max_amount_rial=1_000_000, max_bid_bytes=4_096,
                      max_attachment_bytes=1_000)


def _refused(letter: str, data: bytes, limits: ContentLimits | None = LIMITS) -> DomainError:
    with pytest.raises(DomainError) as err:
        decode_envelope(letter, data, limits)
    assert err.value.reason is Reason.INVALID_INPUT
    return err.value


def test_r08_the_policy_sets_every_cap():
    assert LIMITS == ContentLimits(Decimal(str(POLICY.limits.max_coefficient)), POLICY.limits.max_amount_rial,
                                   POLICY.limits.max_bid_bytes, POLICY.limits.max_attachment_bytes)
    assert LIMITS.max_attachment_bytes <= LIMITS.max_bid_bytes


@pytest.mark.parametrize("data, key", [
    (b'{"coefficient": "0.90", "coefficient": "0.10"}', "coefficient"),
    (b'{"amount_rial": 900000000, "amount_rial": 100}', "amount_rial"),
    (b'{"coefficient": "0.90", "\\u0063oefficient": "0.10"}', "coefficient"),  # the same key, escaped
])
def test_r08_a_key_given_twice_is_refused(data, key):
    err = _refused("C", data)
    assert f"«{key}»" in err.detail and "دو بار" in err.detail
    _refused("C", data, None)  # with or without the policy's caps


def test_r08_a_nested_key_given_twice_is_refused():
    data = b'{"guarantee": {"amount_rial": 5, "amount_rial": 650000000, "valid_until": "1400/07/30"}}'
    assert "amount_rial" in _refused("A", data).detail


@pytest.mark.parametrize("data", [b'{"amount_rial": NaN}', b'{"amount_rial": Infinity}', b'{"coefficient": -Infinity}'])
def test_r08_json_constants_that_are_not_numbers_are_refused(data):
    _refused("C", data)


def test_r08_coefficient_above_the_policy_cap_is_refused():
    top = format(LIMITS.max_coefficient, "f")
    assert decode_envelope("C", json.dumps({"coefficient": top}).encode(), LIMITS).coefficient_decimal == \
        LIMITS.max_coefficient
    err = _refused("C", json.dumps({"coefficient": format(LIMITS.max_coefficient + Decimal("0.01"), "f")}).encode())
    assert "coefficient" in err.detail and "سقف" in err.detail
    assert "سقف" in _refused("C", '{"coefficient": "۱٫۶"}'.encode(), SMALL).detail
    with pytest.raises(DomainError):
        EnvelopeC.by_coefficient("1.6", SMALL)
    assert EnvelopeC.by_coefficient("1.5", SMALL).coefficient == "1.5"


def test_r08_amounts_above_the_policy_cap_are_refused_in_every_envelope():
    assert decode_envelope("C", b'{"amount_rial": 1000000}', SMALL).amount_rial == 1_000_000
    assert "سقف" in _refused("C", b'{"amount_rial": 1000001}', SMALL).detail
    assert "سقف" in _refused("C", json.dumps({"amount_rial": LIMITS.max_amount_rial + 1}).encode()).detail
    guarantee = {"guarantee": {"amount_rial": 1_000_001, "valid_until": "1400/07/30"}}
    assert "سقف" in _refused("A", json.dumps(guarantee).encode(), SMALL).detail
    with pytest.raises(DomainError):
        envelope_from_dict("C", {"amount_rial": 1_000_001}, SMALL)


def _b(size: int) -> bytes:
    return json.dumps({"documents": ["grade_certificate"], "grade": 2, "attachments": [
        {"name": "technical.pdf", "content_b64": base64.b64encode(b"x" * size).decode()}]}).encode()


@pytest.mark.parametrize("size", [1_000, 999, 1])
def test_r08_attachments_up_to_the_limit_are_accepted(size):
    assert len(decode_envelope("B", _b(size), SMALL).attachments) == 1


@pytest.mark.parametrize("size", [1_001, 1_002, 2_000])
def test_r08_an_attachment_larger_than_the_limit_is_refused(size):
    err = _refused("B", _b(size), SMALL)
    assert "پیوست" in err.detail and "سقف" in err.detail


def test_r08_content_larger_than_a_bid_may_be_is_refused_before_it_is_parsed():
    err = _refused("B", b" " * (SMALL.max_bid_bytes + 1), SMALL)
    assert "سقف" in err.detail


def test_r08_bid_size_check_names_both_sizes():
    from domain.limits import check_size

    assert check_size(10, 10, "پیشنهاد") == 10
    with pytest.raises(DomainError) as err:
        check_size(11, 10, "پیشنهاد")
    assert err.value.reason is Reason.INVALID_INPUT and "پیشنهاد" in err.value.detail


def test_r08_a_policy_without_limits_is_refused(tmp_path):
    text = BUNDLED_POLICY.read_text(encoding="utf-8")
    start = text.index("[limits]")
    end = text.index("\n[", start + 1)
    path = tmp_path / "policy.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(DomainError) as err:
        load_policy(path)
    assert err.value.reason is Reason.POLICY_INVALID and "limits" in err.value.detail
