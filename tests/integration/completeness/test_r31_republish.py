"""R31: a record already published is republished when it is corrected (or completed). The district-7
barter is rehearsed and published; the legal unit corrects its subject; the transparency site then
holds a second release of the same contracting process, tagged `contractAmendment`, naming the release
it amends, valid against OCDS 1.1.5 with the extensions used; the correction is audited with the value
before."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from domain.reasons import DomainError, Reason

BARTER = Path(__file__).resolve().parents[3] / "pilot" / "scenarios" / "district-7-barter.toml"


@pytest.fixture(scope="module")
def barter(tmp_path_factory):
    """The barter scenario's world after its rehearsal (pilot.realestate.run_deal's steps, keeping the world)."""
    from config.policy import Threshold, load_policy
    from config.settings import get_settings
    from integrations.stubs.realestate import RealEstateSystemStub
    from pilot.contract_world import attach
    from pilot.realestate import basis_scenario, load_deal_scenario, rehearse
    from pilot.world import build_world
    from services.deps import use

    sc = load_deal_scenario(BARTER)
    policy = load_policy(get_settings().policy_file)
    if sc.thresholds:
        merged = dict(policy.thresholds)
        merged.update({y: Threshold(small_max=t.small_max, medium_max=t.medium_max) for y, t in sc.thresholds.items()})
        policy = policy.model_copy(update={"thresholds": merged})
    world = build_world(basis_scenario(sc), tmp_path_factory.mktemp("barter"), policy)
    attach(world)
    world.stubs.setdefault("realestate", RealEstateSystemStub(world.engine, world.clock))
    with use(world.deps):
        report = rehearse(world, sc)
    assert report["publication"] == {"ocds_valid": True, "missing_fields": []}
    return world, report["contract"]["code"]


def test_r31_a_corrected_record_is_republished_as_an_amendment(barter):
    from integrations import ocds, ocds_realestate
    from services.completeness import CORRECTED, republish

    world, code = barter
    publisher = world.deps.publisher
    [first] = list(publisher.releases())
    world.clock.advance(timedelta(days=3))
    out = republish(world.deps, code, publisher, {"subject": "تهاتر مطالبات پیمانکار با واحد تجاری پلاک ۱۲۳/۴۵ (اصلاح‌شده)"},
                    rationale="عنوان قرارداد با سند امضاشده یکسان نبود", actor="legal-7")
    assert (out.status, out.amends, out.tag) == ("published", first["id"], "contractAmendment")
    releases = list(publisher.releases())
    assert [r["id"] for r in releases] == [first["id"], out.release_id]
    amended = releases[1]
    assert amended["ocid"] == first["ocid"] and amended["tag"] == ["contractAmendment"]
    assert amended["contracts"][0]["title"].endswith("(اصلاح‌شده)")
    [amendment] = amended["contracts"][0]["amendments"]
    assert amendment["amendsReleaseID"] == first["id"] and amendment["rationale"].startswith("عنوان")
    assert ocds_realestate.release_errors(amended) == []
    record = ocds.record_package(releases, world.clock.now(), "شهرداری تهران")
    assert ocds_realestate.release_errors(record["records"][0]["compiledRelease"] | {"tag": ["compiled"]}) == []
    with world.deps.uow() as uow:
        row = uow.contracts.by_code(code)
        assert json.loads(row.data_json)["publication"]["release_id"] == out.release_id
        assert uow.audit.exists(CORRECTED, row.tracking_number)
    # Publishing the same data again publishes nothing new.
    again = republish(world.deps, code, publisher, {}, rationale="بازنشر", actor="legal-7")
    assert again.status == "unchanged" and len(list(publisher.releases())) == 2


def test_r31_a_correction_may_not_change_identity_and_needs_a_final_contract(barter):
    from services.completeness import republish

    world, code = barter
    with pytest.raises(DomainError) as err:
        republish(world.deps, code, world.deps.publisher, {"amount_rial": 1}, rationale="x", actor="legal-7")
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as err:
        republish(world.deps, "07-1400-999999-X", world.deps.publisher, {}, rationale="x", actor="legal-7")
    assert err.value.reason is Reason.NOT_FOUND
    with pytest.raises(DomainError) as err:
        republish(world.deps, code, world.deps.publisher, {}, rationale="  ", actor="legal-7")
    assert err.value.reason is Reason.INVALID_INPUT
