"""R08 against an insider with write access to the database: what the opening reads back from the
store is checked against the signed documents, and a bid belongs to the company that signed it.

Each attack is done the way an attacker would: raw SQL on the engine's SQLite file (no engine code),
then the normal flow."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

from pilot_harness import eproc_pilot, open_with_members, world_with_bids


def _open(world, scenario):
    return open_with_members(world, scenario)  # each member releases at their own station


def test_r08_bid_substituted_in_the_store_is_refused_at_opening(tmp_path):
    """The insider re-seals b4's envelopes to the published opening key with a lower price and updates
    the stored hashes; the signed manifest and the engine's signed receipt still name the old ones."""
    from pilot.bidders import envelope_contents
    from sealing.envelopes import seal_dealt
    from services import tender as svc
    from services.signers import CertKeyWrapper

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    b4 = next(b for b in scenario.bidders if b.id == "b4")
    seats = svc.load(world.deps, tender_id).seats
    cheaper = b4.price.model_copy(update={"coefficient": Decimal("0.94")})
    # The insider deals a key of their own to the notice's seats: the blob is well formed, only not the bid.
    forged = seal_dealt(tender_id, "b4", envelope_contents(b4.guarantee, b4.documents, b4.grade,
                                                           b4.technical_score, cheaper),
                        seats.voting, seats.security, seats.threshold, CertKeyWrapper.from_der(seats.certificates))
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (bid_id,) = db.execute("SELECT id FROM bids WHERE tender_id=? AND bidder_ref='b4' AND refused_reason IS NULL",
                           (tender_id,)).fetchone()
    db.execute("UPDATE bids SET sealed=? WHERE id=?", (forged.to_bytes(), bid_id))
    for letter, digest in forged.hashes().items():
        db.execute("UPDATE envelopes SET sha256=? WHERE bid_id=? AND letter=?", (digest, bid_id, letter))
    db.commit()
    db.close()

    outcome = _open(world, scenario)
    evaluation = outcome.evaluation
    assert evaluation.bids["b4"].reason.value == "ENVELOPE_TAMPERED"
    assert evaluation.award.winner == "b3"  # the forged price did not win


def test_r08_receipt_rewritten_in_the_store_is_refused_at_opening(tmp_path):
    """Changing the hash inside the stored receipt breaks the engine's signature on it."""
    world, scenario = world_with_bids(tmp_path)
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (bid_id, receipt) = db.execute("SELECT id, receipt_xml FROM bids WHERE bidder_ref='b3' AND refused_reason IS NULL"
                                   ).fetchone()
    digest = receipt.split(b'letter="C" sha256="')[1][:64]
    db.execute("UPDATE bids SET receipt_xml=? WHERE id=?", (receipt.replace(digest, b"0" * 64), bid_id))
    db.commit()
    db.close()
    outcome = _open(world, scenario)
    assert outcome.evaluation.bids["b3"].reason.value == "ENVELOPE_TAMPERED"


def test_r08_another_company_cannot_replace_a_bid_under_its_ref(tmp_path):
    """b5's company, signing with its own token, submits under b3's ref: refused and audited."""
    from pilot.bidders import envelope_contents, seal_and_sign
    from services import tender as svc

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    b3 = next(b for b in scenario.bidders if b.id == "b3")
    b5 = next(b for b in scenario.bidders if b.id == "b5")
    world.clock.set(scenario.tender.deadline.replace(hour=0))
    seats = svc.load(world.deps, tender_id).seats
    worse = b3.price.model_copy(update={"coefficient": Decimal("1.30")})
    sealed, manifest = seal_and_sign(tender_id, "b3", b5.national_id,
                                     envelope_contents(b3.guarantee, b3.documents, b3.grade, b3.technical_score,
                                                       worse), seats,
                                     world.signer(world.bidder_signatory["b5"]), world.clock)
    result = svc.submit_bid(world.deps, tender_id, "b3", b5.national_id, sealed, manifest)
    assert not result.accepted and result.reason.value == "BID_NOT_OWNED"
    db = sqlite3.connect(world.base_dir / "eproc.db")
    refused = db.execute("SELECT reason FROM audit_log WHERE action='bid.refused' AND payload_json LIKE '%b3%'").fetchall()
    db.close()
    assert [r for (r,) in refused] == ["BID_NOT_OWNED"]
    outcome = _open(world, scenario)
    assert outcome.evaluation.award.winner == "b3"  # b3's own bid still stands
    assert outcome.evaluation.bids["b3"].price_rial < outcome.evaluation.bids["b4"].price_rial


def test_r08_minutes_rewritten_in_the_store_do_not_reach_the_article18_notice(tmp_path):
    """Winner and runner-up swapped in the stored, signed minutes: the chair's token must not sign an
    Article 18 notice to the wrong bidder; the tampering is refused when the minutes are read."""
    import pytest

    from domain.reasons import DomainError, Reason
    from services import tender as svc

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    outcome = _open(world, scenario)
    svc.draft_minutes(world.deps, tender_id, outcome)
    world.deps.human().minutes_signed(tender_id, "article13", outcome.participants)  # at the members' stations
    minutes = svc.signed_minutes(world.deps, tender_id)
    assert minutes.final and (minutes.award.winner, minutes.award.runner_up) == ("b3", "b4")
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (xml,) = db.execute("SELECT xml FROM minutes WHERE kind='article13' AND final").fetchone()
    swapped = (xml.replace(b'winner="b3"', b'winner="@@"').replace(b'runner_up="b4"', b'runner_up="b3"')
               .replace(b'winner="@@"', b'winner="b4"'))
    assert swapped != xml
    db.execute("UPDATE minutes SET xml=? WHERE kind='article13'", (swapped,))
    db.commit()
    db.close()
    with pytest.raises(DomainError) as err:
        svc.draft_notification(world.deps, tender_id, "b4")
    assert err.value.reason is Reason.SIGNATURE_INVALID
    with world.deps.uow() as uow:
        assert uow.minutes.latest(tender_id, "article18") is None  # nothing was signed


def test_r08_killed_during_decryption_leaves_a_trace_and_the_rerun_never_lowers_the_status(prefect_server, tmp_path):
    """A worker killed after the first envelope was decrypted: the audit log says who opened which
    session when; the rerun completes and the tender's status only moved forward."""
    import json

    work = tmp_path / "killed"
    killed = eproc_pilot(prefect_server, work, crash_at="envelope.decrypted#1")
    assert killed.returncode == 137, killed.stderr[-2000:]
    db = sqlite3.connect(work / "eproc.db")
    started = db.execute("SELECT payload_json FROM audit_log WHERE action='session.started'").fetchall()
    assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
    db.close()
    assert len(started) == 1 and json.loads(started[0][0])["session"] == "opening"
    assert len(json.loads(started[0][0])["participants"]) == 5
    resumed = eproc_pilot(prefect_server, work)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout)["tender"]["status"] == "awarded"
    db = sqlite3.connect(work / "eproc.db")
    statuses = [a for (a,) in db.execute("SELECT action FROM audit_log WHERE action LIKE 'tender.%' ORDER BY seq")]
    (status,) = db.execute("SELECT status FROM tenders").fetchone()
    db.close()
    assert status == "contracted" and statuses[-1] == "tender.contracted"


def _sql(world, *statements):
    db = sqlite3.connect(world.base_dir / "eproc.db")
    for stmt, args in statements:
        db.execute(stmt, args)
    db.commit()
    db.close()


def test_r08_the_bid_set_is_what_the_engine_receipted_not_what_the_columns_say(tmp_path):
    """Three single statements that used to make b4 win by dropping b3: a later received_at, a deleted
    row, a bid marked refused. The signed receipts and the audit log decide; the session does not open
    on a bid set that differs from what was receipted."""
    import pytest

    from domain.reasons import DomainError, Reason

    world, scenario = world_with_bids(tmp_path / "late")
    _sql(world, ("UPDATE bids SET received_at='2021-07-03 10:00:00.000000' WHERE bidder_ref='b3'", ()))
    outcome = _open(world, scenario)
    assert outcome.evaluation.award.winner == "b3"  # the signed receipt time counts, not the column

    for name, stmt in (("deleted", "DELETE FROM bids WHERE bidder_ref='b3'"),
                       ("refused", "UPDATE bids SET refused_reason='LATE_SUBMISSION' WHERE bidder_ref='b3'")):
        world, scenario = world_with_bids(tmp_path / name)
        if name == "deleted":
            _sql(world, ("DELETE FROM envelopes WHERE bid_id IN (SELECT id FROM bids WHERE bidder_ref='b3')", ()))
        _sql(world, (stmt, ()))
        with pytest.raises(DomainError) as err:
            _open(world, scenario)
        assert err.value.reason is Reason.STORE_TAMPERED, name


def test_r08_an_insider_who_makes_himself_signatory_and_engine_cannot_replace_a_bid(tmp_path):
    """A commission member edits the registry (made CEO of b4's company, given the engine's role),
    re-seals b4 lower, signs the manifest and a new receipt on his own token and appends a matching
    audit entry: the receipt is not the engine's, so b4 is excluded and b3 still wins."""
    import hashlib
    import json

    from lxml import etree

    from domain.documents.receipt import build_receipt
    from pilot.bidders import envelope_contents, seal_and_sign
    from services import tender as svc
    from services.signers import COMPANY_SIGNATORY  # noqa: F401  (the role the forged manifest claims)

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    b4 = next(b for b in scenario.bidders if b.id == "b4")
    insider = next(m.national_id for m in scenario.commission if m.role == "finance")
    _sql(world, ("UPDATE companies SET ceo_national_id=? WHERE national_id=?", (insider, b4.national_id)),
         ("INSERT INTO role_assignments (national_id, role, unit_id, valid_from) "
          "VALUES (?, 'transactions_system', 'municipality', '2020-01-01')", (insider,)))
    seats = svc.load(world.deps, tender_id).seats
    cheaper = b4.price.model_copy(update={"coefficient": Decimal("0.94")})
    signer = world.signer(insider)
    sealed, manifest = seal_and_sign(tender_id, "b4", b4.national_id, envelope_contents(
        b4.guarantee, b4.documents, b4.grade, b4.technical_score, cheaper), seats, signer, world.clock)
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (bid_id, received_at) = db.execute("SELECT id, received_at FROM bids WHERE bidder_ref='b4'").fetchone()
    db.close()
    receipt = build_receipt(tender_id, "b4", world.clock.now(), sealed.hashes(), receipt_id=f"{tender_id}/b4/1",
                            manifest_signer_serial=signer.cert.serial_number)
    forged = etree.tostring(signer.sign(receipt, world.clock, "transactions_system", "municipality"),
                            xml_declaration=True, encoding="UTF-8")
    _sql(world, ("UPDATE bids SET sealed=?, manifest_xml=?, receipt_xml=? WHERE id=?",
                 (sealed.to_bytes(), manifest, forged, bid_id)))
    with world.deps.uow() as uow:  # an append at the head is all the insert guard allows
        uow.record(at=world.clock.now(), actor="b4", action="bid.received", entity="tender", entity_id=tender_id,
                   payload={"bidder": "b4", "seq": 1, "hashes": sealed.hashes(), "supersedes": None,
                            "receipt_sha256": hashlib.sha256(forged).hexdigest()})
        uow.commit()
    outcome = _open(world, scenario)
    assert outcome.evaluation.bids["b4"].reason.value == "ENVELOPE_TAMPERED"
    assert outcome.evaluation.award.winner == "b3"
    assert json is not None


def test_r08_a_company_has_one_bid_and_cannot_squat_another_reference(tmp_path):
    from pilot.bidders import envelope_contents, seal_and_sign
    from services import tender as svc

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    b1 = next(b for b in scenario.bidders if b.id == "b1")
    world.clock.set(scenario.tender.deadline.replace(hour=0))
    seats = svc.load(world.deps, tender_id).seats
    sealed, manifest = seal_and_sign(tender_id, "b1-second", b1.national_id, envelope_contents(
        b1.guarantee, b1.documents, b1.grade, b1.technical_score, b1.price), seats,
        world.signer(world.bidder_signatory["b1"]), world.clock)
    result = svc.submit_bid(world.deps, tender_id, "b1-second", b1.national_id, sealed, manifest)
    assert not result.accepted and result.reason.value == "DUPLICATE_BID"
