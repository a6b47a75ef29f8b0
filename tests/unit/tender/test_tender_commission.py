"""Article 13 commission quorum, alternates, the security representative and who signs (R04, R05, R10)."""
from __future__ import annotations

import pytest

from domain.reasons import DomainError, Reason
from domain.tender.commission import Member, minutes_signers, session_participants
from tender_helpers import load_scenario, members_of

MEMBERS = members_of(load_scenario("district-12-asphalt.toml")) + [
    Member("m6", "finance", "0000000000", alternate_for="m2"),
]
ALL = {"m1", "m2", "m3", "m4", "m5"}


def test_r10_every_participant_signs_the_minutes():
    session = session_participants(MEMBERS, ALL)
    assert session.signers == ("m1", "m2", "m3", "m4", "m5")


def test_r04_alternate_takes_the_seat_of_an_absent_member():
    assert minutes_signers(MEMBERS, ALL - {"m2"} | {"m6"}) == ("m1", "m3", "m4", "m5", "m6")


def test_r05_revoked_member_takes_no_part_and_alternate_covers():
    signers = minutes_signers(MEMBERS, ALL | {"m6"}, invalid_certificates={"m2"})
    assert "m2" not in signers and "m6" in signers


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
    assert "m4" not in minutes_signers(MEMBERS, ALL - {"m4"})


def test_unknown_alternate_reference_is_refused():
    with pytest.raises(DomainError) as exc:
        session_participants(MEMBERS + [Member("m9", "chair", "1", alternate_for="nobody")], ALL)
    assert exc.value.reason is Reason.INVALID_INPUT
