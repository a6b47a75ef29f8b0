"""A sitting reads each envelope of a stored bid on its own (sealing.envelopes.BlobHeader): the header
from the blob's first bytes, then only the ciphertext of the envelope being opened. What it reads must
open exactly as the whole blob does, and be refused exactly as SealedBid.from_bytes refuses it (R08)."""
from __future__ import annotations

import base64
import binascii
import itertools
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from domain.reasons import DomainError, Reason
from sealing import content as sc
from sealing.envelopes import BlobHeader, SealedBid, open_envelope, seal_bid
from sealing.opening_key import public_key_b64

KEY = X25519PrivateKey.generate()
PLAIN = {"A": b'{"guarantee":null}', "B": os.urandom(5000), "C": b'{"coefficient":"0.95"}'}


def _blob() -> tuple[SealedBid, bytes]:
    bid = seal_bid("T-1", "bidder-1", PLAIN, public_key_b64(KEY.public_key()))
    return bid, bid.to_bytes()


def test_r08_one_envelope_read_from_its_span_opens_as_the_whole_blob():
    bid, blob = _blob()
    head = BlobHeader.parse(blob[:BlobHeader.length_from_prefix(blob)])
    assert head.length == len(blob)
    for letter in "ABC":
        start, length = head.span(letter)
        partial = head.sealed_bid({letter: blob[start:start + length]})
        assert partial.letters == (letter,)
        digest = bid.envelope(letter).sha256
        assert open_envelope(partial, letter, KEY, digest) == PLAIN[letter]
        assert open_envelope(SealedBid.from_bytes(blob), letter, KEY, digest) == PLAIN[letter]


def test_r08_a_wrong_span_does_not_open():
    bid, blob = _blob()
    head = BlobHeader.parse(blob)
    start, length = head.span("A")
    moved = head.sealed_bid({"B": blob[start:start + length]})  # A's bytes read as B
    with pytest.raises(DomainError) as err:
        open_envelope(moved, "B", KEY, bid.envelope("B").sha256)
    assert err.value.reason is Reason.ENVELOPE_TAMPERED


def test_r08_header_cut_short_is_invalid_input():
    _, blob = _blob()
    with pytest.raises(DomainError) as err:
        BlobHeader.parse(blob[:BlobHeader.length_from_prefix(blob) - 1])
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as err:
        BlobHeader.length_from_prefix(b"JSON" + blob)
    assert err.value.reason is Reason.INVALID_INPUT


def test_r08_missing_envelope_has_no_span_and_is_left_out():
    bid = seal_bid("T-1", "bidder-1", {"A": PLAIN["A"]}, public_key_b64(KEY.public_key()))
    head = BlobHeader.parse(bid.to_bytes())
    assert head.span("B") is None
    assert head.sealed_bid({}).letters == ()


def test_r08_a_header_from_bytes_refuses_checks_as_from_bytes():
    _, blob = _blob()
    bad = blob.replace(b'"letter":"C"', b'"letter":"A"', 1)  # two envelopes A: from_bytes refuses
    with pytest.raises(DomainError) as whole:
        SealedBid.from_bytes(bad)
    head = BlobHeader.parse(bad)
    with pytest.raises(DomainError) as part:
        head.sealed_bid({"B": b""})
    assert whole.value.reason is part.value.reason is Reason.INVALID_INPUT


def test_r08_key_plan_read_from_the_header_alone():
    _, blob = _blob()
    assert SealedBid.key_plan_from_bytes(blob[:BlobHeader.length_from_prefix(blob)]) is None


def _reference_size(value: str) -> int | None:
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None


def test_r08_attachment_base64_check_matches_strict_decoding():
    """The attachment check that skips decoding canonical base64 accepts and sizes exactly what
    base64.b64decode(validate=True) does (every string of up to 7 of these characters)."""
    for n in range(8):
        for chars in itertools.product("A/=-é\n", repeat=n):
            value = "".join(chars)
            fast = sc._canonical_base64_size(value)
            assert fast is None or fast == _reference_size(value), value
            if n > 5:
                continue
            try:
                sc.Attachment.model_validate({"name": "a.pdf", "content_b64": value}, strict=True)
                accepted = True
            except Exception:
                accepted = False
            assert accepted == (_reference_size(value) is not None), value
    big = base64.b64encode(os.urandom(100_001)).decode()
    assert sc._canonical_base64_size(big) == 100_001
