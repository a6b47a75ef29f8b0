"""Receiving bids concurrently (a deadline burst, issue 11 / issue 15 item 2) keeps every rule of a
single submission: each receipt is covered by a signed, published audit checkpoint before it is
handed out (R21), the signer's registry role and the CA-signed CRL are read afresh for every
submission (R05), a replacement under the same reference is judged against the submission written
before it (R07), and the tender's stored data is checked against its announced digests every time
(R08), whatever the engine kept from an earlier submission."""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import timedelta
from decimal import Decimal

import pytest


@pytest.fixture
def district(tmp_path):
    from tests.e2e.pilot_harness import world_with_bids

    world, scenario = world_with_bids(tmp_path)
    world.clock.set(scenario.tender.deadline - timedelta(minutes=30))
    return world, scenario


def _sealed(world, scenario, bidder_id, coefficient):
    """`bidder_id`'s signatory seals and signs a new bid (price coefficient `coefficient`) at its station."""
    from domain.clock import SimulatedClock
    from pilot.bidders import envelope_contents, seal_and_sign
    from services import tender as svc

    tender_id = scenario.scenario.name
    bidder = next(b for b in scenario.bidders if b.id == bidder_id)
    price = bidder.price.model_copy(update={"coefficient": Decimal(coefficient)})
    seats = svc.load(world.deps, tender_id).seats
    sealed, manifest = seal_and_sign(
        tender_id, bidder_id, bidder.national_id,
        envelope_contents(bidder.guarantee, bidder.documents, bidder.grade, bidder.technical_score, price),
        seats, world.signer(world.bidder_signatory[bidder_id]), SimulatedClock(world.clock.now()))
    return bidder.national_id, sealed, manifest


def _submit(world, scenario, bidder_id, company_id, sealed, manifest):
    from services import tender as svc

    return svc.submit_bid(world.deps, scenario.scenario.name, bidder_id, company_id, sealed, manifest)


def _in_threads(calls):
    """Run every zero-argument call at once (released together); their results in order."""
    results: list = [None] * len(calls)
    errors: list[BaseException] = []
    go = threading.Barrier(len(calls))

    def run(i, call):
        try:
            go.wait()
            results[i] = call()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def _db(world) -> sqlite3.Connection:
    return sqlite3.connect(world.base_dir / "eproc.db")


def _receipt_entry_seq(world, bidder_id, seq) -> int:
    db = _db(world)
    rows = db.execute("SELECT seq, payload_json FROM audit_log WHERE action='bid.received' ORDER BY seq").fetchall()
    db.close()
    return next(s for s, p in rows if json.loads(p)["bidder"] == bidder_id and json.loads(p)["seq"] == seq)


def test_r21_concurrent_receipts_are_each_covered_by_a_published_checkpoint_when_returned(district):
    from services.checkpoints import stored_checkpoints, verify_checkpoints

    world, scenario = district
    bids = [(b.id, *_sealed(world, scenario, b.id, "0.97")) for b in scenario.bidders]

    def submit_and_look(bidder_id, company_id, sealed, manifest):
        def call():
            result = _submit(world, scenario, bidder_id, company_id, sealed, manifest)
            # What is stored and published at the moment the receipt is handed out.
            published = {p.seq: p.xml for p in world.deps.portal.checkpoints()}
            return result, max(published), published
        return call

    outcomes = _in_threads([submit_and_look(*b) for b in bids])
    for (bidder_id, *_rest), (result, newest_published, published) in zip(bids, outcomes):
        assert result.accepted, result.reason
        entry = _receipt_entry_seq(world, bidder_id, result.seq)
        assert newest_published >= entry, (bidder_id, newest_published, entry)
        stored = {c.seq: c.xml for c in stored_checkpoints(world.deps)}
        covering = min(s for s in published if s >= entry)
        assert stored[covering] == published[covering]
    report = verify_checkpoints(world.deps.sessions, world.deps.ca_cert,
                                [(f"{p.seq}", p.xml) for p in world.deps.portal.checkpoints()])
    assert report.ok, report.to_dict()


def test_r07_concurrent_replacements_under_one_reference_are_numbered_and_superseded_in_turn(district):
    world, scenario = district
    bidder_id = scenario.bidders[0].id
    bids = [_sealed(world, scenario, bidder_id, c) for c in ("0.96", "0.95", "0.94")]
    results = _in_threads([lambda b=b: _submit(world, scenario, bidder_id, *b) for b in bids])
    assert all(r.accepted for r in results), [r.reason for r in results]
    assert sorted(r.seq for r in results) == [2, 3, 4]  # seq 1: the bid the pilot world received
    db = _db(world)
    rows = db.execute("SELECT seq, superseded FROM bids WHERE tender_id=? AND bidder_ref=? ORDER BY seq",
                      (scenario.scenario.name, bidder_id)).fetchall()
    supersedes = [json.loads(p)["supersedes"] for (p,) in db.execute(
        "SELECT payload_json FROM audit_log WHERE action='bid.received' ORDER BY seq").fetchall()
        if json.loads(p)["bidder"] == bidder_id]
    db.close()
    assert rows == [(1, 1), (2, 1), (3, 1), (4, 0)]
    tender_id = scenario.scenario.name
    assert supersedes == [None] + [f"{tender_id}/{bidder_id}/{n}" for n in (1, 2, 3)]


def test_r05_a_revocation_between_two_submissions_refuses_the_second_at_once(district):
    world, scenario = district
    bidder_id = scenario.bidders[2].id
    first = _submit(world, scenario, bidder_id, *_sealed(world, scenario, bidder_id, "0.97"))
    assert first.accepted
    later = _sealed(world, scenario, bidder_id, "0.96")  # signed before the revocation
    nid = world.bidder_signatory[bidder_id]
    for record in world.ca.registry.for_person(nid):
        world.ca.revoke(record.serial, "keyCompromise", world.clock.now())
    world.ca.crl(world.clock)
    world.clock.advance(timedelta(minutes=1))
    second = _submit(world, scenario, bidder_id, *later)
    assert not second.accepted and second.reason.value == "BIDDER_SIGNATURE_INVALID"
    db = _db(world)
    (payload,) = db.execute("SELECT payload_json FROM audit_log WHERE action='bid.refused' ORDER BY seq DESC"
                            ).fetchone()
    db.close()
    assert json.loads(payload)["detail"] == "CERT_REVOKED"


def test_r05_a_registry_change_between_two_submissions_refuses_the_second_at_once(district):
    world, scenario = district
    bidder_id = scenario.bidders[1].id
    company_id, sealed, manifest = _sealed(world, scenario, bidder_id, "0.97")
    assert _submit(world, scenario, bidder_id, company_id, sealed, manifest).accepted
    later = _sealed(world, scenario, bidder_id, "0.96")
    db = _db(world)  # the registration office records another CEO for the company
    db.execute("UPDATE companies SET ceo_national_id='0000000000' WHERE national_id=?", (company_id,))
    db.commit()
    db.close()
    second = _submit(world, scenario, bidder_id, *later)
    assert not second.accepted and second.reason.value == "BIDDER_SIGNATURE_INVALID"


def test_r08_tender_data_rewritten_after_a_submission_is_caught_at_the_next(district):
    from domain.reasons import DomainError

    world, scenario = district
    bidder_id = scenario.bidders[0].id
    assert _submit(world, scenario, bidder_id, *_sealed(world, scenario, bidder_id, "0.97")).accepted
    later = _sealed(world, scenario, bidder_id, "0.96")
    db = _db(world)  # an insider moves the deadline in the stored specification
    (spec_json,) = db.execute("SELECT spec_json FROM tenders WHERE id=?", (scenario.scenario.name,)).fetchone()
    db.execute("UPDATE tenders SET spec_json=? WHERE id=?", (spec_json.replace("deadline", "deadline ", 1),
                                                             scenario.scenario.name))
    db.commit()
    db.close()
    with pytest.raises(DomainError) as caught:
        _submit(world, scenario, bidder_id, *later)
    assert caught.value.reason.value == "STORE_TAMPERED"


def test_r05_a_revocation_published_during_a_burst_refuses_every_submission_received_after_it(district):
    """A burst of replacements from every bidder, 4 at a time; when two of the revoked bidder's have been
    received, its signatory's certificate is revoked and the CRL recorded. Each of that bidder's
    submissions that began after the CRL was recorded is refused (CERT_REVOKED); those that ended
    before it was revoked were accepted; the other bidders' are all accepted."""
    import queue
    import time

    from signing.token import keep_sessions

    world, scenario = district
    revoked_bidder = scenario.bidders[2].id
    others = [b.id for b in scenario.bidders if b.id != revoked_bidder]
    # Signed before the revocation, in the order they are sent: the revoked bidder's are interleaved.
    order = [revoked_bidder if i % 2 == 0 else others[i % len(others)] for i in range(14)]
    bids = [(b, *_sealed(world, scenario, b, f"0.{99 - i}")) for i, b in enumerate(order)]
    pending: queue.Queue = queue.Queue()
    for item in bids:
        pending.put(item)
    lock = threading.Lock()
    received: list[tuple[str, float, float, object]] = []  # (bidder, began, ended, result)
    revoked_at: dict[str, float] = {}
    two_received = threading.Event()

    def revoke_when_two_are_in():
        two_received.wait(timeout=120)
        revoked_at["began"] = time.monotonic()
        nid = world.bidder_signatory[revoked_bidder]
        for record in world.ca.registry.for_person(nid):
            world.ca.revoke(record.serial, "keyCompromise", world.clock.now())
        world.ca.crl(world.clock)
        world.clock.advance(timedelta(minutes=1))
        revoked_at["recorded"] = time.monotonic()

    def sender():
        while True:
            try:
                bidder_id, company_id, sealed, manifest = pending.get_nowait()
            except queue.Empty:
                return
            if bidder_id == revoked_bidder and two_received.is_set():
                while "recorded" not in revoked_at:  # the rest of its bids go after the revocation
                    time.sleep(0.01)
            began = time.monotonic()
            result = _submit(world, scenario, bidder_id, company_id, sealed, manifest)
            with lock:
                received.append((bidder_id, began, time.monotonic(), result))
                if sum(1 for r in received if r[0] == revoked_bidder) >= 2:
                    two_received.set()

    keep_sessions()  # as the server runs it
    try:
        _in_threads([sender] * 4 + [revoke_when_two_are_in])
    finally:
        keep_sessions(False)
    assert len(received) == len(bids)
    after = [r for b, began, _e, r in received if b == revoked_bidder and began > revoked_at["recorded"]]
    before = [r for b, _b, ended, r in received if b == revoked_bidder and ended < revoked_at["began"]]
    assert len(after) >= 2 and len(before) >= 2, (len(after), len(before))
    assert all(r.accepted for r in before)
    assert all(not r.accepted and r.reason.value == "BIDDER_SIGNATURE_INVALID" for r in after)
    assert all(r.accepted for b, _b, _e, r in received if b != revoked_bidder), \
        [(b, r.reason) for b, _b, _e, r in received if b != revoked_bidder and not r.accepted]
    db = _db(world)
    details = [json.loads(p)["detail"] for (p,) in db.execute(
        "SELECT payload_json FROM audit_log WHERE action='bid.refused'").fetchall()
        if json.loads(p)["bidder"] == revoked_bidder]
    db.close()
    assert details.count("CERT_REVOKED") >= len(after)


def test_r25_a_blacklisted_company_is_refused_at_submission_and_the_refusal_recorded(district):
    """R25: the registry's blacklist is read at every submission; a company listed since this morning
    is refused BLACKLISTED (stored and audited, as every refusal), one listed until yesterday is not."""
    from datetime import date

    from integrations.contractor_registry import BlacklistEntry, Company
    from services.contract.blacklist import contractor_registry, tehran_day

    world, scenario = district
    registry = contractor_registry(world.deps)
    today = tehran_day(world.clock.now())
    listed, lapsed = scenario.bidders[0], scenario.bidders[1]
    for b, start, end in ((listed, today, None), (lapsed, date(2000, 1, 1), today - timedelta(days=1))):
        registry.register_company(Company(b.national_id, b.name, b.economic_code, b.grade,
                                          world.bidder_signatory[b.id], f"مدیرعامل {b.name}"))
        registry.add_to_blacklist(BlacklistEntry(b.national_id, start, end, "عدم انجام تعهدات", "COM-1400-7"))
    refused = _submit(world, scenario, listed.id, *_sealed(world, scenario, listed.id, "0.97"))
    assert not refused.accepted and refused.reason.value == "BLACKLISTED"
    db = _db(world)
    (reason, payload) = db.execute("SELECT reason, payload_json FROM audit_log WHERE action='bid.refused' "
                                   "ORDER BY seq DESC").fetchone()
    db.close()
    assert reason == "BLACKLISTED" and json.loads(payload)["bidder"] == listed.id
    assert _submit(world, scenario, lapsed.id, *_sealed(world, scenario, lapsed.id, "0.97")).accepted
