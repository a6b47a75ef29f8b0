"""R21: the transparency site shows complete contracts whose names come from the registries."""
from __future__ import annotations

from integrations import ocds


def test_r21_final_contract_is_published_complete_and_valid_ocds(district12, district2):
    for run in (district12, district2):
        assert run.report["publication"] == {"ocds_valid": True, "missing_fields": []}
        releases = list(run.world.stubs["publisher"].releases())
        assert len(releases) == 1
        package = ocds.release_package(releases, run.world.clock.now(), "test")
        assert ocds.package_errors(package) == []
        assert releases[0]["contracts"][0]["id"] == run.report["contract"]["code"]


def test_r21_names_and_identifiers_come_from_the_registries(district12):
    world = district12.world
    release = next(world.stubs["publisher"].releases())
    tehran = release["contracts"][0]["tehran"]
    b3 = next(b for b in world.scenario.bidders if b.id == "b3")
    supplier = next(p for p in release["parties"] if "supplier" in p["roles"])
    assert (supplier["identifier"]["id"], supplier["name"]) == (b3.national_id, b3.name)
    assert tehran["economicCode"] == b3.economic_code and tehran["grade"] == b3.grade
    assert tehran["supervisor"]["id"] == world.scenario.contract.supervisor
    members = {(mm.name, mm.role) for mm in world.scenario.commission}
    assert {(p["name"], p["role"]) for p in tehran["commissionMembers"]} == members
    chair = next(mm for mm in world.scenario.commission if mm.role == "chair")
    assert tehran["employerSignatories"] == [{"name": chair.name, "role": "chair"}]
    assert release["contracts"][0]["value"]["amount"] == district12.report["contract"]["amount_rial"]


def test_r21_a_contract_that_never_reached_final_is_not_published(stopped):
    assert stopped.report["publication"] is None
    assert list(stopped.world.stubs["publisher"].releases()) == []
