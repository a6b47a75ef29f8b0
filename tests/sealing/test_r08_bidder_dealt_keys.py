"""Issue 12 part 1: each bidder's tool deals its own bid's opening key to the notice's seats, so the
means to open a bid never exists in one place before the sitting.

Software RSA keys stand in for the members' tokens (sealing_testkit); the SoftHSM path is covered by
the e2e tests. A bid opens only with the security part AND a quorum of voting seats; the engine
checks at receipt that the plan follows the seats; the manifest covers the plan."""
from __future__ import annotations

import dataclasses

import pytest
from sealing_testkit import SECURITY, VOTING, SoftwareTokens, unlock

from domain.reasons import DomainError, Reason
from sealing.envelopes import bid_key_id, check_manifest, manifest_xml, open_envelope, seal_dealt
from sealing.opening_key import OpeningSeats, rebuild_private_key

SEATS = OpeningSeats("T-1400-077", 2, VOTING, SECURITY)
PLAIN = {"A": b"guarantee", "B": b"documents", "C": b"0.93"}


def _dealt(bidder: str = "b1"):
    return seal_dealt(SEATS.tender_id, bidder, PLAIN, SEATS.voting, SEATS.security, SEATS.threshold, SoftwareTokens())


def test_r08_a_dealt_bid_follows_the_seats_and_opens_with_security_and_a_quorum():
    bid = _dealt()
    assert bid.key_plan is not None and bid.key_plan.tender_id == bid_key_id(SEATS.tender_id, "b1")
    SEATS.check_plan(bid.key_plan, bid_key_id(SEATS.tender_id, "b1"))
    parts = unlock(bid.key_plan, "m-security", "m-chair", "a-finance")
    key = rebuild_private_key(bid.key_plan, parts)
    assert open_envelope(bid, "C", key, bid.envelope("C").sha256, tender_id=SEATS.tender_id, bidder_id="b1") == b"0.93"


def test_r08_no_quorum_or_no_security_opens_nothing():
    bid = _dealt()
    with pytest.raises(DomainError) as no_security:
        rebuild_private_key(bid.key_plan, unlock(bid.key_plan, "m-chair", "m-finance", "m-technical"))
    assert no_security.value.reason is Reason.SECURITY_REP_ABSENT
    with pytest.raises(DomainError) as one_seat:
        rebuild_private_key(bid.key_plan, unlock(bid.key_plan, "m-security", "m-chair", "a-chair"))
    assert one_seat.value.reason is Reason.QUORUM_NOT_MET
    with pytest.raises(DomainError) as released:
        SEATS.check_released(["m-chair", "m-finance", "m-technical"])
    assert released.value.reason is Reason.SECURITY_REP_ABSENT
    with pytest.raises(DomainError) as released:
        SEATS.check_released(["a-security", "a-chair"])
    assert released.value.reason is Reason.QUORUM_NOT_MET
    SEATS.check_released(["a-security", "a-chair", "m-technical"])


def test_r08_each_bid_has_its_own_key():
    one, two = _dealt("b1"), _dealt("b2")
    assert one.opening_public_key_b64 != two.opening_public_key_b64
    key_one = rebuild_private_key(one.key_plan, unlock(one.key_plan, "m-security", "m-chair", "m-finance"))
    with pytest.raises(DomainError) as other:
        open_envelope(two, "C", key_one, two.envelope("C").sha256)
    assert other.value.reason is Reason.ENVELOPE_TAMPERED


def test_r08_a_plan_other_than_the_seats_is_refused():
    narrow = OpeningSeats("T-1400-077", 1, {"chair": ("m-chair",)}, ("m-security",))
    bid = seal_dealt(narrow.tender_id, "b1", PLAIN, narrow.voting, narrow.security, narrow.threshold, SoftwareTokens())
    with pytest.raises(DomainError) as refused:
        SEATS.check_plan(bid.key_plan, bid_key_id(SEATS.tender_id, "b1"))
    assert refused.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as moved:
        SEATS.check_plan(_dealt("b1").key_plan, bid_key_id(SEATS.tender_id, "b2"))
    assert moved.value.reason is Reason.INVALID_INPUT


def test_r08_the_signed_manifest_covers_the_key_plan():
    from datetime import datetime, timezone

    bid = _dealt()
    manifest = manifest_xml(bid, datetime(2021, 7, 1, tzinfo=timezone.utc))
    check_manifest(bid, manifest)
    other = _dealt()  # same bidder, a key plan dealt again: another public key and other shares
    swapped = dataclasses.replace(bid, key_plan=other.key_plan, opening_public_key_b64=other.opening_public_key_b64)
    with pytest.raises(DomainError) as tampered:
        check_manifest(swapped, manifest)
    assert tampered.value.reason is Reason.ENVELOPE_TAMPERED


def test_r08_the_plan_travels_in_the_sealed_bid_bytes():
    from sealing.envelopes import SealedBid

    bid = _dealt()
    again = SealedBid.from_bytes(bid.to_bytes())
    assert again.key_plan == bid.key_plan and again.key_plan_sha256() == bid.key_plan_sha256()
    assert SealedBid.key_plan_from_bytes(bid.to_bytes()) == bid.key_plan  # read from the header alone
