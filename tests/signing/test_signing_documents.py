"""Signed documents: several signers, outside verification with xmlsec1, reason codes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from signing_helpers import T0, minutes_xml

from domain.clock import SimulatedClock
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from signing import xmldsig
from signing.verify import TrustStore, make_signer_ref, missing_roles, verify_document

UNIT = "district-2"


def sign_by(doc, person, role, clock, unit=UNIT):
    with person.token() as tok:
        return xmldsig.sign_document(doc, tok, person.key_label, person.cert, clock, make_signer_ref(role, unit))


def commission_minutes(commission, clock) -> bytes:
    doc = parse_untrusted(minutes_xml())
    for role, person in commission.items():
        doc = sign_by(doc, person, role, clock)
        clock.advance(timedelta(minutes=1))
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def trust_of(ca) -> TrustStore:
    return TrustStore([ca.certificate], ca.registry.revocations())


def test_r06_minutes_signed_by_three_members_verify_with_xmlsec1_and_ours(commission, ca, clock, roles,
                                                                         run_xmlsec1):
    signed = commission_minutes(commission, clock)

    for index in range(3):
        result = run_xmlsec1(signed, ca.ca_cert_path, index)
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("OK")

    checks = verify_document(signed, trust_of(ca), roles, required=[(r, UNIT) for r in commission])
    assert [c.reason for c in checks] == [None, None, None]
    assert [c.national_id for c in checks] == [p.national_id for p in commission.values()]
    assert [c.cert_serial for c in checks] == [p.cert.serial_number for p in commission.values()]
    assert [c.signing_time for c in checks] == [T0 + timedelta(hours=2, minutes=i) for i in range(3)]
    assert missing_roles(checks, [(r, UNIT) for r in commission] + [("security", UNIT)]) == [("security", UNIT)]
    # The canonical document itself is carried unchanged inside the envelope.
    content = xmldsig.content_of(parse_untrusted(signed))[0]
    assert (etree.tostring(content, method="c14n", exclusive=True)
            == etree.tostring(parse_untrusted(minutes_xml()), method="c14n", exclusive=True))


def test_r06_xmlsec1_checks_each_signature_on_its_own(commission, ca, clock, run_xmlsec1):
    signed = commission_minutes(commission, clock)
    doc = parse_untrusted(signed)
    value = xmldsig.signature_elements(doc)[1].find(f"{xmldsig._DS}SignatureValue")
    value.text = value.text[:10] + ("A" if value.text[10] != "A" else "B") + value.text[11:]
    broken = etree.tostring(doc)

    assert [run_xmlsec1(broken, ca.ca_cert_path, i).returncode == 0 for i in range(3)] == [True, False, True]


def test_r06_one_changed_character_is_signature_invalid(commission, ca, clock, roles, run_xmlsec1):
    signed = commission_minutes(commission, clock)
    tampered = signed.replace(b"12500000000", b"12500000001")
    assert tampered != signed

    checks = verify_document(tampered, trust_of(ca), roles)
    assert [c.reason for c in checks] == [Reason.SIGNATURE_INVALID] * 3
    assert run_xmlsec1(tampered, ca.ca_cert_path, 0).returncode != 0


def test_r06_signing_time_is_covered_by_the_signature(commission, ca, clock, roles, run_xmlsec1):
    signed = commission_minutes(commission, clock)
    backdated = signed.replace(b"2024-05-01T08:31:00Z", b"2024-05-01T08:21:00Z", 1)
    assert backdated != signed

    checks = verify_document(backdated, trust_of(ca), roles)
    assert [c.reason for c in checks] == [None, Reason.SIGNATURE_INVALID, None]
    assert run_xmlsec1(backdated, ca.ca_cert_path, 1).returncode != 0


def test_r06_signature_moved_to_another_document_is_invalid(commission, ca, clock, roles):
    signed = parse_untrusted(commission_minutes(commission, clock))
    other = parse_untrusted(minutes_xml().replace(b"B-7", b"B-9"))
    other = xmldsig.envelope(other)
    other.append(xmldsig.signature_elements(signed)[0])

    checks = verify_document(etree.tostring(other), trust_of(ca), roles)
    assert [c.reason for c in checks] == [Reason.SIGNATURE_INVALID]


def test_r05_revoked_certificate_cannot_sign(enroll, ca, roles, run_xmlsec1):
    person = enroll("رضا موسوی")
    roles.grant(person, "legal", UNIT, T0 - timedelta(days=1))
    ca.revoke(person.cert.serial_number, "affiliationChanged", T0 + timedelta(hours=1))
    crl_clock = SimulatedClock(T0 + timedelta(hours=1, minutes=30))
    ca.crl(crl_clock)

    before = sign_by(parse_untrusted(minutes_xml()), person, "legal", SimulatedClock(T0 + timedelta(minutes=30)))
    after = sign_by(parse_untrusted(minutes_xml()), person, "legal", SimulatedClock(T0 + timedelta(hours=2)))

    from_crl = TrustStore.from_pem_files([ca.ca_cert_path], [ca.crl_path])
    for trust in (from_crl, trust_of(ca)):
        assert [c.reason for c in verify_document(etree.tostring(after), trust, roles)] == [Reason.CERT_REVOKED]
        # A signature made before the revocation keeps counting.
        assert [c.reason for c in verify_document(etree.tostring(before), trust, roles)] == [None]


def test_r05_expired_certificate_cannot_sign(enroll, ca, roles, run_xmlsec1):
    person = enroll("نرگس جعفری", valid_days=1)
    roles.grant(person, "finance", UNIT, T0 - timedelta(days=1))
    signed = etree.tostring(sign_by(parse_untrusted(minutes_xml()), person, "finance",
                                    SimulatedClock(T0 + timedelta(days=2))))

    assert [c.reason for c in verify_document(signed, trust_of(ca), roles)] == [Reason.CERT_EXPIRED]
    # xmlsec1 agrees when it checks the certificate at the signing time.
    result = run_xmlsec1(signed, ca.ca_cert_path, 0)
    assert result.returncode != 0


def test_r05_certificate_from_another_ca_is_untrusted(enroll, ca, other_ca, roles, run_xmlsec1):
    stranger = enroll("کاربر بیرونی", authority=other_ca)
    roles.grant(stranger, "chair", UNIT, T0 - timedelta(days=1))
    signed = etree.tostring(sign_by(parse_untrusted(minutes_xml()), stranger, "chair",
                                    SimulatedClock(T0 + timedelta(hours=1))))

    assert [c.reason for c in verify_document(signed, trust_of(ca), roles)] == [Reason.CERT_UNTRUSTED]
    assert run_xmlsec1(signed, ca.ca_cert_path, 0).returncode != 0
    # The same signature is fine for someone who trusts the other CA.
    assert [c.reason for c in verify_document(signed, trust_of(other_ca), roles)] == [None]
    assert run_xmlsec1(signed, other_ca.ca_cert_path, 0).returncode == 0


def test_r05_signer_who_left_the_role_cannot_sign(enroll, ca, roles):
    person = enroll("حسین نوری")
    roles.grant(person, "technical", UNIT, T0 - timedelta(days=60), end=T0)
    signed = etree.tostring(sign_by(parse_untrusted(minutes_xml()), person, "technical",
                                    SimulatedClock(T0 + timedelta(hours=1))))

    assert [c.reason for c in verify_document(signed, trust_of(ca), roles)] == [Reason.SIGNER_NOT_IN_ROLE]


def test_r05_role_claim_outside_the_required_roles_is_refused(commission, ca, clock, roles):
    signed = etree.tostring(sign_by(parse_untrusted(minutes_xml()), commission["chair"], "chair", clock))

    checks = verify_document(signed, trust_of(ca), roles, required=[("chair", "district-12")])
    assert [c.reason for c in checks] == [Reason.SIGNER_NOT_IN_ROLE]


def test_r07_treasurer_signs_status_statement_electronically(enroll, ca, roles):
    treasurer = enroll("زهرا صادقی")
    roles.grant(treasurer, "treasurer", "district-22", T0 - timedelta(days=10))
    statement = parse_untrusted(b"<StatusStatement contract='C-1403-118' cumulative='98000000'/>")
    signed = etree.tostring(sign_by(statement, treasurer, "treasurer", SimulatedClock(T0), unit="district-22"))

    checks = verify_document(signed, trust_of(ca), roles, required=[("treasurer", "district-22")])
    assert [(c.reason, c.role, c.unit) for c in checks] == [(None, "treasurer", "district-22")]


def test_r04_token_removed_between_signatures_keeps_earlier_signature(enroll, hsm, ca, clock, roles):
    first, second = enroll("امیر حسینی"), enroll("لیلا قاسمی")
    roles.grant(first, "chair", UNIT, T0 - timedelta(days=1))
    doc = sign_by(parse_untrusted(minutes_xml()), first, "chair", clock)
    before = etree.tostring(doc)

    with second.token() as tok:
        hsm.delete_token(second.label)
        with pytest.raises(DomainError) as err:
            xmldsig.sign_document(doc, tok, second.key_label, second.cert, clock, "finance@district-2")
    assert err.value.reason is Reason.TOKEN_NOT_FOUND
    assert etree.tostring(doc) == before
    assert [c.reason for c in verify_document(before, trust_of(ca), roles)] == [None]


def test_r04_token_pulled_out_during_signing_leaves_nothing_half_written(enroll, hsm, clock):
    person = enroll("پرویز شریفی")
    doc = xmldsig.envelope(parse_untrusted(minutes_xml()))
    before = etree.tostring(doc)

    with person.token() as tok:
        original = tok.public_key

        def public_key_then_pull_out(key_label):
            key = original(key_label)
            hsm.delete_token(person.label)  # gone after the checks, before the token signs
            return key

        tok.public_key = public_key_then_pull_out
        with pytest.raises(DomainError) as err:
            xmldsig.sign_document(doc, tok, person.key_label, person.cert, clock, "chair@district-2")
    assert err.value.reason is Reason.TOKEN_NOT_FOUND
    assert etree.tostring(doc) == before


def test_signing_with_a_certificate_of_another_key_is_refused(commission, clock):
    chair, finance = commission["chair"], commission["finance"]
    doc = xmldsig.envelope(parse_untrusted(minutes_xml()))
    with chair.token() as tok, pytest.raises(DomainError) as err:
        xmldsig.sign_document(doc, tok, chair.key_label, finance.cert, clock, "chair@district-2")
    assert err.value.reason is Reason.INVALID_INPUT
    assert xmldsig.signature_elements(doc) == []


def test_signatures_lists_what_each_signature_claims(commission, clock):
    doc = parse_untrusted(commission_minutes(commission, clock))
    infos = xmldsig.signatures(doc)
    assert [(i.signature_id, i.signer_ref, i.national_id) for i in infos] == [
        (f"sig-{n + 1}", f"{role}@{UNIT}", person.national_id)
        for n, (role, person) in enumerate(commission.items())]


def test_malformed_xml_is_refused(ca, roles):
    with pytest.raises(DomainError) as err:
        verify_document(b"<SignedDocument><Content></SignedDocument>", trust_of(ca), roles)
    assert err.value.reason is Reason.MALFORMED_XML


def test_external_entity_is_refused(ca, roles):
    xml = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<r>&x;</r>')
    with pytest.raises(DomainError) as err:
        verify_document(xml, trust_of(ca), roles)
    assert err.value.reason is Reason.MALFORMED_XML


def test_document_without_signed_content_is_malformed(ca, roles):
    with pytest.raises(DomainError) as err:
        verify_document(minutes_xml(), trust_of(ca), roles)
    assert err.value.reason is Reason.MALFORMED_XML


def test_r05_signature_by_a_bare_key_without_certificate_is_refused(ca, roles, run_xmlsec1):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from signxml import SignatureConstructionMethod, XMLSigner

    doc = xmldsig.envelope(parse_untrusted(minutes_xml()))
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = XMLSigner(method=SignatureConstructionMethod.detached, c14n_algorithm=xmldsig.EXC_C14N)
    doc.append(signer.sign(doc, key=forger, reference_uri=["#content"]))  # KeyInfo holds a bare KeyValue
    forged = etree.tostring(doc)

    assert [c.reason for c in verify_document(forged, trust_of(ca), roles)] == [Reason.SIGNATURE_INVALID]
    # xmlsec1 too, because the documented command accepts keys only from trusted certificates.
    assert run_xmlsec1(forged, ca.ca_cert_path, 0, at=T0).returncode != 0
