"""What a sitting reads and writes in bulk (R08): a bid's header and one envelope without its other
ciphertexts, and the audit entries of every envelope opened appended as one write, the same chain as
one by one (store.repositories)."""
from __future__ import annotations

import os
from datetime import timedelta

from store import models as m
from store.audit import iter_entries, verify_chain
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.uow import UnitOfWork


def tender_with_bids(uow, clock, blobs: list[bytes], company: str = "10101010101",
                     letters: tuple[str, ...] = ("A",)) -> list[int]:
    """Tender T-1 of unit U1 with one bid per blob (bidders b0, b1, ...), each with an envelope row per
    letter; returns the bids' ids."""
    now = clock.now()
    with uow() as u:
        u.units.add("U1", "101", "واحد آزمون", "district")
        u.session.flush()
        u.tenders.add(m.Tender(id="T-1", unit_id="U1", kind="works", procedure="one_stage", title="آزمون",
                               status="announced", spec_json="{}", announced_at=now, deadline=now, opening_at=now))
        u.session.flush()
        ids = []
        for i, blob in enumerate(blobs):
            bid = u.bids.add(m.Bid(tender_id="T-1", bidder_ref=f"b{i}", company_id=company, seq=1,
                                   received_at=now + timedelta(seconds=i), superseded=False, sealed=blob,
                                   manifest_xml=b"<m/>"), {letter: str(n) * 64 for n, letter in enumerate(letters)})
            ids.append(bid.id)
        u.commit()
    return ids


def test_r08_slices_and_prefixes_read_only_what_is_asked(uow, clock):
    blobs = [os.urandom(300_000), b"short", os.urandom(20)]
    ids = tender_with_bids(uow, clock, blobs)
    with uow() as u:
        total, (head, middle, past_end) = u.bids.sealed_slices(ids[0], [(0, 100), (1000, 5000), (299_990, 100)])
        assert total == 300_000
        assert head == blobs[0][:100] and middle == blobs[0][1000:6000] and past_end == blobs[0][299_990:]
        assert u.bids.sealed_slices(ids[1], [(0, 0)]) == (5, [b""])
        assert u.bids.sealed_slices(10_000, [(0, 4)]) == (0, [b""])
        prefixes = u.bids.current_prefixes("T-1", 16)
    assert [(i, ref, seq) for i, ref, seq, _ in prefixes] == [(ids[k], f"b{k}", 1) for k in range(3)]
    assert [head for *_, head in prefixes] == [b[:16] for b in blobs]


def test_r08_envelopes_of_many_bids_in_one_read(uow, clock):
    ids = tender_with_bids(uow, clock, [b"x", b"y"])
    with uow() as u:
        found = u.bids.envelopes_of(ids)
        assert set(found) == {(ids[0], "A"), (ids[1], "A")}
        assert [b.id for b in u.bids.current("T-1", sealed=False)] == ids


def test_r08_audit_entries_appended_in_one_write_chain_as_one_by_one(uow, clock, tmp_path):
    entries = [dict(at=clock.now(), actor="engine", action="envelope.opened", entity="tender", entity_id="T-1",
                    payload={"bidder": f"b{i}", "envelope": "A", "session": "opening"}) for i in range(5)]

    def chain(factory) -> list[tuple[str, str, str]]:
        with factory() as u:
            assert verify_chain(iter_entries(u.session)).ok
            return [(e.prev_hash, e.hash, e.payload_json) for e in iter_entries(u.session)]

    with uow() as u:
        u.record(at=clock.now(), actor="engine", action="session.started", entity="tender", entity_id="T-1")
        assert u.audit.append_many(entries) == 5
        assert u.audit.append_many([]) == 0
        u.commit()
    batched = chain(uow)
    assert len(batched) == 6
    # The same entries appended one by one, in a log of their own, make the very same chain.
    other = make_engine(f"sqlite:///{tmp_path / 'one-by-one.db'}")
    upgrade(other)
    one_by_one = session_factory(other)
    with UnitOfWork(one_by_one) as u:
        u.record(at=clock.now(), actor="engine", action="session.started", entity="tender", entity_id="T-1")
        for e in entries:
            u.record(**e)
        u.commit()
    assert chain(lambda: UnitOfWork(one_by_one)) == batched
    other.dispose()
