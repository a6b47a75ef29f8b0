"""R04/R08: opening needs the commission's quorum and the security representative, cryptographically."""
from __future__ import annotations

import base64
import dataclasses
import json
import os

import pytest
from Crypto.Protocol.SecretSharing import Shamir
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings, strategies as st
from sealing_testkit import MEMBERS, SECURITY, VOTING, PresentTokens, SoftwareTokens, make_plan, unlock

from domain.reasons import DomainError, Reason
from sealing.envelopes import open_envelope, seal_bid
from sealing.opening_key import OpeningKeyPlan, create_opening_key, rebuild_private_key, unlock_shares

SECRET_A = "ضمانت‌نامهٔ بانکی ۷۵٬۰۰۰٬۰۰۰ ریال".encode()


@pytest.fixture(scope="module")
def plan() -> OpeningKeyPlan:
    return make_plan()


@pytest.fixture(scope="module")
def bid(plan):
    return seal_bid(plan.tender_id, "bidder-1", {"A": SECRET_A, "B": b"docs", "C": b"price"},
                    plan.public_key_b64)


def _raw_pub(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def _combine(plan: OpeningKeyPlan, unlocked: dict[str, bytes]) -> bytes:
    """What an attacker holding these voting shares could compute, bypassing every check."""
    index = {s.recipient_id: s.share_index for s in plan.shares}
    picks = [(index[rid], secret) for rid, secret in unlocked.items()]
    return (Shamir.combine([(i, s[:16]) for i, s in picks])
            + Shamir.combine([(i, s[16:]) for i, s in picks]))


def _cannot_decrypt(bid, candidate_key: bytes) -> None:
    """Opening with a candidate private key fails in the cryptography itself (GCM tag), not a lookup."""
    key = X25519PrivateKey.from_private_bytes(candidate_key)
    disguised = dataclasses.replace(bid, opening_public_key_b64=base64.b64encode(_raw_pub(key)).decode())
    for env in bid.envelopes:
        with pytest.raises(DomainError) as err:
            open_envelope(disguised, env.letter, key, env.sha256)
        assert err.value.reason is Reason.ENVELOPE_TAMPERED


def test_r08_full_commission_rebuilds_the_published_key_and_opens(plan, bid):
    key = rebuild_private_key(plan, unlock(plan, *MEMBERS.values(), SECURITY[0]))
    assert _raw_pub(key) == plan.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert open_envelope(bid, "A", key, bid.envelope("A").sha256) == SECRET_A


def test_r08_alternates_stand_in_for_members(plan, bid):
    present = ["a-chair", MEMBERS["finance"], "a-technical", "a-security"]
    key = rebuild_private_key(plan, unlock(plan, *present))
    assert open_envelope(bid, "A", key, bid.envelope("A").sha256) == SECRET_A


def test_r08_member_and_alternate_hold_the_same_role_share(plan):
    for member, alternate in VOTING.values():
        secrets = unlock(plan, member, alternate)
        assert secrets[member] == secrets[alternate]
        assert plan.share_for(member).share_index == plan.share_for(alternate).share_index
    indices = {plan.share_for(ids[0]).share_index for ids in VOTING.values()}
    assert len(indices) == len(VOTING)


@pytest.mark.parametrize("missing_role", sorted(VOTING))
def test_r08_every_share_but_one_cannot_rebuild_or_decrypt(plan, bid, missing_role):
    present = [rid for role, ids in VOTING.items() if role != missing_role for rid in ids]
    unlocked = unlock(plan, *present, *SECURITY)
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlocked)
    assert err.value.reason is Reason.QUORUM_NOT_MET
    assert missing_role in err.value.detail

    one_per_role = {rid: s for rid, s in unlocked.items() if rid.startswith("m-") and rid != "m-security"}
    forged = _xor(_combine(plan, one_per_role), unlocked["m-security"])
    assert forged != b"\0" * 32
    _cannot_decrypt(bid, forged)


def test_r04_without_the_security_share_opening_is_refused(plan, bid):
    everyone_but_security = [rid for ids in VOTING.values() for rid in ids]
    unlocked = unlock(plan, *everyone_but_security)
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlocked)
    assert err.value.reason is Reason.SECURITY_REP_ABSENT
    # The voting shares alone give K xor S_sec, which opens nothing.
    k_vote = _combine(plan, {rid: unlocked[rid] for rid in MEMBERS.values()})
    _cannot_decrypt(bid, k_vote)


def test_r04_security_share_alone_is_not_enough(plan):
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlock(plan, *SECURITY))
    assert err.value.reason is Reason.QUORUM_NOT_MET


def test_r08_threshold_two_of_three_accepts_any_two_roles():
    plan = make_plan(threshold=2)
    bid = seal_bid(plan.tender_id, "b", {"C": b"0.93"}, plan.public_key_b64)
    members = list(MEMBERS.values())
    for absent in members:
        present = [m for m in members if m != absent]
        key = rebuild_private_key(plan, unlock(plan, *present, "m-security"))
        assert open_envelope(bid, "C", key, bid.envelope("C").sha256) == b"0.93"
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlock(plan, "m-chair", "a-chair", "m-security"))
    assert err.value.reason is Reason.QUORUM_NOT_MET


def test_r08_lowering_the_stored_threshold_does_not_lower_the_quorum(plan):
    data = plan.to_dict()
    data["threshold"] = 1
    edited = OpeningKeyPlan.from_dict(data)
    with pytest.raises(DomainError) as err:
        rebuild_private_key(edited, unlock(edited, "m-chair", "m-security"))
    assert err.value.reason is Reason.QUORUM_NOT_MET
    assert "بازسازی" in err.value.detail


@pytest.mark.parametrize("bad", ["m-finance", "m-security"])
def test_r08_a_wrong_share_is_refused_never_a_wrong_key(plan, bad):
    unlocked = unlock(plan, *MEMBERS.values(), "m-security")
    unlocked[bad] = os.urandom(32)
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlocked)
    assert err.value.reason is Reason.QUORUM_NOT_MET


def test_r08_a_wrong_alternate_share_does_not_spoil_a_valid_quorum(plan, bid):
    unlocked = unlock(plan, *MEMBERS.values(), "a-finance", "m-security", "a-security")
    unlocked["a-finance"] = os.urandom(32)
    unlocked["a-security"] = os.urandom(32)
    key = rebuild_private_key(plan, unlocked)
    assert open_envelope(bid, "A", key, bid.envelope("A").sha256) == SECRET_A


def test_r08_share_of_wrong_length_is_named_in_the_refusal(plan):
    unlocked = unlock(plan, *MEMBERS.values(), "m-security")
    unlocked["m-chair"] = unlocked["m-chair"][:31]
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlocked)
    assert err.value.reason is Reason.QUORUM_NOT_MET
    assert "m-chair" in err.value.detail


def test_r08_share_from_someone_outside_the_plan_is_refused(plan):
    unlocked = unlock(plan, *MEMBERS.values(), "m-security")
    unlocked["stranger"] = os.urandom(32)
    with pytest.raises(DomainError) as err:
        rebuild_private_key(plan, unlocked)
    assert err.value.reason is Reason.INVALID_INPUT


def test_r04_absent_token_cannot_contribute_its_share(plan):
    with pytest.raises(DomainError) as err:
        unlock_shares(plan, PresentTokens({"m-chair"}), ["m-chair", "m-security"])
    assert err.value.reason is Reason.TOKEN_NOT_FOUND


def test_r08_shares_are_wrapped_per_person_and_plan_survives_json(plan):
    assert {s.recipient_id for s in plan.shares} == {*(r for ids in VOTING.values() for r in ids), *SECURITY}
    back = OpeningKeyPlan.from_json(plan.to_json())
    assert back == plan
    assert json.loads(plan.to_json())["threshold"] == len(VOTING)
    assert back.members_by_role()["security"] == tuple(SECURITY)
    key = rebuild_private_key(back, unlock(back, *MEMBERS.values(), "a-security"))
    assert _raw_pub(key) == back.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.mark.parametrize("bad_json", ['{"format": "other"}', "not json", '{"format": "eproc-opening-key/1"}'])
def test_r08_malformed_plan_is_invalid_input(bad_json):
    with pytest.raises(DomainError) as err:
        OpeningKeyPlan.from_json(bad_json)
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("voting, security, threshold, reason", [
    ({"chair": ["p1"], "finance": ["p1"]}, ["s"], None, Reason.INVALID_INPUT),
    ({"chair": ["p1"], "finance": ["p2"]}, ["p2"], None, Reason.INVALID_INPUT),
    ({"chair": ["p1"], "security": ["p2"]}, ["s"], None, Reason.INVALID_INPUT),
    ({"chair": ["p1"], "finance": ["p2"]}, [], None, Reason.SECURITY_REP_ABSENT),
    ({"chair": ["p1"], "finance": []}, ["s"], None, Reason.QUORUM_NOT_MET),
    ({}, ["s"], None, Reason.QUORUM_NOT_MET),
    ({"chair": ["p1"], "finance": ["p2"]}, ["s"], 0, Reason.INVALID_INPUT),
    ({"chair": ["p1"], "finance": ["p2"]}, ["s"], 3, Reason.INVALID_INPUT),
    ({"chair": ["p1"], "finance": ["p2"]}, ["s"], True, Reason.INVALID_INPUT),
])
def test_r04_commission_that_cannot_hold_shares_is_refused_at_announcement(voting, security, threshold, reason):
    with pytest.raises(DomainError) as err:
        create_opening_key("T-1", voting, security, SoftwareTokens(), threshold=threshold)
    assert err.value.reason is reason


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_r08_property_key_rebuilds_exactly_with_security_and_quorum(data):
    n = data.draw(st.integers(min_value=1, max_value=4), label="roles")
    k = data.draw(st.integers(min_value=1, max_value=n), label="threshold")
    roles = {f"role{i}": [f"p{i}"] for i in range(n)}
    plan = create_opening_key("T-prop", roles, ["sec"], SoftwareTokens(), threshold=k)
    present = data.draw(st.lists(st.sampled_from([f"p{i}" for i in range(n)]), unique=True), label="present")
    with_security = data.draw(st.booleans(), label="security")
    people = present + (["sec"] if with_security else [])
    unlocked = unlock(plan, *people)
    if with_security and len(present) >= k:
        key = rebuild_private_key(plan, unlocked)
        assert _raw_pub(key) == plan.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    else:
        with pytest.raises(DomainError) as err:
            rebuild_private_key(plan, unlocked)
        assert err.value.reason is (Reason.QUORUM_NOT_MET if with_security else Reason.SECURITY_REP_ABSENT)


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(threshold=0),
    lambda d: d.update(threshold=4),
    lambda d: d.update(voting_roles=["chair", "chair", "finance"]),
    lambda d: d["shares"].append(dict(d["shares"][0])),
    lambda d: d.update(public_key_b64="AAAA"),
])
def test_r08_inconsistent_stored_plan_is_invalid_input(plan, mutate):
    data = json.loads(plan.to_json())
    mutate(data)
    with pytest.raises(DomainError) as err:
        OpeningKeyPlan.from_dict(data)
    assert err.value.reason is Reason.INVALID_INPUT
