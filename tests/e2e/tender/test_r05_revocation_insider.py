"""R05 against an insider and a revoked key holder: revocation is read from the CA-signed CRL, never
from the `certificates.revoked_at` column, and a bid is judged at the time the engine received it.

Each attack is done the way an attacker would: raw SQL on the engine's SQLite file or a file written
into the CA directory (no engine code), or the revoked key holder's own token with a back-dated clock;
then the normal flow (the bidder submits, the commission opens)."""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from pilot_harness import open_with_members, world_with_bids

BIDDER = "b3"


def _revoke_signatory(world, scenario, at):
    """What `eproc ca revoke` and the pilot's revocation event do: revoke, then sign a new CRL."""
    nid = world.bidder_signatory[BIDDER]
    world.clock.set(at)
    for record in world.ca.registry.for_person(nid):
        world.ca.revoke(record.serial, "keyCompromise", at)
    world.ca.crl(world.clock)
    return nid


def _sql(world, *statements):
    db = sqlite3.connect(world.base_dir / "eproc.db")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def _refusal_detail(world) -> str:
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (payload,) = db.execute("SELECT payload_json FROM audit_log WHERE action='bid.refused' ORDER BY seq DESC"
                            ).fetchone()
    db.close()
    return json.loads(payload)["detail"]


def _submit(world, scenario, received_at, signing_clock=None, price_coefficient=None):
    """b3's signatory seals and signs on its own token (its machine's clock: `signing_clock`); the
    engine receives it at `received_at`."""
    from domain.clock import SimulatedClock
    from pilot.bidders import envelope_contents, seal_and_sign
    from services import tender as svc

    tender_id = scenario.scenario.name
    bidder = next(b for b in scenario.bidders if b.id == BIDDER)
    price = bidder.price if price_coefficient is None else bidder.price.model_copy(
        update={"coefficient": price_coefficient})
    world.clock.set(received_at)
    seats = svc.load(world.deps, tender_id).seats
    sealed, manifest = seal_and_sign(
        tender_id, BIDDER, bidder.national_id,
        envelope_contents(bidder.guarantee, bidder.documents, bidder.grade, bidder.technical_score, price),
        seats, world.signer(world.bidder_signatory[BIDDER]), signing_clock or SimulatedClock(received_at))
    return svc.submit_bid(world.deps, tender_id, BIDDER, bidder.national_id, sealed, manifest)


def test_r05_unrevoking_in_the_database_does_not_make_a_revoked_key_sign_again(tmp_path):
    from decimal import Decimal

    world, scenario = world_with_bids(tmp_path)
    deadline = scenario.tender.deadline
    _revoke_signatory(world, scenario, deadline - timedelta(minutes=15))
    _sql(world, "UPDATE certificates SET revoked_at=NULL, revoke_reason=NULL")

    result = _submit(world, scenario, deadline - timedelta(minutes=10), price_coefficient=Decimal("0.90"))
    assert not result.accepted and result.reason.value == "BIDDER_SIGNATURE_INVALID"
    assert _refusal_detail(world) == "CERT_REVOKED"


def test_r05_a_forged_crl_file_and_a_reissued_crl_do_not_unrevoke(tmp_path):
    """The insider also replaces the CA directory's crl.pem with an empty CRL under the CA's name,
    signed by another key, and the operator then signs the routine next CRL from the edited table."""
    from decimal import Decimal

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    world, scenario = world_with_bids(tmp_path)
    deadline = scenario.tender.deadline
    _revoke_signatory(world, scenario, deadline - timedelta(minutes=15))
    _sql(world, "UPDATE certificates SET revoked_at=NULL, revoke_reason=NULL")
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = deadline - timedelta(minutes=14)
    forged = (x509.CertificateRevocationListBuilder().issuer_name(world.ca.certificate.subject)
              .last_update(now).next_update(now + timedelta(days=7))
              .add_extension(x509.CRLNumber(1000), critical=False).sign(attacker, hashes.SHA256()))
    world.ca.crl_path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    world.clock.set(now + timedelta(minutes=1))
    world.ca.crl(world.clock)  # `eproc ca crl`: the CA ignores the forged file, reads the edited table

    result = _submit(world, scenario, deadline - timedelta(minutes=10), price_coefficient=Decimal("0.90"))
    assert not result.accepted and _refusal_detail(world) == "CERT_REVOKED"


def test_r05_a_rewritten_crl_record_in_the_store_is_refused(tmp_path):
    """The insider drops the audit log's triggers and replaces the stored CRL with a forged one."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    world, scenario = world_with_bids(tmp_path)
    deadline = scenario.tender.deadline
    _revoke_signatory(world, scenario, deadline - timedelta(minutes=15))
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = deadline - timedelta(minutes=14)
    forged = (x509.CertificateRevocationListBuilder().issuer_name(world.ca.certificate.subject)
              .last_update(now).next_update(now + timedelta(days=7))
              .add_extension(x509.CRLNumber(1000), critical=False).sign(attacker, hashes.SHA256()))
    payload = json.dumps({"crl_der": base64.b64encode(forged.public_bytes(serialization.Encoding.DER)).decode()})
    db = sqlite3.connect(world.base_dir / "eproc.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'"
                              ).fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    db.execute("UPDATE audit_log SET payload_json=? WHERE action='certificate.revocation_listed'", (payload,))
    db.execute("UPDATE certificates SET revoked_at=NULL, revoke_reason=NULL")
    db.commit()
    db.close()

    result = _submit(world, scenario, deadline - timedelta(minutes=10))
    assert not result.accepted and _refusal_detail(world) == "CERT_UNTRUSTED"


def test_r05_a_bid_signed_after_revocation_with_a_backdated_time_is_refused(tmp_path):
    """The revoked key's holder sets its machine's clock to the day before the revocation."""
    from domain.clock import SimulatedClock

    world, scenario = world_with_bids(tmp_path)
    deadline = scenario.tender.deadline
    revoked_at = deadline - timedelta(minutes=15)
    _revoke_signatory(world, scenario, revoked_at)

    result = _submit(world, scenario, deadline - timedelta(minutes=10), SimulatedClock(revoked_at - timedelta(days=1)))
    assert not result.accepted and result.reason.value == "BIDDER_SIGNATURE_INVALID"
    assert _refusal_detail(world) == "SIGNING_TIME_SKEW"

    # Back-dated by less than the skew, across the revocation: judged at receipt, so revoked.
    result = _submit(world, scenario, revoked_at + timedelta(minutes=2), SimulatedClock(revoked_at - timedelta(minutes=2)))
    assert not result.accepted and _refusal_detail(world) == "CERT_REVOKED"


def test_r05_the_skew_is_the_policys(tmp_path):
    """A bidder's clock four minutes slow is within the default 5 minutes; with 3 in the policy it is not."""
    from decimal import Decimal

    from domain.clock import SimulatedClock

    world, scenario = world_with_bids(tmp_path)
    at = scenario.tender.deadline - timedelta(minutes=10)
    result = _submit(world, scenario, at, SimulatedClock(at - timedelta(minutes=4)), Decimal("0.93"))
    assert result.accepted
    policy = world.deps.policy
    world.deps.policy = policy.model_copy(update={"defaults": policy.defaults.model_copy(
        update={"signing_time_skew_minutes": 3})})
    result = _submit(world, scenario, at + timedelta(minutes=1), SimulatedClock(at - timedelta(minutes=3)),
                     Decimal("0.92"))
    assert not result.accepted and _refusal_detail(world) == "SIGNING_TIME_SKEW"


def test_r05_bids_received_before_a_revocation_open_normally(tmp_path):
    """The signatory's certificate is revoked after the deadline: the bid it signed before, received
    before, is still judged valid at the opening (its stored receipt time), and still wins."""

    world, scenario = world_with_bids(tmp_path)
    _revoke_signatory(world, scenario, scenario.tender.deadline + timedelta(hours=1))
    outcome = open_with_members(world, scenario)
    assert outcome.evaluation.bids[BIDDER].reason is None
    assert outcome.evaluation.award.winner == BIDDER


def test_r05_choosing_a_members_certificate_can_follow_the_crl(tmp_path):
    """current_certificate with the trust store ignores a database un-revocation."""
    from services.signers import current_certificate, trust_store

    world, scenario = world_with_bids(tmp_path)
    at = scenario.tender.deadline - timedelta(minutes=15)
    nid = _revoke_signatory(world, scenario, at)
    _sql(world, "UPDATE certificates SET revoked_at=NULL, revoke_reason=NULL")
    later = at + timedelta(minutes=1)
    assert current_certificate(world.deps.sessions, nid, later) is not None  # the column alone: fooled
    assert current_certificate(world.deps.sessions, nid, later,
                               trust_store(world.deps.ca_cert, world.deps.sessions)) is None
