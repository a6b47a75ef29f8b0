"""Authentication by token (issue 11 part 2) with real SoftHSM tokens and the pilot world's CA and
registry: a challenge signed on the person's token opens a short-lived session; every refusal has
its reason code and status; state-changing requests are documents verified at receipt."""
from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta

import jwt
import pytest
from fastapi import Depends, Request
from lxml import etree

from domain.clock import SimulatedClock
from domain.documents.auth import SessionRequest, build_session_request
from services.auth import ALGORITHM, ISSUER, Challenge, sign_session_request
from signing.xmldsig import envelope

XML = {"content-type": "application/xml"}


def challenge_for(client, national_id: str) -> Challenge:
    r = client.post("/v1/auth/challenge", json={"national_id": national_id})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"challenge_id", "nonce", "expires_at"}
    return Challenge(body["challenge_id"], body["nonce"], national_id, datetime.fromisoformat(body["expires_at"]))


def answer(client, xml: bytes):
    return client.post("/v1/auth/session", content=xml, headers=XML)


def login(client, signer, role: str, unit: str, clock) -> str:
    ch = challenge_for(client, signer.national_id)
    r = answer(client, sign_session_request(signer, clock, ch, role, unit))
    assert r.status_code == 200, r.text
    return r.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def refused(r, status: int, reason: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"reason", "message_fa", "detail"}
    assert body["reason"] == reason, body
    assert "Traceback" not in r.text
    return body


# --- login -----------------------------------------------------------------------------------------

def test_r05_a_token_signed_challenge_opens_a_short_session_for_the_registry_role(auth_world, auth_client,
                                                                                   auth_clock, auth_settings):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    assert ch.expires_at == auth_clock.now() + timedelta(seconds=120)
    r = answer(auth_client, sign_session_request(w.deputy, auth_clock, ch, "deputy", w.unit))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["national_id"], out["role"], out["unit"], out["token_type"]) == \
        (w.deputy.national_id, "deputy", w.unit, "bearer")
    claims = jwt.decode(out["token"], auth_settings.session_secret(), algorithms=[ALGORITHM], issuer=ISSUER,
                        options={"verify_exp": False})
    assert {"national_id", "role", "unit", "exp", "jti", "iat"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert jwt.get_unverified_header(out["token"])["alg"] == "HS256"
    me = auth_client.get("/v1/auth/session", headers=bearer(out["token"]))
    assert me.status_code == 200, me.text
    assert me.json()["national_id"] == w.deputy.national_id and me.json()["role"] == "deputy"
    with w.world.deps.uow() as uow:  # the session is audited
        entry = uow.audit.last("auth.session", w.deputy.national_id)
        assert entry is not None and entry.reason is None and jwt.decode(
            out["token"], auth_settings.session_secret(), algorithms=[ALGORITHM], issuer=ISSUER,
            options={"verify_exp": False})["jti"] in entry.payload_json


def test_the_session_key_is_generated_once_under_the_data_dir_mode_0600(auth_world, auth_client, auth_clock,
                                                                        auth_settings):
    login(auth_client, auth_world.deputy, "deputy", auth_world.unit, auth_clock)
    path = auth_world.data_dir / "api-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().strip()) >= 32
    assert auth_settings.session_secret() == path.read_text().strip()


def test_a_challenge_is_answered_once(auth_world, auth_client, auth_clock):
    w = auth_world
    xml = sign_session_request(w.deputy, auth_clock, challenge_for(auth_client, w.deputy.national_id), "deputy", w.unit)
    assert answer(auth_client, xml).status_code == 200
    body = refused(answer(auth_client, xml), 401, "NOT_AUTHENTICATED")
    assert "پیش‌تر" in body["detail"]


def test_an_expired_challenge_is_not_authenticated(auth_world, auth_client, auth_clock):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    xml = sign_session_request(w.deputy, auth_clock, ch, "deputy", w.unit)
    auth_clock.advance(timedelta(seconds=121))
    r = refused(answer(auth_client, xml), 401, "NOT_AUTHENTICATED")
    assert "مهلت" in r["detail"]


def test_an_unknown_challenge_or_a_wrong_nonce_is_not_authenticated(auth_world, auth_client, auth_clock):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    made_up = Challenge("0" * 32, ch.nonce, ch.national_id, ch.expires_at)
    refused(answer(auth_client, sign_session_request(w.deputy, auth_clock, made_up, "deputy", w.unit)),
            401, "NOT_AUTHENTICATED")
    wrong = Challenge(ch.challenge_id, "x" * 43, ch.national_id, ch.expires_at)
    refused(answer(auth_client, sign_session_request(w.deputy, auth_clock, wrong, "deputy", w.unit)),
            401, "NOT_AUTHENTICATED")


def test_an_unsigned_login_document_is_not_authenticated(auth_world, auth_client):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    doc = envelope(build_session_request(SessionRequest(ch.challenge_id, ch.nonce, w.deputy.national_id, "deputy",
                                                        w.unit)))
    body = refused(answer(auth_client, etree.tostring(doc)), 401, "NOT_AUTHENTICATED")
    assert "امضا" in body["detail"]


def test_a_forged_login_document_is_signature_invalid(auth_world, auth_client, auth_clock):
    w = auth_world
    xml = sign_session_request(w.deputy, auth_clock, challenge_for(auth_client, w.deputy.national_id), "deputy", w.unit)
    forged = xml.replace(f'unit="{w.unit}"'.encode(), b'unit="district-1"')
    assert forged != xml
    refused(answer(auth_client, forged), 400, "SIGNATURE_INVALID")


def test_someone_elses_signature_on_a_persons_challenge_is_not_authenticated(auth_world, auth_client, auth_clock):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    doc = build_session_request(SessionRequest(ch.challenge_id, ch.nonce, w.deputy.national_id, "deputy", w.unit))
    xml = etree.tostring(w.treasurer.sign(doc, auth_clock, "deputy", w.unit))
    refused(answer(auth_client, xml), 401, "NOT_AUTHENTICATED")


def test_r05_a_role_the_registry_does_not_give_is_not_authorised(auth_world, auth_client, auth_clock):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    body = refused(answer(auth_client, sign_session_request(w.deputy, auth_clock, ch, "treasurer", w.unit)),
                   403, "NOT_AUTHORISED")
    assert "treasurer" in body["detail"]
    with w.world.deps.uow() as uow:  # refusals after a genuine challenge are audited too
        entry = uow.audit.last("auth.session", w.deputy.national_id)
        assert entry is not None and entry.reason == "NOT_AUTHORISED"


def test_r05_a_signature_claimed_ten_minutes_off_the_receipt_time_is_signing_time_skew(auth_world, auth_client,
                                                                                      auth_clock):
    w = auth_world
    ch = challenge_for(auth_client, w.deputy.national_id)
    station = SimulatedClock(auth_clock.now() + timedelta(minutes=10))  # the signer's machine says so
    refused(answer(auth_client, sign_session_request(w.deputy, station, ch, "deputy", w.unit)), 400,
            "SIGNING_TIME_SKEW")
    ch = challenge_for(auth_client, w.deputy.national_id)
    station = SimulatedClock(auth_clock.now() + timedelta(minutes=4))  # within the policy's 5 minutes
    assert answer(auth_client, sign_session_request(w.deputy, station, ch, "deputy", w.unit)).status_code == 200


def test_r05_a_revoked_certificate_cannot_open_a_session(auth_world, auth_client, auth_clock):
    w = auth_world
    login(auth_client, w.reviewer, "employer_reviewer", w.unit, auth_clock)  # fine before the revocation
    w.world.ca.revoke(w.reviewer.cert.serial_number, "affiliationChanged", auth_clock.now() - timedelta(minutes=1))
    w.world.ca.crl(auth_clock)
    ch = challenge_for(auth_client, w.reviewer.national_id)
    refused(answer(auth_client, sign_session_request(w.reviewer, auth_clock, ch, "employer_reviewer", w.unit)),
            400, "CERT_REVOKED")


@pytest.mark.parametrize("body, field", [({}, "national_id"), ({"national_id": 5}, "national_id")])
def test_a_bad_challenge_request_is_invalid_input_naming_the_field(auth_client, body, field):
    out = refused(auth_client.post("/v1/auth/challenge", json=body), 422, "INVALID_INPUT")
    assert field in out["message_fa"] and field in out["detail"]


def test_a_malformed_national_id_or_login_document_is_refused(auth_client):
    refused(auth_client.post("/v1/auth/challenge", json={"national_id": "1234567890"}), 422, "INVALID_INPUT")
    refused(answer(auth_client, b"<not-xml"), 400, "MALFORMED_XML")
    refused(answer(auth_client, b"<Other/>"), 400, "MALFORMED_XML")


def test_a_login_document_over_64_kib_is_too_large(auth_client):
    refused(answer(auth_client, b"<a>" + b"x" * 70_000 + b"</a>"), 413, "REQUEST_TOO_LARGE")


# --- the session token -----------------------------------------------------------------------------

def test_a_session_expires_after_fifteen_minutes(auth_world, auth_client, auth_clock):
    token = login(auth_client, auth_world.deputy, "deputy", auth_world.unit, auth_clock)
    auth_clock.advance(timedelta(minutes=14, seconds=59))
    assert auth_client.get("/v1/auth/session", headers=bearer(token)).status_code == 200
    auth_clock.advance(timedelta(seconds=1))
    r = auth_client.get("/v1/auth/session", headers=bearer(token))
    refused(r, 401, "NOT_AUTHENTICATED")
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_missing_forged_or_foreign_session_token_is_not_authenticated(auth_world, auth_client, auth_clock,
                                                                         auth_settings):
    w = auth_world
    token = login(auth_client, w.deputy, "deputy", w.unit, auth_clock)
    refused(auth_client.get("/v1/auth/session"), 401, "NOT_AUTHENTICATED")
    refused(auth_client.get("/v1/auth/session", headers={"authorization": f"Basic {token}"}), 401, "NOT_AUTHENTICATED")
    claims = jwt.decode(token, auth_settings.session_secret(), algorithms=[ALGORITHM], issuer=ISSUER,
                        options={"verify_exp": False})  # simulated time: the tokens expire in 2021
    promoted = jwt.encode({**claims, "role": "chair"}, "another key of at least thirty-two bytes", algorithm=ALGORITHM)
    refused(auth_client.get("/v1/auth/session", headers=bearer(promoted)), 401, "NOT_AUTHENTICATED")
    head, payload, sig = token.split(".")
    refused(auth_client.get("/v1/auth/session", headers=bearer(f"{head}.{payload}.{sig[::-1]}")), 401,
            "NOT_AUTHENTICATED")
    unsigned = jwt.encode({**claims}, None, algorithm="none")
    refused(auth_client.get("/v1/auth/session", headers=bearer(unsigned)), 401, "NOT_AUTHENTICATED")
    no_role = jwt.encode({k: v for k, v in claims.items() if k != "role"}, auth_settings.session_secret(),
                         algorithm=ALGORITHM)
    refused(auth_client.get("/v1/auth/session", headers=bearer(no_role)), 401, "NOT_AUTHENTICATED")


# --- routes behind a role, and signed requests -----------------------------------------------------

PING_NS = "urn:tehran:eproc:test-ping:1"


@pytest.fixture
def signed_app(auth_app):
    """The app with two test routes: one for treasurers only, one taking a signed Ping document."""
    from api.security import Actor, require_role
    from api.signed import SIGNED_XML_BODY, signed_request

    @auth_app.get("/v1/test/treasury")
    def treasury(actor: Actor = Depends(require_role("treasurer"))) -> dict:
        return {"national_id": actor.national_id}

    @auth_app.post("/v1/test/ping", openapi_extra=SIGNED_XML_BODY)
    async def ping(request: Request, actor: Actor = Depends(require_role("deputy"))) -> dict:
        doc = await signed_request(request, "Ping")
        return {"national_id": doc.national_id, "role": doc.role, "unit": doc.unit, "text": doc.root.text,
                "sha256": doc.sha256, "received_at": doc.received_at.isoformat()}

    return auth_app


@pytest.fixture
def signed_client(signed_app):
    from fastapi.testclient import TestClient

    with TestClient(signed_app, raise_server_exceptions=False) as client:
        yield client


def ping(signer, clock, role: str, unit: str, text: str = "salam", name: str = "Ping") -> bytes:
    el = etree.Element(f"{{{PING_NS}}}{name}", nsmap={None: PING_NS})
    el.text = text
    return etree.tostring(signer.sign(el, clock, role, unit))


def test_a_route_for_another_role_is_not_authorised(auth_world, signed_client, auth_clock):
    token = login(signed_client, auth_world.deputy, "deputy", auth_world.unit, auth_clock)
    refused(signed_client.get("/v1/test/treasury", headers=bearer(token)), 403, "NOT_AUTHORISED")
    refused(signed_client.get("/v1/test/treasury"), 401, "NOT_AUTHENTICATED")


def test_r05_a_state_changing_request_is_a_document_signed_by_the_session_person_verified_at_receipt(
        auth_world, signed_client, auth_clock):
    import hashlib

    w = auth_world
    token = login(signed_client, w.deputy, "deputy", w.unit, auth_clock)
    xml = ping(w.deputy, auth_clock, "deputy", w.unit)
    r = signed_client.post("/v1/test/ping", content=xml, headers={**XML, **bearer(token)})
    assert r.status_code == 200, r.text
    assert r.json() == {"national_id": w.deputy.national_id, "role": "deputy", "unit": w.unit, "text": "salam",
                        "sha256": hashlib.sha256(xml).hexdigest(), "received_at": auth_clock.now().isoformat()}
    # without a session; unsigned; signed by someone else; another document; another role; a skewed time
    refused(signed_client.post("/v1/test/ping", content=xml, headers=XML), 401, "NOT_AUTHENTICATED")
    bare = etree.tostring(envelope(etree.fromstring(f'<Ping xmlns="{PING_NS}">x</Ping>'.encode())))
    refused(signed_client.post("/v1/test/ping", content=bare, headers={**XML, **bearer(token)}), 401,
            "NOT_AUTHENTICATED")
    other = ping(w.treasurer, auth_clock, "treasurer", w.unit)
    refused(signed_client.post("/v1/test/ping", content=other, headers={**XML, **bearer(token)}), 401,
            "NOT_AUTHENTICATED")
    pong = ping(w.deputy, auth_clock, "deputy", w.unit, name="Pong")
    refused(signed_client.post("/v1/test/ping", content=pong, headers={**XML, **bearer(token)}), 422, "INVALID_INPUT")
    as_treasurer = ping(w.deputy, auth_clock, "treasurer", w.unit)
    refused(signed_client.post("/v1/test/ping", content=as_treasurer, headers={**XML, **bearer(token)}), 403,
            "NOT_AUTHORISED")
    late_clock = SimulatedClock(auth_clock.now() - timedelta(minutes=6))
    skewed = ping(w.deputy, late_clock, "deputy", w.unit)
    refused(signed_client.post("/v1/test/ping", content=skewed, headers={**XML, **bearer(token)}), 400,
            "SIGNING_TIME_SKEW")
    tampered = xml.replace(b">salam<", b">salut<")
    assert tampered != xml
    refused(signed_client.post("/v1/test/ping", content=tampered, headers={**XML, **bearer(token)}), 400,
            "SIGNATURE_INVALID")
