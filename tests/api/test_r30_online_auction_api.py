"""The online auction through the API with real SoftHSM tokens (issue 14 part 1): the auction
registered by the contracts officer, guarantees and offers signed at the bidders' own stations and
judged at the engine's receipt time, the engine's signed receipts verified with the CA certificate
only, and what bidders see (the best price and the close, never who offered)."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from domain.reasons import DomainError, Reason

SCENARIO = "district-5-online-auction.toml"


@pytest.fixture(scope="module")
def auction(tmp_path_factory):
    """A world of the bundled online-auction scenario: the auction announced and its window
    registered through the API, no guarantee or offer yet."""
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from pilot.auction import basis_scenario, load_auction_scenario, register
    from pilot.contract_world import attach
    from pilot.runner import announce
    from pilot.scenario import BUNDLED
    from pilot.world import build_world
    from services.deps import use
    from signing.softhsm import SoftHsm

    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed")
    SoftHsm.for_process(tmp_path_factory.mktemp("softhsm"))
    policy = load_policy(BUNDLED_POLICY)
    sc = load_auction_scenario(BUNDLED / SCENARIO)
    world = build_world(basis_scenario(sc, policy), tmp_path_factory.mktemp("oa-world"), policy)
    attach(world)
    with use(world.deps):
        announce(world)
        register(world, sc)
        yield world, sc


def _bidder(world, sc, bidder_id):
    from services.signers import COMPANY_SIGNATORY

    b = next(x for x in sc.bidders if x.id == bidder_id)
    return world.stations.person(world.bidder_signatory[bidder_id], COMPANY_SIGNATORY, b.national_id), b


def _offer(world, sc, bidder_id, amount, at, as_bidder=None):
    from stations import auction as station

    world.clock.set(at)
    person, b = _bidder(world, sc, as_bidder or bidder_id)
    with person as st:
        return station.offer(st, sc.scenario.name, bidder_id, b.national_id, amount, st.ca_pem())


def _refused(fn, *args, **kwargs) -> Reason:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.reason


def test_r30_online_auction_offers_through_the_api(auction):
    from stations import auction as station

    world, sc = auction
    tid, window = sc.scenario.name, sc.tender.window
    opens, closes = window.opens_at, window.closes_at

    # The guarantee (envelope A) before the window: receipted by the engine, verified at the station.
    for bidder_id in ("b1", "b2"):
        world.clock.set(opens - timedelta(hours=1))
        person, b = _bidder(world, sc, bidder_id)
        with person as st:
            facts = station.lodge_guarantee(st, tid, bidder_id, b.national_id, b.guarantee.amount_rial,
                                            b.guarantee.valid_until, st.ca_pem())
        assert (facts.kind, facts.bidder_id) == ("guarantee", bidder_id)
    person, b3 = _bidder(world, sc, "b3")
    with person as st:
        assert _refused(station.lodge_guarantee, st, tid, "b3", b3.national_id, 100_000_000,
                        b3.guarantee.valid_until, st.ca_pem()) is Reason.GUARANTEE_INSUFFICIENT

    base = 5_000_000_000
    assert _refused(_offer, world, sc, "b1", base, opens - timedelta(minutes=1)) is Reason.AUCTION_CLOSED
    assert _refused(_offer, world, sc, "b3", base, opens + timedelta(minutes=1)) is Reason.GUARANTEE_MISSING
    assert _refused(_offer, world, sc, "b1", base - 1, opens + timedelta(minutes=2)) is Reason.BELOW_BASE_PRICE
    first = _offer(world, sc, "b1", base, opens + timedelta(minutes=3))
    assert first.closes_at == closes and first.amount_rial == base
    assert _refused(_offer, world, sc, "b2", base + 49_999_999, opens + timedelta(minutes=4)) is Reason.OFFER_TOO_LOW
    # Only the company that lodged the guarantee under a reference may offer under it.
    assert _refused(_offer, world, sc, "b1", base + 100_000_000, opens + timedelta(minutes=5),
                    as_bidder="b2") is Reason.BID_NOT_OWNED

    with world.stations.public() as api:
        seen = station.show(api, tid)
        text = api.get(f"/v1/auctions/{tid}").text
    assert (seen["best_rial"], seen["next_minimum_rial"], seen["status"]) == (base, base + 50_000_000, "open")
    companies = [b.national_id for b in sc.bidders]
    assert not any(x in text for x in ["b1", "b2", *companies])  # never who offered

    # In the last 2 minutes: the close moves 2 minutes later; at the new close the auction is closed.
    late = _offer(world, sc, "b2", base + 50_000_000, closes - timedelta(minutes=1))
    assert late.closes_at == closes + timedelta(minutes=2)
    assert _refused(_offer, world, sc, "b1", base + 200_000_000, closes + timedelta(minutes=2)) is Reason.AUCTION_CLOSED
    with world.stations.public() as api:
        seen = station.show(api, tid)
    assert (seen["status"], seen["extensions"], seen["best_rial"]) == ("closed", 1, base + 50_000_000)

    # Every offer is on the record in the order received, with its outcome.
    with world.deps.uow() as uow:
        rows = [(r.bidder_ref, r.accepted, r.reason) for r in uow.auctions.offers(tid)]
    assert rows == [("b1", False, "AUCTION_CLOSED"), ("b3", False, "GUARANTEE_MISSING"),
                    ("b1", False, "BELOW_BASE_PRICE"), ("b1", True, None), ("b2", False, "OFFER_TOO_LOW"),
                    ("b2", True, None), ("b1", False, "AUCTION_CLOSED")]


def test_r30_online_auction_registration_needs_the_contracts_officer(auction):
    from services.signers import COMPANY_SIGNATORY
    from stations import auction as station

    world, sc = auction
    b = sc.bidders[0]
    with world.stations.person(world.bidder_signatory[b.id], COMPANY_SIGNATORY, b.national_id) as st:
        assert _refused(station.register, st, sc.scenario.name, sc.tender.unit, sc.tender.window.opens_at,
                        sc.tender.window.closes_at) is Reason.NOT_AUTHORISED
