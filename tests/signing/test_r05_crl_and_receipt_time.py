"""R05 in the signing layer: revocation comes from the CA-signed CRL (verified itself), and a
signature is judged at the time the system received it, not at the time its signer claims.

Each test plays the attacker: a revoked key signing with a back-dated clock, a CRL signed by another
key under the CA's name, a CRL with impossible times, a registry whose revocation was edited away."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signing_helpers import T0, minutes_xml

from domain.clock import SimulatedClock
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from signing import xmldsig
from signing.verify import TrustStore, make_signer_ref, verify_document

UNIT = "district-2"
SKEW = timedelta(minutes=5)


def signed_at(person, role: str, claimed: datetime) -> bytes:
    """`person` signs the minutes on their token with their machine's clock set to `claimed`."""
    with person.token() as tok:
        doc = xmldsig.sign_document(parse_untrusted(minutes_xml()), tok, person.key_label, person.cert,
                                    SimulatedClock(claimed), make_signer_ref(role, UNIT))
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def reasons(xml: bytes, trust: TrustStore, roles, received_at: datetime | None = None) -> list[Reason | None]:
    extra = {"received_at": received_at, "max_skew": SKEW} if received_at is not None else {}
    return [c.reason for c in verify_document(xml, trust, roles, **extra)]


def crl_trust(ca) -> TrustStore:
    # The CA fixture is shared by the session: whichever test runs first on a worker, a CRL exists.
    if not ca.crl_path.exists():
        ca.crl(SimulatedClock(T0))
    return TrustStore.from_pem_files([ca.ca_cert_path], [ca.crl_path])


@pytest.fixture
def revoked(enroll, ca, roles):
    """A legal member whose certificate the CA revoked at T0+1h and published in its CRL."""
    person = enroll("مهدی صادقی")
    roles.grant(person, "legal", UNIT, T0 - timedelta(days=1))
    ca.revoke(person.cert.serial_number, "keyCompromise", T0 + timedelta(hours=1))
    ca.crl(SimulatedClock(T0 + timedelta(hours=1, minutes=1)))
    return person


def test_r05_backdated_signature_by_a_revoked_key_is_refused(revoked, ca, roles):
    """Signed at T0+2h by the revoked key, claiming T0+30min: what the claim alone would accept."""
    forged = signed_at(revoked, "legal", T0 + timedelta(minutes=30))
    trust = crl_trust(ca)
    assert reasons(forged, trust, roles) == [None]  # judged at the claimed time: the hole
    assert reasons(forged, trust, roles, received_at=T0 + timedelta(hours=2)) == [Reason.SIGNING_TIME_SKEW]


def test_r05_revocation_judged_at_receipt_within_the_skew(revoked, ca, roles):
    """Back-dated by less than the skew, across the revocation: judged at receipt, so revoked."""
    forged = signed_at(revoked, "legal", T0 + timedelta(minutes=58))
    assert reasons(forged, crl_trust(ca), roles, received_at=T0 + timedelta(hours=1, minutes=2)) \
        == [Reason.CERT_REVOKED]


def test_r05_a_signature_received_before_the_revocation_stays_valid(revoked, ca, roles):
    honest = signed_at(revoked, "legal", T0 + timedelta(minutes=30))
    received = T0 + timedelta(minutes=31)
    # Verified again long after the revocation, with its stored receipt time.
    assert reasons(honest, crl_trust(ca), roles, received_at=received) == [None]


def test_r05_a_future_signing_time_is_skew(enroll, ca, roles):
    person = enroll("پریسا نوری")
    roles.grant(person, "finance", UNIT, T0 - timedelta(days=1))
    xml = signed_at(person, "finance", T0 + timedelta(hours=3))
    assert reasons(xml, crl_trust(ca), roles, received_at=T0 + timedelta(hours=2)) == [Reason.SIGNING_TIME_SKEW]
    assert reasons(xml, crl_trust(ca), roles, received_at=T0 + timedelta(hours=2, minutes=56)) == [None]


def test_r05_expiry_and_role_are_judged_at_receipt(enroll, ca, roles):
    short = enroll("کامران یزدی", valid_days=1)  # valid until T0 + 1 day
    roles.grant(short, "technical", UNIT, T0 - timedelta(days=1))
    late = signed_at(short, "technical", T0 + timedelta(days=1) - timedelta(minutes=2))
    assert reasons(late, crl_trust(ca), roles) == [None]
    assert reasons(late, crl_trust(ca), roles, received_at=T0 + timedelta(days=1, minutes=2)) == [Reason.CERT_EXPIRED]

    leaving = enroll("سیما قاسمی")
    roles.grant(leaving, "finance", UNIT, T0 - timedelta(days=1), T0 + timedelta(hours=4))
    claimed = signed_at(leaving, "finance", T0 + timedelta(hours=4) - timedelta(minutes=1))
    assert reasons(claimed, crl_trust(ca), roles) == [None]
    assert reasons(claimed, crl_trust(ca), roles, received_at=T0 + timedelta(hours=4, minutes=1)) \
        == [Reason.SIGNER_NOT_IN_ROLE]


def test_r05_minutes_signed_in_a_sitting_are_judged_from_its_start_to_the_last_arrival(enroll, ca, roles):
    first, second = enroll("حمید امینی"), enroll("لیلا رستمی")
    roles.grant(first, "chair", UNIT, T0 - timedelta(days=1))
    roles.grant(second, "finance", UNIT, T0 - timedelta(days=1))
    doc = parse_untrusted(minutes_xml())
    for person, role, minute in ((first, "chair", 0), (second, "finance", 20)):
        with person.token() as tok:
            doc = xmldsig.sign_document(doc, tok, person.key_label, person.cert,
                                        SimulatedClock(T0 + timedelta(minutes=minute)), make_signer_ref(role, UNIT))
    xml = etree.tostring(doc)
    end = T0 + timedelta(minutes=21)
    assert [c.reason for c in verify_document(xml, crl_trust(ca), roles, received_at=end, max_skew=SKEW)] \
        == [Reason.SIGNING_TIME_SKEW, None]
    assert [c.reason for c in verify_document(xml, crl_trust(ca), roles, received_at=end, max_skew=SKEW,
                                              received_from=T0)] == [None, None]


def test_r05_receipt_time_needs_a_skew_and_a_zone(enroll, ca, roles):
    xml = signed_at(enroll("مینا شریفی"), "legal", T0)
    with pytest.raises(DomainError) as err:
        verify_document(xml, crl_trust(ca), roles, received_at=T0)
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError):
        verify_document(xml, crl_trust(ca), roles, received_at=T0.replace(tzinfo=None), max_skew=SKEW)


def _crl(issuer_name: x509.Name, key: rsa.RSAPrivateKey, this_update: datetime, next_update: datetime,
         revoked: list[tuple[int, datetime]] = (), number: int | None = 99) -> x509.CertificateRevocationList:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer_name)
               .last_update(this_update).next_update(next_update))
    if number is not None:
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return builder.sign(key, hashes.SHA256())


def test_r05_a_forged_crl_is_refused(revoked, enroll, ca, roles, tmp_path):
    """An empty CRL under the CA's name, signed by another key, put where the CRL is read."""
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = T0 + timedelta(hours=3)
    forged = _crl(ca.certificate.subject, attacker, now, now + timedelta(days=7))
    path = tmp_path / "crl.pem"
    path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(DomainError) as err:
        TrustStore.from_pem_files([ca.ca_cert_path], [path])
    assert err.value.reason is Reason.CERT_UNTRUSTED

    late = signed_at(revoked, "legal", T0 + timedelta(hours=2))
    received = T0 + timedelta(hours=2, minutes=1)
    der = forged.public_bytes(serialization.Encoding.DER)
    assert reasons(late, TrustStore([ca.certificate], crl_source=lambda serial: [der]), roles,
                   received_at=received) == [Reason.CERT_UNTRUSTED]


def test_r05_a_genuine_crl_recorded_for_a_serial_it_does_not_list_is_refused(enroll, ca, roles):
    """An older genuine CRL put in the place of the one that listed the serial: refused, not read
    as "not revoked"."""
    person = enroll("بهرام کاظمی")
    roles.grant(person, "legal", UNIT, T0 - timedelta(days=1))
    other = ca.crl(SimulatedClock(T0 + timedelta(hours=3))).public_bytes(serialization.Encoding.DER)
    xml = signed_at(person, "legal", T0 + timedelta(hours=4))
    trust = TrustStore([ca.certificate], crl_source=lambda serial: [other])
    assert reasons(xml, trust, roles, received_at=T0 + timedelta(hours=4)) == [Reason.CERT_UNTRUSTED]
    assert reasons(xml, TrustStore([ca.certificate], crl_source=lambda serial: []), roles,
                   received_at=T0 + timedelta(hours=4)) == [None]


@pytest.mark.parametrize("case", ["next_not_after_this", "entry_after_issue", "before_ca", "no_number"])
def test_r05_a_crl_with_impossible_times_is_refused(ca, case):
    """Signed with the CA's own key (a stolen signing oracle, a buggy tool): still refused."""
    now = T0 + timedelta(hours=3)
    this_update, next_update, revoked, number = now, now + timedelta(days=7), [(12345, now)], 7
    if case == "next_not_after_this":
        next_update = this_update
    elif case == "entry_after_issue":
        revoked = [(12345, now + timedelta(hours=1))]
    elif case == "before_ca":
        this_update = ca.certificate.not_valid_before_utc - timedelta(days=1)
    else:
        number = None
    crl = _crl(ca.certificate.subject, ca._key, this_update, next_update, revoked, number)
    with pytest.raises(DomainError) as err:
        TrustStore([ca.certificate]).add_crl(crl)
    assert err.value.reason is Reason.CERT_UNTRUSTED


def test_r05_the_ca_keeps_a_published_revocation_when_its_registry_forgets_it(revoked, ca):
    """The registry's revocation is edited away (the database column an insider can write): the
    next CRL still lists the serial, because the CA carries its previous CRL's entries forward."""
    serial = revoked.cert.serial_number
    record = ca.registry.get(serial)
    ca.registry._records[serial] = replace(record, revoked_at=None, revoke_reason=None)
    try:
        crl = ca.crl(SimulatedClock(T0 + timedelta(hours=5)))
    finally:
        ca.registry._records[serial] = record
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None and entry.revocation_date_utc == T0 + timedelta(hours=1)
    assert ca.registry.revocation_lists(serial)  # the first CRL listing it was handed to the registry


def test_r05_skew_default_comes_from_the_policy():
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY

    policy = load_policy(BUNDLED_POLICY)
    assert policy.signing_time_skew() == timedelta(minutes=5)
    assert policy.model_copy(update={"defaults": policy.defaults.model_copy(
        update={"signing_time_skew_minutes": 2})}).signing_time_skew() == timedelta(minutes=2)
