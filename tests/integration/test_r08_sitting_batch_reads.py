"""What a sitting reads and writes per batch (R08): several bids' spans in one read, as sealed_slices
reads each, and every envelope's outcome in one statement, opened_at set once (store.repositories)."""
from __future__ import annotations

import os
from datetime import timedelta

from tests.integration.test_r08_sitting_store_reads import tender_with_bids


def _tender_with_bids(uow, clock, blobs: list[bytes], company: str = "10101010101") -> list[int]:
    return tender_with_bids(uow, clock, blobs, company, letters=("A", "B"))


def test_r08_slices_of_many_bids_as_one_by_one(uow, clock):
    blobs = [os.urandom(300_000), b"short", b"", os.urandom(20)]
    ids = _tender_with_bids(uow, clock, blobs)
    spans = {ids[0]: [(0, 100), (1000, 5000), (299_990, 100)], ids[1]: [(0, 0), (2, 100)], ids[2]: [(0, 4)],
             ids[3]: [], 10_000: [(0, 4)]}
    with uow() as u:
        many = u.bids.sealed_slices_many(spans)
        one_by_one = {bid_id: u.bids.sealed_slices(bid_id, wanted) for bid_id, wanted in spans.items()}
    assert many == one_by_one
    assert many[ids[0]] == (300_000, [blobs[0][:100], blobs[0][1000:6000], blobs[0][299_990:]])
    assert many[ids[1]] == (5, [b"", b"ort"]) and many[ids[2]] == (0, [b""]) and many[10_000] == (0, [b""])
    assert many[ids[3]] == (20, [])


def test_r08_outcomes_in_one_statement_opened_at_set_once(uow, clock):
    ids = _tender_with_bids(uow, clock, [b"x", b"y"])
    first, later = clock.now(), clock.now() + timedelta(days=1)
    with uow() as u:
        u.bids.set_outcomes([(ids[0], "A", "accepted", None, first), (ids[0], "B", "excluded", "A_REJECTED", None),
                             (ids[1], "A", "rejected", "GUARANTEE_MISSING", first), (ids[1], "C", "accepted", None, first)])
        u.bids.set_outcomes([])
        u.commit()
    with uow() as u:  # a sitting replayed: outcomes rewritten, the first opened_at kept
        u.bids.set_outcomes([(ids[0], "A", "accepted", None, later), (ids[0], "B", "accepted", None, later)])
        u.commit()
    with uow() as u:
        got = {(k[0], k[1]): (e.outcome, e.reason, e.opened_at) for k, e in u.bids.envelopes_of(ids).items()}
    assert got == {(ids[0], "A"): ("accepted", None, first), (ids[0], "B"): ("accepted", None, later),
                   (ids[1], "A"): ("rejected", "GUARANTEE_MISSING", first), (ids[1], "B"): (None, None, None)}


def test_r08_companies_of_a_batch_in_one_query(uow, clock):
    ids = _tender_with_bids(uow, clock, [b"x", b"y"], company="50752917036")
    with uow() as u:
        u.companies.add("50752917036", "شرکت آزمون", "411111111111", 3)
        u.commit()
    with uow() as u:
        found = u.bids.companies_of(ids + [10_000])
        assert set(found) == {"50752917036"} and u.bids.companies_of([]) == {}
        assert u.companies.get("50752917036") is found["50752917036"]  # the same row: no second read
