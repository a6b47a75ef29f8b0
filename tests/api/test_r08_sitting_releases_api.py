"""Issue 12 part 2 over the API: members release their parts to the sitting's key from their stations.

A rehearsal world with its bids received (tests/e2e/pilot_harness.world_with_bids); each member is a
station with their own token directory and PIN (pilot.stations), speaking to the same API in-process.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from pilot_harness import world_with_bids  # noqa: E402

from domain.documents.session import PartsReleaseContent, build_parts_release  # noqa: E402
from domain.reasons import DomainError, Reason  # noqa: E402
from pilot.scenario import tender_id_of  # noqa: E402
from stations.commission import join, sitting_path  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sitting-api")]  # one world, one worker


@pytest.fixture(scope="module")
def sitting(tmp_path_factory):
    world, scenario = world_with_bids(tmp_path_factory.mktemp("sitting"))
    return world, scenario, tender_id_of(scenario)


def _member(scenario, role: str):
    return next(m for m in scenario.commission if m.role == role and m.alternate_for is None)


def test_r08_a_sitting_is_not_open_before_its_time_and_then_only_to_members(sitting):
    from services.tender.release import open_sitting

    world, scenario, tid = sitting
    chair = _member(scenario, "chair")
    world.clock.set(scenario.tender.deadline)
    with world.stations.person(chair.national_id, "chair", scenario.tender.unit) as station:
        with pytest.raises(DomainError) as closed:
            station.get(sitting_path(tid, "opening") + "/parts")
        assert closed.value.reason is Reason.WRONG_STAGE
    with pytest.raises(DomainError) as early:
        open_sitting(world.deps, tid, "opening")
    assert early.value.reason is Reason.OPENING_TOO_EARLY
    world.clock.set(scenario.tender.opening_at)
    open_sitting(world.deps, tid, "opening")
    officer = world.staff["contracts_officer"]
    with world.stations.person(officer, "contracts_officer", scenario.tender.unit) as station:
        with pytest.raises(DomainError) as stranger:
            station.get(sitting_path(tid, "opening") + "/parts")
        assert stranger.value.reason is Reason.NOT_AUTHORISED
    with world.stations.public() as api:
        state = api.get(sitting_path(tid, "opening")).json()
        key = api.get(sitting_path(tid, "opening") + "/key").content
    assert state["open"] and state["released"] == [] and b"SessionKey" in key


def test_r08_a_member_releases_once_for_this_sitting_and_key_only(sitting):
    from services.tender.release import open_sitting

    world, scenario, tid = sitting
    world.clock.set(scenario.tender.opening_at)
    open_sitting(world.deps, tid, "opening")  # idempotent: the same sitting when the test above opened it
    finance = _member(scenario, "finance")
    unit = scenario.tender.unit
    with world.stations.person(finance.national_id, "finance", unit) as station:
        info = station.get(sitting_path(tid, "opening") + "/parts").json()
        assert info["member_id"] == finance.id and info["parts"]
        assert all(p["share"]["recipient_id"] == finance.id for p in info["parts"])
        # Parts sent for another member, or wrapped to another key, are refused.
        for member_id, key_sha in ((_member(scenario, "chair").id, None), (finance.id, "0" * 64)):
            doc = build_parts_release(PartsReleaseContent(tid, "opening", member_id, key_sha or _key_sha(station, tid),
                                                          0, b"k", b"n" * 12, b"c"))
            with pytest.raises(DomainError) as wrong:
                station.post_signed(sitting_path(tid, "opening") + "/releases", doc)
            assert wrong.value.reason is Reason.INVALID_INPUT
        done = join(station, tid, "opening", station.ca_pem())
        assert done.member_id == finance.id and done.parts == len(info["parts"])
        again = join(station, tid, "opening", station.ca_pem())  # a retry sends nothing
        assert again.parts == 0
        other = build_parts_release(PartsReleaseContent(tid, "opening", finance.id, _key_sha(station, tid), 0, b"k",
                                                        b"n" * 12, b"c"))
        with pytest.raises(DomainError) as twice:
            station.post_signed(sitting_path(tid, "opening") + "/releases", other)
        assert twice.value.reason is Reason.WRONG_STAGE
    with world.stations.public() as api:
        assert api.get(sitting_path(tid, "opening")).json()["released"] == [finance.id]


def _key_sha(station, tid: str) -> str:
    import hashlib

    return hashlib.sha256(station.get(sitting_path(tid, "opening") + "/key").content).hexdigest()


def test_r08_the_openapi_document_lists_the_sitting_operations(sitting):
    world, _scenario, _tid = sitting
    with world.stations.public() as api:
        paths = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/tenders/{tender_id}/sessions/{session}", "/v1/tenders/{tender_id}/sessions/{session}/key",
                 "/v1/tenders/{tender_id}/sessions/{session}/parts",
                 "/v1/tenders/{tender_id}/sessions/{session}/releases"):
        assert path in paths
