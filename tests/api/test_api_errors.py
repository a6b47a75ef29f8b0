"""The API's shape (issue 11 part 1): refusals as JSON {reason, message_fa, detail} with the status of
their reason, never a traceback; request bodies limited (413 before a body is read whole) and
uploads streamed; every path under /v1; the OpenAPI document in Persian and English."""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from domain.reasons import DomainError, Reason

ROOT = Path(__file__).resolve().parents[2]
PERSIAN = re.compile(r"[\u0600-\u06FF]")
LATIN = re.compile(r"[A-Za-z]{3,}")
LIMIT = 4096


def _certificate():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test anchor")])
    now = datetime.now(timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))


@pytest.fixture(scope="module")
def plain_deps(tmp_path_factory):
    """A container without people or tokens: a migrated SQLite store and the bundled policy."""
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from domain.clock import SimulatedClock
    from services.deps import Deps
    from services.signers import Signers
    from store.db import make_engine, session_factory
    from store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('api-errors') / 'eproc.db'}")
    upgrade(engine)
    return Deps(sessions=session_factory(engine), clock=SimulatedClock(datetime(2021, 7, 11, 6, 30, tzinfo=timezone.utc)),
                policy=load_policy(BUNDLED_POLICY), ca_cert=_certificate(), signers=Signers())


class Item(BaseModel):
    national_id: str
    amount: int


@pytest.fixture(scope="module")
def app(plain_deps, tmp_path_factory) -> FastAPI:
    from api.app import create_app
    from api.streaming import spooled
    from config.settings import Settings

    app = create_app(plain_deps, max_body_bytes=LIMIT,
                     settings=Settings(data_dir=tmp_path_factory.mktemp("api-errors-data")))
    app.state.calls = 0

    @app.get("/v1/test/refuse/{reason}")
    def refuse(reason: str) -> None:
        raise DomainError(Reason(reason), "جزئیات")

    @app.get("/v1/test/crash")
    def crash() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    @app.post("/v1/test/items")
    def items(item: Item, request: Request) -> dict:
        request.app.state.calls += 1
        return item.model_dump()

    @app.post("/v1/test/upload")
    async def upload(request: Request) -> dict:
        request.app.state.calls += 1
        limit = int(request.query_params.get("limit", LIMIT))
        async with spooled(request, limit=limit, memory_bytes=1024) as body:
            rolled = bool(getattr(body.file, "_rolled", False))
            return {"size": body.size, "sha256": body.sha256, "on_disk": rolled,
                    "same": hashlib.sha256(body.read_all()).hexdigest() == body.sha256}

    return app


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def shape(r, status: int, reason: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"reason", "message_fa", "detail"}, body
    assert body["reason"] == reason
    assert PERSIAN.search(body["message_fa"]), body
    assert "Traceback" not in r.text
    return body


@pytest.mark.parametrize("reason, status", [
    ("NOT_AUTHENTICATED", 401), ("NOT_AUTHORISED", 403), ("SIGNER_NOT_IN_ROLE", 403), ("NOT_FOUND", 404),
    ("UNKNOWN_UNIT", 404), ("LATE_SUBMISSION", 409), ("BID_NOT_OWNED", 409), ("DUPLICATE_BID", 409),
    ("DUPLICATE_PAYMENT", 409), ("AMOUNT_OUT_OF_RANGE", 413), ("REQUEST_TOO_LARGE", 413), ("INVALID_INPUT", 422),
    ("MALFORMED_XML", 400), ("SIGNING_TIME_SKEW", 400), ("CERT_REVOKED", 400), ("NO_CONTRACT_CODE", 400),
    ("STORE_UNREACHABLE", 503),
])
def test_a_refusal_is_json_with_the_status_of_its_reason(client, reason, status):
    r = client.get(f"/v1/test/refuse/{reason}")
    body = shape(r, status, reason)
    assert body["detail"] == "جزئیات"
    assert body["message_fa"] == f"{Reason(reason).message_fa} (جزئیات)"
    assert r.headers["content-type"] == "application/json"
    assert (r.headers.get("www-authenticate") == "Bearer") == (status == 401)


def test_every_reason_has_a_status_and_only_the_table_differs_from_400():
    from api.errors import DEFAULT_STATUS, STATUS, status_of

    assert {status_of(r) for r in Reason} <= {400, 401, 403, 404, 409, 413, 422, 500, 503}
    assert all(status_of(r) == DEFAULT_STATUS for r in Reason if r not in STATUS)
    assert status_of(Reason.GUARANTEE_MISSING) == 400


def test_an_unexpected_exception_is_500_internal_error_logged_never_shown(client, caplog):
    with caplog.at_level(logging.ERROR, logger="eproc.api"):
        r = client.get("/v1/test/crash")
    body = shape(r, 500, "INTERNAL_ERROR")
    assert body["detail"] is None
    assert "secret internals" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "eproc.api"]
    assert logged and logged[-1].exc_info and "secret internals" in str(logged[-1].exc_info[1])


def test_unknown_paths_and_methods_use_the_same_shape(client):
    shape(client.get("/v1/no-such-thing"), 404, "NOT_FOUND")
    body = shape(client.delete("/v1/health"), 405, "INVALID_INPUT")
    assert "DELETE" in body["detail"]


@pytest.mark.parametrize("payload, field", [
    ({"amount": 1}, "national_id"),
    ({"national_id": "1", "amount": "many"}, "amount"),
])
def test_a_validation_error_is_invalid_input_naming_the_field_in_persian(client, payload, field):
    body = shape(client.post("/v1/test/items", json=payload), 422, "INVALID_INPUT")
    assert f"«body.{field}»" in body["message_fa"] and f"«body.{field}»" in body["detail"]


def test_malformed_json_is_invalid_input(client):
    shape(client.post("/v1/test/items", content=b"{not json", headers={"content-type": "application/json"}),
          422, "INVALID_INPUT")


def test_a_body_declared_over_the_limit_is_413_before_the_route_runs(app, client):
    before = app.state.calls
    body = shape(client.post("/v1/test/upload", content=b"x" * (LIMIT + 1)), 413, "REQUEST_TOO_LARGE")
    assert "۴,۰۹۶" in body["detail"]
    shape(client.post("/v1/test/items", content=b"{" + b" " * LIMIT + b"}",
                      headers={"content-type": "application/json"}), 413, "REQUEST_TOO_LARGE")
    assert app.state.calls == before  # refused from Content-Length: no route ran


def test_a_chunked_body_is_counted_as_it_streams_and_refused_past_the_limit(app, client):
    def chunks(n: int):
        for _ in range(n):
            yield b"y" * 1000

    shape(client.post("/v1/test/upload", content=chunks(5)), 413, "REQUEST_TOO_LARGE")
    shape(client.post("/v1/test/items", content=chunks(5), headers={"content-type": "application/json"}),
          413, "REQUEST_TOO_LARGE")
    r = client.post("/v1/test/upload", content=chunks(4))
    assert r.status_code == 200 and r.json()["size"] == 4000


def test_an_upload_is_spooled_and_hashed_as_it_streams(client):
    data = bytes(range(256)) * 12  # 3072 bytes: over the 1 KiB memory spool, under the limit
    r = client.post("/v1/test/upload", content=data)
    assert r.status_code == 200, r.text
    assert r.json() == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "on_disk": True, "same": True}
    small = client.post("/v1/test/upload", content=b"abc").json()
    assert small["on_disk"] is False and small["size"] == 3
    shape(client.post("/v1/test/upload?limit=100", content=b"z" * 101), 413, "REQUEST_TOO_LARGE")
    shape(client.post("/v1/test/upload", content=b""), 422, "INVALID_INPUT")


def test_the_body_limit_defaults_to_the_policys_max_bid_bytes(plain_deps, tmp_path):
    from api.app import create_app
    from config.settings import Settings

    app = create_app(plain_deps, settings=Settings(data_dir=tmp_path))
    assert app.state.max_body_bytes == plain_deps.policy.limits.max_bid_bytes
    app = create_app(plain_deps, settings=Settings(data_dir=tmp_path, api_max_body_bytes=2048))
    assert app.state.max_body_bytes == 2048
    assert not (tmp_path / "api-secret").exists()  # no key file until someone logs in


def test_health_and_every_path_versioned_under_v1(client):
    r = client.get("/v1/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    paths = client.get("/openapi.json").json()["paths"]
    assert paths and all(p.startswith("/v1/") for p in paths), sorted(paths)


def test_the_openapi_document_is_persian_and_english_for_every_operation(plain_deps, tmp_path):
    from api.app import create_app
    from config.settings import Settings

    doc = TestClient(create_app(plain_deps, settings=Settings(data_dir=tmp_path))).get("/openapi.json").json()
    assert doc["info"]["title"] == "سامانهٔ جامع معاملات شهرداری تهران — Tehran municipality transactions system"
    assert PERSIAN.search(doc["info"]["description"]) and LATIN.search(doc["info"]["description"])
    from api.app import package_version

    assert doc["info"]["version"] == package_version() != "0+unknown"
    assert {"/v1/health", "/v1/auth/challenge", "/v1/auth/session"} <= set(doc["paths"])
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for key in ("summary", "description"):
                text = op.get(key, "")
                assert PERSIAN.search(text) and LATIN.search(text), f"{method.upper()} {path}: {key} {text!r}"


def test_every_router_module_is_listed_in_the_app():
    from api.app import ROUTERS

    modules = {f"api.routers.{p.stem}" for p in (ROOT / "api" / "routers").glob("*.py") if p.stem != "__init__"}
    assert modules <= set(ROUTERS), f"add to api.app.ROUTERS: {sorted(modules - set(ROUTERS))}"
