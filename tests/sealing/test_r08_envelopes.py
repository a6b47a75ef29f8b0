"""R08: envelopes are received sealed and opened electronically; tampering is detected."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings, strategies as st
from lxml import etree

from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from sealing.envelopes import (
    MANIFEST_NS,
    SealedBid,
    check_manifest,
    manifest_hashes,
    manifest_xml,
    open_envelope,
    seal_bid,
)

TENDER = "مناقصه-۱۴۰۰-۱۲"
KEY = X25519PrivateKey.generate()
PUB = base64.b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
CONTENT = {"A": b'{"guarantee":null}', "B": "مدارک: اساسنامه".encode(), "C": b'{"coefficient":"0.93"}'}


def _seal(bidder: str = "شرکت-الف", content: dict[str, bytes] | None = None) -> SealedBid:
    return seal_bid(TENDER, bidder, content or CONTENT, PUB)


def _replace_env(bid: SealedBid, letter: str, **changes) -> SealedBid:
    envs = tuple(dataclasses.replace(e, **changes) if e.letter == letter else e for e in bid.envelopes)
    return dataclasses.replace(bid, envelopes=envs)


def _flip(data: bytes, pos: int) -> bytes:
    out = bytearray(data)
    out[pos] ^= 0x01
    return bytes(out)


def _refused(bid: SealedBid, letter: str, expected_sha256: str, **kw) -> DomainError:
    with pytest.raises(DomainError) as err:
        open_envelope(bid, letter, KEY, expected_sha256, **kw)
    return err.value


def test_r08_sealed_envelopes_open_to_the_bidders_bytes():
    bid = _seal()
    assert bid.letters == ("A", "B", "C")
    for env in bid.envelopes:
        assert env.sha256 == hashlib.sha256(env.ciphertext).hexdigest()
        assert CONTENT[env.letter] not in env.ciphertext
        assert open_envelope(bid, env.letter, KEY, env.sha256, tender_id=TENDER, bidder_id="شرکت-الف") \
            == CONTENT[env.letter]
    # Every envelope has its own key and nonce.
    assert len({e.wrapped_key for e in bid.envelopes}) == 3
    assert len({e.nonce for e in bid.envelopes}) == 3


def test_r08_a_bid_may_hold_only_some_envelopes():
    bid = _seal(content={"A": b"a", "C": b"c"})
    assert bid.letters == ("A", "C")
    assert open_envelope(bid, "C", KEY, bid.envelope("C").sha256) == b"c"
    err = _refused(bid, "B", "0" * 64)
    assert err.reason is Reason.ENVELOPE_TAMPERED


@pytest.mark.parametrize("envelopes, key", [
    ({}, PUB), ({"A": b"x", "bidder": b"\x01"}, PUB), ({"D": b"x"}, PUB), ({"A": "text, not bytes"}, PUB),
    ({"A": b"x"}, "not base64!"), ({"A": b"x"}, base64.b64encode(b"short").decode()),
], ids=["no-envelopes", "unknown-letter-key", "letter-d", "text-not-bytes", "key-not-base64", "key-too-short"])
def test_r08_sealing_refuses_bad_input(envelopes, key):
    with pytest.raises(DomainError) as err:
        seal_bid(TENDER, "b1", envelopes, key)
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("tender, bidder", [("", "b1"), ("T", "  "), ("T", "b\x00"), ("T\x1b", "b1")],
                         ids=["empty-tender", "blank-bidder", "nul-in-bidder", "escape-in-tender"])
def test_r08_sealing_refuses_ids_that_cannot_be_signed(tender, bidder):
    with pytest.raises(DomainError) as err:
        seal_bid(tender, bidder, {"A": b"x"}, PUB)
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("pos", [0, 17, -1])
def test_r08_one_byte_change_in_ciphertext_is_tampered(pos):
    bid = _seal()
    env = bid.envelope("B")
    changed = _flip(env.ciphertext, pos)
    tampered = _replace_env(bid, "B", ciphertext=changed)
    # Against the receipt's hash ...
    assert _refused(tampered, "B", env.sha256).reason is Reason.ENVELOPE_TAMPERED
    # ... and, should the receipt have been rewritten too, against the GCM tag.
    assert _refused(tampered, "B", hashlib.sha256(changed).hexdigest()).reason is Reason.ENVELOPE_TAMPERED


@pytest.mark.parametrize("field", ["nonce", "wrapped_key"])
def test_r08_changed_nonce_or_wrapped_key_is_tampered(field):
    bid = _seal()
    env = bid.envelope("C")
    tampered = _replace_env(bid, "C", **{field: _flip(getattr(env, field), 3)})
    assert _refused(tampered, "C", env.sha256).reason is Reason.ENVELOPE_TAMPERED


def test_r08_envelope_swapped_between_bids_is_tampered():
    mine, theirs = _seal("b1"), _seal("b2", {"A": b"a2", "B": b"b2", "C": b"cheaper"})
    stolen = theirs.envelope("C")
    swapped = _replace_env(mine, "C", ciphertext=stolen.ciphertext, nonce=stolen.nonce,
                           wrapped_key=stolen.wrapped_key, sha256=stolen.sha256)
    assert _refused(swapped, "C", mine.envelope("C").sha256).reason is Reason.ENVELOPE_TAMPERED
    assert _refused(swapped, "C", stolen.sha256).reason is Reason.ENVELOPE_TAMPERED
    # Relabelling a whole blob as another bidder's, or another tender's, fails the tag as well.
    for relabel in ({"bidder_id": "b2"}, {"tender_id": "T-other"}):
        moved = dataclasses.replace(mine, **relabel)
        assert _refused(moved, "A", mine.envelope("A").sha256).reason is Reason.ENVELOPE_TAMPERED


def test_r08_envelope_swapped_between_letters_is_tampered():
    bid = _seal()
    b = bid.envelope("B")
    swapped = _replace_env(bid, "C", ciphertext=b.ciphertext, nonce=b.nonce, wrapped_key=b.wrapped_key,
                           sha256=b.sha256)
    assert _refused(swapped, "C", b.sha256).reason is Reason.ENVELOPE_TAMPERED
    relabelled = dataclasses.replace(bid, envelopes=tuple(
        dataclasses.replace(e, letter={"B": "C", "C": "B"}.get(e.letter, e.letter)) for e in bid.envelopes))
    assert _refused(relabelled, "C", b.sha256).reason is Reason.ENVELOPE_TAMPERED


def test_r08_wrong_key_or_wrong_owner_cannot_open():
    bid = _seal()
    env = bid.envelope("A")
    with pytest.raises(DomainError) as err:
        open_envelope(bid, "A", X25519PrivateKey.generate(), env.sha256)
    assert err.value.reason is Reason.ENVELOPE_TAMPERED
    assert _refused(bid, "A", env.sha256, bidder_id="someone-else").reason is Reason.ENVELOPE_TAMPERED
    assert _refused(bid, "A", env.sha256, tender_id="T-other").reason is Reason.ENVELOPE_TAMPERED
    low_order = dataclasses.replace(bid, ephemeral_public_key_b64=base64.b64encode(bytes(32)).decode())
    assert _refused(low_order, "A", env.sha256).reason is Reason.ENVELOPE_TAMPERED


def test_r08_bad_receipt_hash_or_letter_is_invalid_input():
    bid = _seal()
    assert _refused(bid, "A", "xyz").reason is Reason.INVALID_INPUT
    assert _refused(bid, "D", bid.envelope("A").sha256).reason is Reason.INVALID_INPUT


def test_r08_opening_one_envelope_does_not_touch_the_others():
    bid = _seal()
    garbage = b"\x00" * 7
    others_ruined = _replace_env(_replace_env(bid, "B", ciphertext=garbage, wrapped_key=garbage, nonce=garbage),
                                 "C", ciphertext=garbage, wrapped_key=garbage, nonce=garbage)
    assert open_envelope(others_ruined, "A", KEY, bid.envelope("A").sha256) == CONTENT["A"]
    only_a = dataclasses.replace(bid, envelopes=(bid.envelope("A"),))
    assert open_envelope(only_a, "A", KEY, bid.envelope("A").sha256) == CONTENT["A"]


def test_r08_sealed_bid_blob_and_json_round_trip():
    bid = _seal()
    blob = bid.to_bytes()
    back = SealedBid.from_bytes(blob)
    assert back == bid
    assert "شرکت-الف".encode() in blob
    assert len(blob) < sum(e.size for e in bid.envelopes) + 1024  # ciphertexts stored raw, not base64
    assert open_envelope(back, "B", KEY, bid.envelope("B").sha256) == CONTENT["B"]
    assert SealedBid.from_json(bid.to_json()) == bid
    assert SealedBid.from_dict(json.loads(bid.to_json())) == bid


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(format="v0"),
    lambda d: d.pop("ephemeral_public_key"),
    lambda d: d["envelopes"][0].update(ciphertext="@@not base64@@"),
    lambda d: d["envelopes"][1].update(letter="A"),
    lambda d: d["envelopes"][0].update(letter="Z"),
    lambda d: d.update(envelopes=[]),
    lambda d: d.update(bidder_id=7),
])
def test_r08_malformed_blob_is_invalid_input(mutate):
    data = _seal().to_dict()
    mutate(data)
    with pytest.raises(DomainError) as err:
        SealedBid.from_dict(data)
    assert err.value.reason is Reason.INVALID_INPUT


def _header_len_plus(blob: bytes, delta: int) -> bytes:
    cut = blob.index(b"\n") + 1
    return blob[:cut] + (int.from_bytes(blob[cut:cut + 4], "big") + delta).to_bytes(4, "big") + blob[cut + 4:]


@pytest.mark.parametrize("damage", [
    lambda blob: b"\xff\xfe",
    lambda blob: blob[:10],
    lambda blob: blob[:-1],
    lambda blob: blob + b"x",
    lambda blob: _header_len_plus(blob, 1),
    lambda blob: _header_len_plus(blob, -1),
    lambda blob: blob.replace(b'"length":', b'"length":-', 1),
    lambda blob: b"JSON" + blob,
])
def test_r08_malformed_blob_bytes_are_invalid_input(damage):
    with pytest.raises(DomainError) as err:
        SealedBid.from_bytes(damage(_seal().to_bytes()))
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as err:
        SealedBid.from_json("{not json")
    assert err.value.reason is Reason.INVALID_INPUT


SUBMITTED = datetime(2021, 7, 1, 6, 30, tzinfo=timezone.utc)  # 1400/04/10 11:00 Tehran (IRDT)


def test_r08_manifest_lists_each_envelope_for_the_bidder_to_sign():
    bid = _seal()
    root = manifest_xml(bid, SUBMITTED)
    xml = etree.tostring(root, encoding="utf-8")
    parsed = parse_untrusted(xml)
    ns = {"m": MANIFEST_NS}
    assert parsed.findtext("m:TenderId", namespaces=ns) == TENDER
    assert parsed.findtext("m:BidderId", namespaces=ns) == "شرکت-الف"
    when = parsed.find("m:SubmittedAt", namespaces=ns)
    assert when.text == "2021-07-01T06:30:00Z" and when.get("jalali") == "1400/04/10 11:00"
    assert parsed.findtext("m:OpeningPublicKey", namespaces=ns) == PUB
    rows = {e.get("letter"): (int(e.get("size")), e.get("sha256")) for e in parsed.findall("m:Envelope", ns)}
    assert rows == {e.letter: (len(e.ciphertext), hashlib.sha256(e.ciphertext).hexdigest()) for e in bid.envelopes}
    assert manifest_hashes(parsed) == bid.hashes()
    check_manifest(bid, parsed)
    # Canonical: the same bid and time always give the same bytes.
    assert etree.tostring(manifest_xml(bid, SUBMITTED.astimezone(timezone(timedelta(hours=3, minutes=30)))),
                          method="c14n") == etree.tostring(root, method="c14n")


def test_r08_stored_blob_that_differs_from_the_signed_manifest_is_tampered():
    bid = _seal()
    manifest = manifest_xml(bid, SUBMITTED)
    env = bid.envelope("C")
    for tampered in (_replace_env(bid, "C", ciphertext=_flip(env.ciphertext, 0)),
                     dataclasses.replace(bid, bidder_id="other"),
                     dataclasses.replace(bid, envelopes=bid.envelopes[:2])):
        with pytest.raises(DomainError) as err:
            check_manifest(tampered, manifest)
        assert err.value.reason is Reason.ENVELOPE_TAMPERED


def test_r08_manifest_needs_an_aware_time():
    with pytest.raises(DomainError) as err:
        manifest_xml(_seal(), datetime(2021, 7, 1, 6, 30))
    assert err.value.reason is Reason.INVALID_INPUT


_ids = st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1, max_size=20) \
    .filter(lambda s: s.strip() and "\ufffe" not in s and "\uffff" not in s)


@settings(max_examples=60, deadline=None)
@given(tender=_ids, bidder=_ids,
       content=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.binary(max_size=4096), min_size=1))
def test_r08_property_seal_store_open_round_trip(tender, bidder, content):
    bid = SealedBid.from_bytes(seal_bid(tender, bidder, content, PUB).to_bytes())
    assert set(bid.letters) == set(content)
    manifest = parse_untrusted(etree.tostring(manifest_xml(bid, SUBMITTED), encoding="utf-8"))
    assert manifest_hashes(manifest) == bid.hashes()
    check_manifest(bid, manifest)
    for letter, plaintext in content.items():
        assert open_envelope(bid, letter, KEY, bid.envelope(letter).sha256,
                             tender_id=tender, bidder_id=bidder) == plaintext


def test_r08_superseded_bid_restored_in_place_of_the_latest_is_tampered():
    """Same tender, bidder and key: only the receipt hash tells an earlier, replaced bid apart."""
    earlier = _seal("b1", {"A": b"a", "B": b"b", "C": b"expensive"})
    latest = _seal("b1", {"A": b"a", "B": b"b", "C": b"cheap"})
    assert open_envelope(earlier, "C", KEY, earlier.envelope("C").sha256) == b"expensive"
    err = _refused(earlier, "C", latest.envelope("C").sha256)
    assert err.reason is Reason.ENVELOPE_TAMPERED
