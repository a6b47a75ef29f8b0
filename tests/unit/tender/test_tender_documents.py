"""Article 13 minutes, their versions and finality, the Article 18 notification and the receipt."""
from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from lxml import etree
from tender_helpers import FORMULAS, PRICE_RULES, bid_of, load_scenario, members_of, price_list_of, spec_of

from domain.documents.minutes import NS, MinutesVersions, award_of, build_minutes, canonical_bytes, render_html
from domain.documents.notification import build_notification
from domain.documents.receipt import build_receipt, check_envelope, receipt_hashes, sha256_hex
from domain.documents.xmlcommon import body_digest, body_of
from domain.persian import parse_jalali_datetime
from domain.reasons import DomainError, Reason
from domain.tender.commission import session_participants
from domain.tender.evaluation import compute_estimate, evaluate_tender
from domain.tender.model import effective_bids
from domain.xmlsafe import parse_untrusted

DEFAULT_FORMULAS = tuple(FORMULAS.values())

SESSION = parse_jalali_datetime("1400/04/13 10:00")
Q = lambda name: f"{{{NS}}}{name}"  # noqa: E731


def _inputs():
    data = load_scenario("district-12-asphalt.toml")
    spec, pl = spec_of(data), price_list_of(data)
    estimate = compute_estimate(spec, pl, FORMULAS["estimate"])
    ev = evaluate_tender(spec, estimate.total_rial, effective_bids(spec, [bid_of(b) for b in data["bidders"]]),
                         PRICE_RULES)
    session = session_participants(members_of(data), {m["id"] for m in data["commission"]})
    return data, spec, estimate, ev, session


def _builder(session_at=SESSION):
    data, spec, estimate, ev, session = _inputs()
    return lambda version: build_minutes(spec, estimate, ev, DEFAULT_FORMULAS, session.participants,
                                         session_at, version)


def _versions():
    _, _, _, _, session = _inputs()
    signers = tuple(m.id for m in session.participants)  # every member taking part signs (R10)
    return MinutesVersions(signers, _builder()), signers


def test_r09_minutes_replay_is_byte_identical():
    first = canonical_bytes(_builder()(1))
    again = canonical_bytes(_builder()(1))
    assert first == again
    assert canonical_bytes(_builder()(2)) != first
    assert canonical_bytes(_builder(SESSION + dt.timedelta(minutes=1))(1)) != first


def test_r09_minutes_content_from_price_list_formulas_and_evaluation():
    data, spec, estimate, ev, session = _inputs()
    doc = parse_untrusted(canonical_bytes(_builder()(1)))
    body = body_of(doc)
    assert doc.tag == Q("Minutes") and body.get("Id") == "body" and body.get("version") == "1"
    pl = body.find(Q("PriceList"))
    assert (pl.get("id"), pl.get("version")) == (data["price_list"]["id"], "1")
    lines = body.find(Q("Estimate")).findall(Q("Line"))
    assert sum(int(ln.get("amount_rial")) for ln in lines) == int(body.find(Q("Estimate")).get("total_rial"))
    assert {(f.get("id"), f.get("version")) for f in body.find(Q("Formulas"))} == {
        (f.id, str(f.version)) for f in DEFAULT_FORMULAS}
    bids = {b.get("bidder"): b for b in body.find(Q("Bids"))}
    assert set(bids) == {b["id"] for b in data["bidders"]}
    b2_a = bids["b2"].find(Q("Envelope"))
    assert (b2_a.get("letter"), b2_a.get("status"), b2_a.get("reason")) == ("A", "rejected", "GUARANTEE_INSUFFICIENT")
    assert b2_a.text == Reason.GUARANTEE_INSUFFICIENT.message_fa
    aw = body.find(Q("Award"))
    assert (aw.get("winner"), aw.get("runner_up")) == (ev.award.winner, ev.award.runner_up)
    assert [r.get("bidder") for r in aw.findall(Q("Ranked"))] == [p.bidder_id for p in ev.award.ranking]
    assert [m.get("id") for m in body.find(Q("Attendees"))] == [m.id for m in session.participants]
    s = body.find(Q("Session"))
    assert (s.get("utc"), s.get("jalali")) == ("2021-07-04T05:30:00Z", "1400/04/13 10:00")
    assert award_of(doc).prices[ev.award.winner] == ev.bids[ev.award.winner].price_rial


def test_r09_minutes_body_is_what_an_xmldsig_signature_references():
    signxml = pytest.importorskip("signxml")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "m1")])
    start = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    pkey = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    doc = _builder()(1)
    signed = signxml.XMLSigner(signature_algorithm=signxml.SignatureMethod.ECDSA_SHA256).sign(
        doc, key=pkey, cert=pem, reference_uri="#body")
    assert [etree.QName(c).localname for c in signed] == ["Body", "Signature"]
    result = signxml.XMLVerifier().verify(signed, x509_cert=pem, expect_references=1)
    assert etree.QName(result.signed_xml).localname == "Body"
    assert body_digest(signed) == body_digest(doc)  # adding signatures leaves the signed part unchanged
    body_of(signed).find(Q("Award")).set("winner", "b1")
    with pytest.raises(signxml.exceptions.InvalidSignature):
        signxml.XMLVerifier().verify(signed, x509_cert=pem, expect_references=1)


def test_r10_minutes_final_only_when_every_participant_signed():
    versions, signers = _versions()
    for s in signers[:-1]:
        versions.record_signature(s, 1)
    assert not versions.is_final and versions.missing_signers == {signers[-1]}
    versions.record_signature(signers[-1], 1, valid=False)  # e.g. revoked certificate
    assert not versions.is_final
    with pytest.raises(DomainError) as exc:
        versions.require_final()
    assert exc.value.reason is Reason.QUORUM_NOT_MET
    versions.record_signature(signers[-1], 1)
    assert versions.is_final and versions.require_final() is versions.document


def test_r10_change_before_final_is_a_new_version_without_signatures():
    versions, signers = _versions()
    versions.record_signature(signers[0], 1)
    versions.record_signature(signers[1], 1)
    assert versions.revise() == 2
    assert versions.signed_by == frozenset() and body_of(versions.document).get("version") == "2"
    with pytest.raises(DomainError) as exc:
        versions.record_signature(signers[0], 1)  # a signature on the superseded version
    assert exc.value.reason is Reason.SIGNATURE_INVALID
    assert [v for v, _ in versions.history] == [1, 2]
    assert versions.history[0][1] != versions.history[1][1]


def test_r10_nothing_changes_after_final():
    versions, signers = _versions()
    for s in signers:
        versions.record_signature(s, 1)
    before = versions.canonical()
    for attempt in (versions.revise, lambda: versions.record_signature(signers[0], 1)):
        with pytest.raises(DomainError) as exc:
            attempt()
        assert exc.value.reason is Reason.MINUTES_FINAL
    assert versions.canonical() == before and versions.version == 1


def test_r10_only_participants_sign():
    versions, _ = _versions()
    with pytest.raises(DomainError) as exc:
        versions.record_signature("outsider", 1)
    assert exc.value.reason is Reason.SIGNER_NOT_IN_ROLE


def test_minutes_html_is_persian_rtl():
    _, _, _, ev, _ = _inputs()
    html = render_html(_builder()(1))
    tree = etree.fromstring(html.split("\n", 1)[1], etree.HTMLParser())
    assert tree.get("dir") == "rtl" and tree.get("lang") == "fa"
    assert "۱۴۰۰/۰۴/۱۳ ۱۰:۰۰" in html  # Jalali session time in Persian digits
    bid_table = tree.xpath("//h2[text()='پیشنهادها']/following-sibling::table[1]/tbody/tr")
    assert len(bid_table) == len(ev.bids)
    cells = [td.text for td in bid_table[0]]
    assert not re.search(r"[0-9]", "".join(c for c in cells[1:] if c))  # Persian digits only
    assert Reason.ABNORMALLY_LOW.message_fa in html
    assert "technical-civil/1400" in html  # identifiers keep their digits


def test_r11_notification_from_final_minutes():
    versions, signers = _versions()
    notified_at = parse_jalali_datetime("1400/04/14 09:00")
    with pytest.raises(DomainError) as exc:
        build_notification(versions, notified_at)
    assert exc.value.reason is Reason.WRONG_STAGE
    for s in signers:
        versions.record_signature(s, 1)
    award = award_of(versions.document)
    doc = parse_untrusted(canonical_bytes(build_notification(versions, notified_at)))
    body = body_of(doc)
    ns = etree.QName(doc).namespace
    price = award.prices[award.winner]
    assert body.find(f"{{{ns}}}Bidder").get("id") == award.winner
    assert int(body.find(f"{{{ns}}}Amount").get("rial")) == price
    assert int(body.find(f"{{{ns}}}PerformanceGuarantee").get("rial")) == (price * 5 + 50) // 100
    assert body.find(f"{{{ns}}}SigningDeadline").get("jalali") == "1400/04/21 09:00"
    assert body.find(f"{{{ns}}}Minutes").get("body_sha256") == body_digest(versions.document)
    runner = build_notification(versions, notified_at, award.runner_up)
    assert body_of(runner).find(f"{{{ns}}}Bidder").get("position") == "runner_up"
    with pytest.raises(DomainError) as exc:
        build_notification(versions, notified_at, "b5")
    assert exc.value.reason is Reason.INVALID_INPUT


def test_receipt_holds_each_envelope_hash_and_detects_tampering():
    sealed = {"A": b"sealed-a", "B": b"sealed-b", "C": b"sealed-c"}
    at = parse_jalali_datetime("1400/04/09 10:30")
    doc = build_receipt("T-1", "b1", at, {k: sha256_hex(v) for k, v in sealed.items()})
    assert canonical_bytes(doc) == canonical_bytes(
        build_receipt("T-1", "b1", at, {k: hashlib.sha256(v).hexdigest() for k, v in sealed.items()}))
    assert receipt_hashes(parse_untrusted(canonical_bytes(doc)))["C"] == hashlib.sha256(b"sealed-c").hexdigest()
    assert body_of(doc).get("Id") == "body"
    check_envelope(doc, "B", sealed["B"])
    with pytest.raises(DomainError) as exc:
        check_envelope(doc, "C", b"sealed-c!")
    assert exc.value.reason is Reason.ENVELOPE_TAMPERED
    with pytest.raises(DomainError):
        build_receipt("T-1", "b1", at, {"D": "0" * 64})
    with pytest.raises(DomainError):
        build_receipt("T-1", "b1", at, {"A": "not-a-hash"})
