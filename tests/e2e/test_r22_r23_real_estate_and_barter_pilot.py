"""Real-estate transactions (R22) and barter (R23) rehearsed end to end (issue 14 part 3): the bundled
scenarios through the real store, registries, SoftHSM tokens (treasurer, chair and counterparty sign
the contract), the unit's workflow, the real-estate system stub and the transparency stub; and the
service's refusals (hand entry over 100 m², a missing field) on a world of their own."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from domain.reasons import DomainError, Reason

SCENARIOS = Path(__file__).parents[2] / "pilot" / "scenarios"
BARTER = SCENARIOS / "district-7-barter.toml"
MISSING = SCENARIOS / "district-5-real-estate-missing-field.toml"


def test_r23_barter_pilot_registers_with_workflow_and_publishes_valid_ocds(tmp_path):
    from pilot.runner import run_pilot

    report = run_pilot(BARTER, workdir=tmp_path / "w")
    contract = report["contract"]
    assert contract["status"] == "final" and contract["code"]
    assert (contract["type"], contract["nature"], contract["bidder"]) == ("barter", "expense", "b1")
    assert contract["amount_rial"] == 7_000_000_000
    assert report["publication"] == {"ocds_valid": True, "missing_fields": []}
    for key in ("auction", "offers", "bids", "minutes", "status_statements", "payments", "receipts"):
        assert key in report and report[key] is None
    # A rerun on the same workdir continues: nothing registered or published twice.
    again = run_pilot(BARTER, workdir=tmp_path / "w")
    assert again == report


def test_r22_real_estate_deal_with_a_missing_field_stops_before_final(tmp_path):
    from pilot.runner import run_pilot

    report = run_pilot(MISSING, workdir=tmp_path / "w")
    assert report["contract"]["code"] is None and report["contract"]["status"] != "final"
    assert report["contract"]["type"] == "real_estate" and report["contract"]["nature"] == "income"
    assert report["tender"]["reason"] == "FIELD_MISSING"
    assert report["publication"] == {"ocds_valid": None, "missing_fields": ["real_estate.valuation.expert_number"]}


@pytest.fixture(scope="module")
def deal_world(tmp_path_factory):
    """The missing-field scenario's world (people, tokens, registries, stubs), for service calls."""
    from config.policy import load_policy
    from config.settings import get_settings
    from integrations.stubs.realestate import RealEstateSystemStub
    from pilot.contract_world import attach
    from pilot.realestate import basis_scenario, load_deal_scenario, request_of
    from pilot.world import build_world

    sc = load_deal_scenario(MISSING)
    world = build_world(basis_scenario(sc), tmp_path_factory.mktemp("deal"), load_policy(get_settings().policy_file))
    attach(world)
    world.stubs["realestate"] = RealEstateSystemStub(world.engine, world.clock)
    world.clock.set(sc.tender.opening_at)
    return world, request_of(world, sc, world.policy)


def test_r22_hand_entry_over_100_m2_is_refused_and_under_is_allowed_with_workflow(deal_world):
    from integrations.realestate import PropertyRecord
    from services.deps import use
    from services.realestate import ValuationInput, open_deal, publish_deal, run_workflow

    world, req = deal_world
    stub = world.stubs["realestate"]
    assert req.hand is not None and req.hand.area_m2 == Decimal("85.5")
    with use(world.deps):
        with pytest.raises(DomainError) as err:
            open_deal(world.deps, stub, replace(req, hand=replace(req.hand, area_m2=Decimal("120"))))
        assert err.value.reason is Reason.HAND_ENTRY_NOT_ALLOWED
        # Under 100 m² by hand, complete: still the whole workflow (review, token signatures, final).
        complete = replace(req, hand=replace(req.hand, valuation=ValuationInput("EX-1400-91", req.hand.valuation.date,
                                                                                4_800_000_000)))
        state = open_deal(world.deps, stub, complete)
        assert state.source == "hand" and state.stage == "draft" and state.code is None
        state = run_workflow(world.deps, state.tracking_number)
        assert state.stage == "final" and state.code and state.blocked_reason is None
        state = publish_deal(world.deps, stub, world.deps.publisher, state.tracking_number)
        assert state.ocds_valid is True and state.release_id
        assert stub.deals(req.plate.key) == []  # hand entry: the property is not on the system's file
        # Over 100 m², the data comes from the real-estate system by plate, never typed.
        big = replace(req, hand=None, plate=replace(req.plate, main="9000"))
        with pytest.raises(DomainError) as err:
            open_deal(world.deps, stub, big)
        assert err.value.reason is Reason.NOT_FOUND
        stub.file_property(PropertyRecord(big.plate.key, "office", Decimal("240"), "35.7,51.4", "تهران", None))
        state = open_deal(world.deps, stub, big)
        assert state.source == "real_estate_system"
        state = run_workflow(world.deps, state.tracking_number)  # no valuation in the system: stops
        assert state.code is None and state.blocked_reason == "FIELD_MISSING"
        assert "real_estate.valuation.expert_number" in state.missing_fields


def test_r22_real_estate_stub_enforces_the_real_systems_rules(deal_world):
    from integrations.realestate import PropertyRecord

    world, _ = deal_world
    stub = world.stubs["realestate"]
    for bad in (PropertyRecord("1/2", "office", Decimal("10"), "35.7,51.4", "تهران", None),
                PropertyRecord("1/2/3", "castle", Decimal("10"), "35.7,51.4", "تهران", None),
                PropertyRecord("1/2/3", "office", Decimal("0"), "35.7,51.4", "تهران", None),
                PropertyRecord("1/2/3", "office", Decimal("10"), "135.7,51.4", "تهران", None)):
        with pytest.raises(DomainError) as err:
            stub.file_property(bad)
        assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as err:
        stub.record_deal("", "1/2/3", "sale", world.clock.now())
    assert err.value.reason is Reason.NO_CONTRACT_CODE
    from domain.contract.code import make_contract_code

    first, second = make_contract_code("05", 1400, 901), make_contract_code("05", 1400, 902)
    stub.file_property(PropertyRecord("7/8/9", "land", Decimal("300"), "35.7,51.4", "تهران", None))
    stub.record_deal(first, "7/8/9", "sale", world.clock.now())
    stub.record_deal(first, "7/8/9", "sale", world.clock.now())  # idempotent per code
    with pytest.raises(DomainError) as err:  # a property sold is not sold again
        stub.record_deal(second, "7/8/9", "sale", world.clock.now())
    assert err.value.reason is Reason.INVALID_INPUT
    assert stub.deals("7/8/9") == [(first, "sale")]
