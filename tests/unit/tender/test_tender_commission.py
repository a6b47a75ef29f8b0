"""Article 13 commission quorum, alternates, the security representative and who signs (R04, R05, R10)."""
from __future__ import annotations

import pytest
from tender_helpers import load_scenario, members_of

from domain.reasons import DomainError, Reason
from domain.tender.commission import Member, opening_key_seats, session_participants, shamir_threshold

MEMBERS = members_of(load_scenario("district-12-asphalt.toml")) + [
    Member("m6", "finance", "0000000000", alternate_for="m2"),
]
ALL = {"m1", "m2", "m3", "m4", "m5"}


def signers(present, invalid_certificates=()):
    """Every member taking part signs the minutes: the session's participants, in commission order."""
    return tuple(m.id for m in session_participants(MEMBERS, present, invalid_certificates).participants)


def test_r10_every_participant_signs_the_minutes():
    assert signers(ALL) == ("m1", "m2", "m3", "m4", "m5")


def test_r04_alternate_takes_the_seat_of_an_absent_member():
    assert signers(ALL - {"m2"} | {"m6"}) == ("m1", "m3", "m4", "m5", "m6")


def test_r05_revoked_member_takes_no_part_and_alternate_covers():
    taking_part = signers(ALL | {"m6"}, invalid_certificates={"m2"})
    assert "m2" not in taking_part and "m6" in taking_part


def test_r05_revoked_voting_member_without_alternate_blocks_quorum():
    with pytest.raises(DomainError) as exc:
        session_participants(MEMBERS, ALL, invalid_certificates={"m3"})
    assert exc.value.reason is Reason.QUORUM_NOT_MET and "technical" in exc.value.detail


def test_r04_absent_chair_blocks_quorum():
    with pytest.raises(DomainError) as exc:
        session_participants(MEMBERS, ALL - {"m1"})
    assert exc.value.reason is Reason.QUORUM_NOT_MET


def test_r04_security_representative_is_required():
    with pytest.raises(DomainError) as exc:
        session_participants(MEMBERS, ALL - {"m5"})
    assert exc.value.reason is Reason.SECURITY_REP_ABSENT
    with pytest.raises(DomainError) as exc:
        session_participants(MEMBERS, ALL, invalid_certificates={"m5"})
    assert exc.value.reason is Reason.SECURITY_REP_ABSENT


def test_legal_member_is_not_a_voting_seat_but_signs_when_present():
    assert "m4" not in signers(ALL - {"m4"})


def test_unknown_alternate_reference_is_refused():
    with pytest.raises(DomainError) as exc:
        session_participants(MEMBERS + [Member("m9", "chair", "1", alternate_for="nobody")], ALL)
    assert exc.value.reason is Reason.INVALID_INPUT


# --- the opening key's seats (R08): who receives a part at announcement ---------------------------------
def test_r08_key_seats_put_alternates_in_their_principals_seat_and_skip_the_uncertified():
    seats = opening_key_seats(MEMBERS, ALL | {"m6"}, "all_voting")
    assert seats.voting == {"chair": ["m1"], "finance": ["m2", "m6"], "technical": ["m3"]}
    assert seats.security == ["m5"] and seats.threshold is None
    assert opening_key_seats(MEMBERS, ALL - {"m2"} | {"m6"}, "all_voting").voting["finance"] == ["m6"]


def test_r08_key_seats_need_every_voting_seat_and_security_certified():
    with pytest.raises(DomainError) as exc:
        opening_key_seats(MEMBERS, ALL - {"m5"} - {"m3"}, "all_voting")
    assert exc.value.reason is Reason.SECURITY_REP_ABSENT
    with pytest.raises(DomainError) as exc:
        opening_key_seats(MEMBERS, ALL - {"m3"}, "majority")
    assert exc.value.reason is Reason.QUORUM_NOT_MET and "technical" in exc.value.detail


def test_r04_quorum_setting_gives_the_shamir_threshold():
    assert shamir_threshold("all_voting") is None
    assert shamir_threshold("majority") == 2
    assert opening_key_seats(MEMBERS, ALL, "majority").threshold == 2
    with pytest.raises(DomainError) as exc:
        shamir_threshold("two_thirds")
    assert exc.value.reason is Reason.POLICY_INVALID
