"""Price lists and formulas approved by token, tenders from a tender file, the signed notice and bids
over the API (issue 11 parts 3 and 4), in process on the pilot world of tests/api/conftest.py: each
person signs on their own SoftHSM token, the server verifies at receipt. The separate-process version
is tests/e2e/test_r01_tender_announced_and_bid_from_separate_stations.py."""
from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from domain.documents.notice import TenderRequest, build_tender_request, read_notice
from domain.documents.pricelist import (
    FormulaApproval,
    PriceItem,
    PriceListApproval,
    PriceListContent,
    build_formula_approval,
    build_price_list_approval,
    build_price_list_import,
    items_digest,
)
from domain.persian import format_jalali_date, format_jalali_datetime
from services.auth import Challenge, sign_session_request
from services.tender.files import BidFile, pack_bid_file
from signing.xmldsig import envelope

XML = {"content-type": "application/xml"}
UNIT = "district-12"
LIST_ID = "technical-civil/1400-api"
ITEMS = (PriceItem("010101", "m3", 1_250_000), PriceItem("020305", "m2", 480_000))
FORMULAS = ("estimate", "abnormally-low", "guarantee")


# --- helpers ----------------------------------------------------------------------------------------

def login(client, signer, role: str, unit: str, clock) -> dict[str, str]:
    r = client.post("/v1/auth/challenge", json={"national_id": signer.national_id})
    assert r.status_code == 200, r.text
    b = r.json()
    ch = Challenge(b["challenge_id"], b["nonce"], signer.national_id, datetime.fromisoformat(b["expires_at"]))
    r = client.post("/v1/auth/session", content=sign_session_request(signer, clock, ch, role, unit), headers=XML)
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def signed(signer, doc, clock, role: str, unit: str) -> bytes:
    return etree.tostring(signer.sign(doc, clock, role, unit), xml_declaration=True, encoding="UTF-8")


def refused(r, status: int, reason: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"reason", "message_fa", "detail"} and body["reason"] == reason, body
    return body


def tender_file(world, tender_id: str, announce_at: datetime, deadline: datetime, opening: datetime,
                kind: str = "tender", list_id: str = LIST_ID, extra: str = "") -> bytes:
    members = "\n".join(
        f'[[commission]]\nid = "{m.id}"\nrole = "{m.role}"\nname = "{m.name}"\nnational_id = "{m.national_id}"\n'
        for m in world.scenario.commission)
    return f'''[price_list]
id = "{list_id}"
version = 1

[tender]
id = "{tender_id}"
kind = "{kind}"
procedure = "one_stage"
unit = "{UNIT}"
title = "بهسازی آسفالت معابر — آزمون رابط"
items = [ {{ code = "010101", quantity = 9000 }}, {{ code = "020305", quantity = 5000 }} ]
guarantee_rial = "۶۵۰٬۰۰۰٬۰۰۰"
guarantee_valid_until = "{format_jalali_date(opening + timedelta(days=90))}"
announce_at = "{format_jalali_datetime(announce_at)}"
deadline = "{format_jalali_datetime(deadline)}"
opening_at = "{format_jalali_datetime(opening)}"
required_documents = ["grade_certificate"]
allowed_grades = [1, 2, 3]
{extra}
{members}'''.encode()


@dataclasses.dataclass
class Parties:
    world: object
    client: object
    clock: object
    officer: object
    deputy: object
    chair: object
    ca_pem: bytes

    def bidder(self, bidder_id: str):
        sc = self.world.scenario
        b = next(x for x in sc.bidders if x.id == bidder_id)
        return self.world.signer(self.world.bidder_signatory[bidder_id]), b.national_id


@pytest.fixture(scope="module")
def settings(auth_world):
    from config.settings import Settings

    return Settings(data_dir=auth_world.data_dir, api_secret=None, api_session_minutes=15, api_challenge_seconds=120)


@pytest.fixture(scope="module")
def parties(auth_world, settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    w = auth_world.world
    start = w.clock.now()
    client = TestClient(create_app(w.deps, settings=settings), raise_server_exceptions=False)
    with client:
        yield Parties(w, client, w.clock, w.signer(w.staff["contracts_officer"]), w.signer(w.staff["deputy"]),
                      w.signer(w.member_nid["m1"]), w.ca.certificate.public_bytes(serialization.Encoding.PEM))
    w.clock.set(start)


@pytest.fixture(scope="module")
def approved(parties):
    """The price list imported by the operator and approved by the deputy, and the tender formulas approved."""
    p = parties
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)
    content = PriceListContent(LIST_ID, 1, "civil", ITEMS)
    r = p.client.post("/v1/pricelists", headers={**op, **XML},
                      content=signed(p.officer, build_price_list_import(content), p.clock, "contracts_officer", UNIT))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "imported" and r.json()["items_sha256"] == items_digest(ITEMS)
    dep = login(p.client, p.deputy, "deputy", UNIT, p.clock)
    path = f"/v1/pricelists/{quote(LIST_ID, safe='/')}/versions/1"
    shown = p.client.get(path, headers=dep).json()
    approval = build_price_list_approval(PriceListApproval(LIST_ID, 1, shown["domain"], shown["items_sha256"],
                                                           "TC-1400-API"))
    r = p.client.post(path + "/approval", headers={**dep, **XML},
                      content=signed(p.deputy, approval, p.clock, "deputy", UNIT))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    assert r.json()["approval"]["national_id"] == p.deputy.national_id
    assert r.json()["approval"]["technical_council_ref"] == "TC-1400-API"
    for fid in FORMULAS:
        entry = p.world.policy.formula(fid)
        doc = build_formula_approval(FormulaApproval(fid, entry.version, entry.expression, "TC-1399-118"))
        r = p.client.post(f"/v1/formulas/{fid}/versions/{entry.version}/approval", headers={**dep, **XML},
                          content=signed(p.deputy, doc, p.clock, "deputy", UNIT))
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    return p


@pytest.fixture(scope="module")
def announced(approved):
    """Tender T-API-1 created by the operator and its notice signed by the chair and published."""
    p = approved
    now = p.clock.now()
    data = tender_file(p.world, "T-API-1", now, now + timedelta(days=12), now + timedelta(days=13))
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)
    req = build_tender_request(TenderRequest("T-API-1", UNIT, "t-api-1.toml", data))
    r = p.client.post("/v1/tenders", headers={**op, **XML},
                      content=signed(p.officer, req, p.clock, "contracts_officer", UNIT))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "created" and r.json()["estimate_rial"] == 13_650_000_000
    chair = login(p.client, p.chair, "chair", UNIT, p.clock)
    draft = p.client.get("/v1/tenders/T-API-1/notice/draft", headers=chair)
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("application/xml"), draft.text
    from domain.xmlsafe import parse_untrusted

    root = parse_untrusted(draft.content)
    r = p.client.post("/v1/tenders/T-API-1/notice", headers={**chair, **XML},
                      content=signed(p.chair, root, p.clock, "chair", UNIT))
    assert r.status_code == 201, r.text
    return p, r.content


# --- the path that works ------------------------------------------------------------------------------

def test_r09_a_price_list_is_usable_only_after_the_deputys_token_approval(approved):
    p = approved
    with p.world.deps.uow() as uow:
        row = uow.price_lists.get(LIST_ID, 1)
        assert row is not None and row.technical_council_ref == "TC-1400-API"
        assert p.deputy.national_id in row.approved_by
        approval = uow.approvals.get("price_list", LIST_ID, 1)
        assert approval.signer_national_id == p.deputy.national_id and approval.signer_role == "deputy"
        assert b"PriceListApproval" in approval.xml
        assert uow.audit.last("pricelist.approved", f"{LIST_ID}@1") is not None


def test_r09_importing_and_approving_an_approved_list_again_changes_nothing(approved):
    """The same import and the same approval sent again (a station's retry, a rehearsal's rerun) answer
    with the stored status; on SQLite this once waited on its own write lock ("database is locked")."""
    p = approved
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)
    content = PriceListContent(LIST_ID, 1, "civil", ITEMS)
    with p.world.deps.uow() as uow:
        entries = len(list(uow.audit.entries()))
    r = p.client.post("/v1/pricelists", headers={**op, **XML},
                      content=signed(p.officer, build_price_list_import(content), p.clock, "contracts_officer", UNIT))
    assert r.status_code == 201 and r.json()["status"] == "approved", r.text
    dep = login(p.client, p.deputy, "deputy", UNIT, p.clock)
    path = f"/v1/pricelists/{quote(LIST_ID, safe='/')}/versions/1"
    approval = build_price_list_approval(PriceListApproval(LIST_ID, 1, "technical-civil", items_digest(ITEMS),
                                                           "TC-1400-API"))
    r = p.client.post(path + "/approval", headers={**dep, **XML},
                      content=signed(p.deputy, approval, p.clock, "deputy", UNIT))
    assert r.status_code == 200 and r.json()["approval"]["technical_council_ref"] == "TC-1400-API", r.text
    with p.world.deps.uow() as uow:
        actions = [e.action for e in list(uow.audit.entries())[entries:]]
    assert not [a for a in actions if a.startswith("pricelist.")]  # nothing imported or approved again


def test_r02_the_published_notice_is_signed_by_the_chair_and_the_engine_and_states_the_rules(announced):
    from signing.outside import verify_all_with_xmlsec1, xmlsec1_available
    from stations.verify import verify_notice

    p, xml = announced
    content = verify_notice(xml, p.ca_pem)
    assert content.tender_id == "T-API-1" and content.unit == UNIT and content.estimate_rial == 13_650_000_000
    assert content.rules["electronic_minutes_mandatory"] is True
    assert "امضای الکترونیکی" in content.text
    assert {m.id for m in content.members} == {"m1", "m2", "m3", "m4", "m5"}
    # Every holder of a part is named with the certificate parts are wrapped to (issue 12); the legal
    # member holds no part of the opening keys.
    holders = {mid for ids in content.seats.values() for mid in ids}
    assert holders == {"m1", "m2", "m3", "m5"} and content.threshold >= 1
    assert all(m.certificate_serial and len(m.certificate_sha256) == 64 and m.certificate_b64
               for m in content.members if m.id in holders)
    assert "national_id" not in xml.decode()  # national IDs of the commission are not published
    public = p.client.get("/v1/tenders/T-API-1/notice")
    assert public.status_code == 200 and public.content == xml
    assert p.client.get("/v1/tenders/T-API-1").json()["status"] == "announced"
    notices = p.world.deps.portal.notices("T-API-1")
    assert [d.name for d in notices[0].documents] == ["tender-documents.json", "notice.xml"]
    assert p.world.deps.portal.download("T-API-1", "notice.xml") == xml
    if xmlsec1_available():
        assert [ok for _, ok, _ in verify_all_with_xmlsec1(xml, p.ca_pem)] == [True, True]
    # the chair's notice is the draft the engine built: a tampered one is refused
    with p.world.deps.uow() as uow:
        assert uow.tenders.get("T-API-1").announced_at == content.announced_at


def _bid(p, bidder_id: str, company_id: str, signer, notice_xml: bytes, price: str = "0.95",
         bidder_ref: str | None = None, tender: str = "T-API-1") -> bytes:
    from pilot.bidders import seal_and_sign
    from sealing import content as sc
    from stations.bidder import seal_from_notice
    from stations.verify import notice_seats, verify_notice

    contents = {"A": sc.encode_envelope(sc.envelope_from_dict("A", {"guarantee": {
                    "amount_rial": 650_000_000, "valid_until": "1400/09/30"}})),
                "B": sc.encode_envelope(sc.envelope_from_dict("B", {"documents": ["grade_certificate"], "grade": 2})),
                "C": sc.encode_envelope(sc.EnvelopeC.by_coefficient(price))}
    ref = bidder_ref or bidder_id
    content = verify_notice(notice_xml, p.ca_pem)
    if content.tender_id == tender:
        bid, _content = seal_from_notice(tender, ref, company_id, contents, notice_xml, p.ca_pem, signer, p.clock)
    else:  # a bid for another tender dealt to this notice's seats: the server must refuse it
        sealed, manifest = seal_and_sign(tender, ref, company_id, contents, notice_seats(content, p.ca_pem, p.clock.now()),
                                         signer, p.clock)
        bid = BidFile(tender, ref, company_id, sealed, manifest)
    return pack_bid_file(bid)


def test_r07_bids_get_verified_receipts_another_company_cannot_replace_and_late_is_refused(announced):
    from services.tender.files import read_bid_file
    from stations.verify import verify_receipt

    p, xml = announced
    s1, c1 = p.bidder("b1")
    s2, c2 = p.bidder("b2")
    p.clock.advance(timedelta(days=1))
    h1 = login(p.client, s1, "company_signatory", c1, p.clock)
    body = _bid(p, "b1", c1, s1, xml)
    r = p.client.post("/v1/tenders/T-API-1/bids", content=body,
                      headers={**h1, "content-type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    assert r.headers["x-eproc-receipt-seq"] == "1"
    import io

    bid = read_bid_file(io.BytesIO(body))
    verify_receipt(r.content, p.ca_pem, "T-API-1", "b1", bid.sealed.hashes())

    # company 2 under bidder ref b1: BID_NOT_OWNED (sent by company 2's own signatory)
    h2 = login(p.client, s2, "company_signatory", c2, p.clock)
    r = p.client.post("/v1/tenders/T-API-1/bids", content=_bid(p, "b2", c2, s2, xml, bidder_ref="b1"),
                      headers={**h2, "content-type": "application/octet-stream"})
    refused(r, 409, "BID_NOT_OWNED")
    # a bid file of company 1 sent from company 2's session: not theirs to send
    refused(p.client.post("/v1/tenders/T-API-1/bids", content=body,
                          headers={**h2, "content-type": "application/octet-stream"}), 403, "NOT_AUTHORISED")
    # the same company replaces its bid: accepted (seq 3: the refused attempt is on record as seq 2)
    r = p.client.post("/v1/tenders/T-API-1/bids", content=_bid(p, "b1", c1, s1, xml, price="0.93"),
                      headers={**h1, "content-type": "application/octet-stream"})
    assert r.status_code == 201 and r.headers["x-eproc-receipt-seq"] == "3", r.text
    assert b'supersedes="T-API-1/b1/' in r.content

    # past the deadline (the engine's clock at receipt): LATE_SUBMISSION, audited
    with p.world.deps.uow() as uow:
        deadline = uow.tenders.get("T-API-1").deadline
    p.clock.set(deadline + timedelta(minutes=1))
    h2 = login(p.client, s2, "company_signatory", c2, p.clock)
    r = p.client.post("/v1/tenders/T-API-1/bids", content=_bid(p, "b2", c2, s2, xml),
                      headers={**h2, "content-type": "application/octet-stream"})
    refused(r, 409, "LATE_SUBMISSION")
    with p.world.deps.uow() as uow:
        assert uow.audit.last("bid.refused", "T-API-1").reason == "LATE_SUBMISSION"


# --- refusals ---------------------------------------------------------------------------------------------

def test_unsigned_wrong_role_malformed_and_wrong_kind_are_refused_with_their_codes(approved):
    p = approved
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)
    doc = build_price_list_import(PriceListContent("urban-services/1400-x", 1, "urban", ITEMS))
    unsigned = etree.tostring(envelope(doc))
    refused(p.client.post("/v1/pricelists", headers={**op, **XML}, content=unsigned), 401, "NOT_AUTHENTICATED")
    refused(p.client.post("/v1/pricelists", headers=XML,
                          content=signed(p.officer, build_price_list_import(
                              PriceListContent("urban-services/1400-x", 1, "urban", ITEMS)),
                              p.clock, "contracts_officer", UNIT)), 401, "NOT_AUTHENTICATED")
    refused(p.client.post("/v1/pricelists", headers={**op, **XML}, content=b"<PriceListImport><unclosed>"),
            400, "MALFORMED_XML")
    dep = login(p.client, p.deputy, "deputy", UNIT, p.clock)
    body = signed(p.deputy, build_price_list_import(PriceListContent("urban-services/1400-x", 1, "urban", ITEMS)),
                  p.clock, "deputy", UNIT)
    refused(p.client.post("/v1/pricelists", headers={**dep, **XML}, content=body), 403, "NOT_AUTHORISED")
    # the operator's document sent to the approval route by the operator: wrong role
    refused(p.client.post(f"/v1/pricelists/{quote(LIST_ID, safe='/')}/versions/1/approval",
                          headers={**op, **XML}, content=body), 403, "NOT_AUTHORISED")
    # another kind of document where an import is expected
    wrong = signed(p.officer, build_price_list_approval(PriceListApproval(LIST_ID, 1, "civil", items_digest(ITEMS),
                                                                          "TC")), p.clock, "contracts_officer", UNIT)
    refused(p.client.post("/v1/pricelists", headers={**op, **XML}, content=wrong), 422, "INVALID_INPUT")
    # the bidders' route for an operator's session
    refused(p.client.post("/v1/tenders/T-API-1/bids", headers=op, content=b"x"), 403, "NOT_AUTHORISED")


def test_an_oversized_body_is_refused_before_it_is_read(approved, settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    p = approved
    small = TestClient(create_app(p.world.deps, settings=settings, max_body_bytes=8192),
                       raise_server_exceptions=False)
    op = login(small, p.officer, "contracts_officer", UNIT, p.clock)
    items = tuple(PriceItem(f"X{i:05d}", "m2", 1000 + i) for i in range(400))
    body = signed(p.officer, build_price_list_import(PriceListContent("green-space/1400-big", 1, "green", items)),
                  p.clock, "contracts_officer", UNIT)
    assert len(body) > 8192
    refused(small.post("/v1/pricelists", headers={**op, **XML}, content=body), 413, "REQUEST_TOO_LARGE")
    refused(small.post("/v1/tenders/T-API-1/bids", headers={**op, "content-type": "application/octet-stream"},
                       content=b"\0" * 20000), 413, "REQUEST_TOO_LARGE")


def test_the_approval_must_name_the_imported_content_and_not_be_the_importers(approved):
    p = approved
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)
    content = PriceListContent("green-space/1400-api", 1, "green", ITEMS)
    r = p.client.post("/v1/pricelists", headers={**op, **XML},
                      content=signed(p.officer, build_price_list_import(content), p.clock, "contracts_officer", UNIT))
    assert r.status_code == 201, r.text
    dep = login(p.client, p.deputy, "deputy", UNIT, p.clock)
    path = "/v1/pricelists/green-space/1400-api/versions/1/approval"
    other = items_digest((PriceItem("010101", "m3", 1),))
    doc = build_price_list_approval(PriceListApproval("green-space/1400-api", 1, "green", other, "TC-9"))
    refused(p.client.post(path, headers={**dep, **XML}, content=signed(p.deputy, doc, p.clock, "deputy", UNIT)),
            422, "INVALID_INPUT")
    # the path and the document disagree
    doc = build_price_list_approval(PriceListApproval(LIST_ID, 1, "civil", items_digest(ITEMS), "TC-9"))
    refused(p.client.post(path, headers={**dep, **XML}, content=signed(p.deputy, doc, p.clock, "deputy", UNIT)),
            422, "INVALID_INPUT")
    # a formula text other than the policy's
    doc = build_formula_approval(FormulaApproval("estimate", 1, "1 + 1", "TC-9"))
    refused(p.client.post("/v1/formulas/estimate/versions/1/approval", headers={**dep, **XML},
                          content=signed(p.deputy, doc, p.clock, "deputy", UNIT)), 422, "INVALID_INPUT")
    # the importer approving their own import (were they given the deputy's role): NOT_AUTHORISED
    from services.auth import VerifiedDocument
    from services.pricelists import approve_price_list
    from signing.verify import SignatureCheck

    doc = build_price_list_approval(PriceListApproval("green-space/1400-api", 1, "green", items_digest(ITEMS), "TC"))
    fake = VerifiedDocument("PriceListApproval", b"<x/>", "0" * 64, doc,
                            SignatureCheck(0, p.officer.national_id, 1, p.clock.now(), f"deputy@{UNIT}", None), [],
                            p.clock.now())
    from domain.reasons import DomainError, Reason

    with pytest.raises(DomainError) as exc:
        approve_price_list(p.world.deps, fake)
    assert exc.value.reason is Reason.NOT_AUTHORISED


def test_wrong_dates_an_unapproved_price_list_and_wrong_roles_refuse_a_tender(approved):
    p = approved
    now = p.clock.now()
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)

    def create(tender_id: str, data: bytes, headers=op, signer=None, role="contracts_officer"):
        req = build_tender_request(TenderRequest(tender_id, UNIT, f"{tender_id}.toml", data))
        return p.client.post("/v1/tenders", headers={**headers, **XML},
                             content=signed(signer or p.officer, req, p.clock, role, UNIT))

    d = timedelta(days=1)
    body = refused(create("T-BAD-1", tender_file(p.world, "T-BAD-1", now, now + 12 * d, now + 11 * d)),
                   422, "INVALID_INPUT")
    assert "ترتیب زمان" in body["detail"]
    body = refused(create("T-BAD-2", tender_file(p.world, "T-BAD-2", now, now + 5 * d, now + 6 * d)),
                   422, "INVALID_INPUT")
    assert "۱۰" in body["detail"] or "10" in body["detail"]
    past = tender_file(p.world, "T-BAD-3", now - 30 * d, now - 12 * d, now + d)
    refused(create("T-BAD-3", past), 422, "INVALID_INPUT")
    skipped = tender_file(p.world, "T-BAD-4", now, now + 12 * d, now + 13 * d).replace(
        f'deadline = "{format_jalali_datetime(now + 12 * d)}"'.encode(), b'deadline = "1400/12/30 10:00"')
    refused(create("T-BAD-4", skipped), 422, "INVALID_INPUT")  # 1400 is not a leap year
    # A version never approved on the deputy's token (the rehearsal's own list is approved by token).
    unapproved = tender_file(p.world, "T-BAD-5", now, now + 12 * d, now + 13 * d, list_id="technical-civil/1399")
    body = refused(create("T-BAD-5", unapproved), 422, "INVALID_INPUT")
    assert "تصویب" in body["detail"]
    refused(create("T-BAD-6", b"[tender]\nid = "), 422, "INVALID_INPUT")
    chair = login(p.client, p.chair, "chair", UNIT, p.clock)
    refused(create("T-BAD-7", tender_file(p.world, "T-BAD-7", now, now + 12 * d, now + 13 * d), headers=chair,
                   signer=p.chair, role="chair"), 403, "NOT_AUTHORISED")
    # the operator cannot publish the notice: only the unit's authorised signatory
    refused(p.client.post("/v1/tenders/T-API-1/notice", headers={**op, **XML}, content=b"<x/>"), 403,
            "NOT_AUTHORISED")
    with p.world.deps.uow() as uow:
        assert all(uow.tender_drafts.get(f"T-BAD-{i}") is None for i in range(1, 8))


def test_a_notice_other_than_the_tenders_or_stale_is_refused(announced):
    from domain.documents.notice import build_notice
    from domain.xmlsafe import parse_untrusted

    p, notice_1 = announced
    now = p.clock.now()
    op = login(p.client, p.officer, "contracts_officer", UNIT, p.clock)
    data = tender_file(p.world, "T-API-2", now, now + timedelta(days=12), now + timedelta(days=13))
    req = build_tender_request(TenderRequest("T-API-2", UNIT, "t2.toml", data))
    assert p.client.post("/v1/tenders", headers={**op, **XML},
                         content=signed(p.officer, req, p.clock, "contracts_officer", UNIT)).status_code == 201
    chair = login(p.client, p.chair, "chair", UNIT, p.clock)
    draft = read_notice(parse_untrusted(p.client.get("/v1/tenders/T-API-2/notice/draft", headers=chair).content))
    tampered = build_notice(dataclasses.replace(draft, estimate_rial=draft.estimate_rial - 1))
    refused(p.client.post("/v1/tenders/T-API-2/notice", headers={**chair, **XML},
                          content=signed(p.chair, tampered, p.clock, "chair", UNIT)), 422, "INVALID_INPUT")
    stale = build_notice(draft)
    p.clock.advance(timedelta(minutes=30))
    chair = login(p.client, p.chair, "chair", UNIT, p.clock)
    refused(p.client.post("/v1/tenders/T-API-2/notice", headers={**chair, **XML},
                          content=signed(p.chair, stale, p.clock, "chair", UNIT)), 422, "INVALID_INPUT")
    refused(p.client.get("/v1/tenders/T-API-2/notice"), 404, "NOT_FOUND")
    assert p.client.get("/v1/tenders/T-API-2").status_code == 404  # not announced: hidden from the public
    s1, c1 = p.bidder("b1")
    h1 = login(p.client, s1, "company_signatory", c1, p.clock)
    refused(p.client.post("/v1/tenders/T-API-2/bids", headers={**h1, "content-type": "application/octet-stream"},
                          content=b"EPROC-BID/1\n"), 422, "INVALID_INPUT")  # a broken file, before anything else
    refused(p.client.post("/v1/tenders/T-API-2/bids", headers={**h1, "content-type": "application/octet-stream"},
                          content=_bid(p, "b1", c1, s1, notice_1, tender="T-API-2")), 404, "NOT_FOUND")


def test_a_formula_without_the_deputys_approval_cannot_price_a_tender(approved):
    from domain.reasons import DomainError, Reason
    from services.tender.files import tender_formulas

    p = approved
    deps = p.world.deps
    policy = deps.policy
    v2 = policy.formula("estimate").model_copy(update={"version": 2})  # a newer version, never approved
    newer = policy.model_copy(update={"formulas": [*policy.formulas, v2]})
    with pytest.raises(DomainError) as exc:
        tender_formulas(dataclasses.replace(deps, policy=newer))
    assert exc.value.reason is Reason.POLICY_INVALID
    assert set(tender_formulas(deps)) == set(FORMULAS)


def test_the_openapi_document_lists_the_operations_of_parts_3_and_4(parties):
    doc = parties.client.get("/openapi.json").json()
    assert {"/v1/pricelists", "/v1/pricelists/{list_id}/versions/{version}",
            "/v1/pricelists/{list_id}/versions/{version}/approval", "/v1/formulas/{formula_id}/versions/{version}",
            "/v1/formulas/{formula_id}/versions/{version}/approval", "/v1/tenders", "/v1/tenders/{tender_id}",
            "/v1/tenders/{tender_id}/notice/draft", "/v1/tenders/{tender_id}/notice",
            "/v1/tenders/{tender_id}/bids", "/v1/trust/ca"} <= set(doc["paths"])
    ca = parties.client.get("/v1/trust/ca")
    assert ca.status_code == 200 and ca.content == parties.ca_pem
    assert hashlib.sha256(ca.content).hexdigest()
