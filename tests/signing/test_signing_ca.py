"""The municipal CA: enrolment on the token, renewal, revocation, CRL, registries."""
from __future__ import annotations

import shutil
import stat
import subprocess
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from signing_helpers import T0

from domain.clock import SimulatedClock
from domain.reasons import DomainError, Reason
from signing.ca import MunicipalCA
from signing.registry import CertificateRecord, InMemoryCertificateRegistry, JsonFileCertificateRegistry


def test_r04_ca_key_file_is_private(ca):
    mode = stat.S_IMODE((ca.ca_dir / "ca-key.pem").stat().st_mode)
    assert mode == 0o600


def test_r04_certificate_names_the_person_not_the_role(commission):
    person = commission["chair"]
    subject = person.cert.subject
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == person.national_id
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == person.full_name
    assert {a.oid for a in subject} == {NameOID.SERIAL_NUMBER, NameOID.COMMON_NAME}
    assert "chair" not in person.cert.public_bytes(Encoding.PEM).decode() and b"chair" not in person.cert.public_bytes(Encoding.DER)


def test_r04_enrolment_is_recorded_and_survives_reload(commission, ca):
    person = commission["finance"]
    reloaded = MunicipalCA.load(ca.ca_dir)
    record = reloaded.registry.get(person.cert.serial_number)
    assert record is not None
    assert (record.national_id, record.token_label, record.key_label) == (person.national_id, person.label, "sign")
    assert record.certificate() == person.cert
    assert reloaded.ca_certificate_pem() == ca.ca_certificate_pem()
    assert [r.serial for r in reloaded.registry.for_person(person.national_id)] == [person.cert.serial_number]


def test_r05_renewal_certifies_the_same_token_key(enroll, ca):
    person = enroll("بهناز فرهادی", valid_days=30)
    with person.token() as tok:
        renewed = ca.renew(person.cert.serial_number, tok, 365, SimulatedClock(T0 + timedelta(days=20)))
        on_token = tok.certificate(person.key_label)
    assert renewed.serial_number != person.cert.serial_number
    assert renewed.public_key().public_numbers() == person.cert.public_key().public_numbers()
    assert renewed.not_valid_after_utc > person.cert.not_valid_after_utc
    assert on_token == renewed.public_bytes(Encoding.DER)
    assert [r.serial for r in ca.registry.for_person(person.national_id)] == [
        person.cert.serial_number, renewed.serial_number]


def test_r05_revoked_certificate_is_not_renewed(enroll, ca):
    person = enroll("مهدی کاظمی")
    ca.revoke(person.cert.serial_number, "affiliationChanged", T0 + timedelta(days=1))
    with person.token() as tok, pytest.raises(DomainError) as err:
        ca.renew(person.cert.serial_number, tok, 365, SimulatedClock(T0 + timedelta(days=2)))
    assert err.value.reason is Reason.CERT_REVOKED


def test_r05_crl_lists_revocations_and_openssl_rejects_the_revoked_certificate(enroll, ca, tmp_path):
    person, other = enroll("فاطمه یزدانی"), enroll("جواد امینی")
    ca.revoke(person.cert.serial_number, "keyCompromise", T0 + timedelta(hours=1))
    crl = ca.crl(SimulatedClock(T0 + timedelta(hours=2)))

    assert crl.is_signature_valid(ca.certificate.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(person.cert.serial_number)
    assert entry is not None and entry.revocation_date_utc == T0 + timedelta(hours=1)
    assert crl.get_revoked_certificate_by_serial_number(other.cert.serial_number) is None
    assert x509.load_pem_x509_crl(ca.crl_path.read_bytes()) == crl

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    for p in (person, other):
        (tmp_path / f"{p.label}.pem").write_bytes(p.cert.public_bytes(Encoding.PEM))
    at = str(int((T0 + timedelta(hours=3)).timestamp()))

    def openssl_verify(p):
        return subprocess.run(["openssl", "verify", "-attime", at, "-crl_check", "-CAfile", str(ca.ca_cert_path),
                               "-CRLfile", str(ca.crl_path), str(tmp_path / f"{p.label}.pem")],
                              capture_output=True, text=True, check=False)

    assert openssl_verify(other).returncode == 0
    revoked = openssl_verify(person)
    assert revoked.returncode != 0 and "revoked" in (revoked.stdout + revoked.stderr)


def test_revocation_keeps_the_first_time_and_rejects_unknown_serials(enroll, ca):
    person = enroll("ناصر عباسی")
    ca.revoke(person.cert.serial_number, "superseded", T0 + timedelta(hours=1))
    ca.revoke(person.cert.serial_number, "superseded", T0 + timedelta(hours=5))
    assert ca.registry.get(person.cert.serial_number).revoked_at == T0 + timedelta(hours=1)
    with pytest.raises(DomainError) as err:
        ca.revoke(12345, "superseded", T0)
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError):
        ca.revoke(person.cert.serial_number, "because", T0)


def test_enrolment_refuses_an_invalid_national_id(hsm, ca):
    from signing_helpers import PIN, SO_PIN

    from signing.token import Token

    hsm.init_token("bad-id-token", PIN, SO_PIN)
    with Token("bad-id-token", pin=PIN) as tok, pytest.raises(DomainError) as err:
        ca.enroll("1234567890", "نام", tok, "sign", 365, SimulatedClock(T0))
    assert err.value.reason is Reason.INVALID_INPUT


@pytest.mark.parametrize("make", [lambda tmp: InMemoryCertificateRegistry(),
                                  lambda tmp: JsonFileCertificateRegistry(tmp / "certs.json")])
def test_registries_record_and_revoke(make, tmp_path):
    registry = make(tmp_path)
    a = CertificateRecord(1, "0010000003", "t1", "sign", "PEM-A", T0, T0 + timedelta(days=365))
    b = CertificateRecord(2, "0010000003", "t1", "sign", "PEM-B", T0 + timedelta(days=300), T0 + timedelta(days=665))
    registry.save(b)
    registry.save(a)
    registry.mark_revoked(1, T0 + timedelta(days=10), "superseded")
    assert [r.serial for r in registry.for_person("0010000003")] == [1, 2]
    assert registry.revocations() == [(1, T0 + timedelta(days=10))]
    assert registry.get(1).revoke_reason == "superseded" and registry.get(3) is None
    with pytest.raises(DomainError):
        registry.mark_revoked(3, T0, "superseded")
    if isinstance(registry, JsonFileCertificateRegistry):
        again = JsonFileCertificateRegistry(tmp_path / "certs.json")
        assert again.get(1) == registry.get(1) and again.get(2) == b
