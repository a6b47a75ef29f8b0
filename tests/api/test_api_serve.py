"""`eproc serve` as a real process (issue 11 part 1): uvicorn on a free port, bound to 127.0.0.1 by
default, answering /v1/health and /openapi.json; without a CA it refuses in Persian, exit status 2."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from eproc.stack.procs import free_port, listening

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EPROC = str(Path(sys.executable).parent / "eproc")




def _data_dir(base: Path, with_ca: bool) -> Path:
    """A data directory as `eproc db upgrade` and `eproc ca init` leave it (the CA certificate only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from store.db import make_engine
    from store.migrate import upgrade

    engine = make_engine(f"sqlite:///{base / 'eproc.db'}")
    upgrade(engine)
    engine.dispose()
    if with_ca:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serve test CA")])
        now = datetime.now(timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1))
                .sign(key, hashes.SHA256()))
        (base / "ca").mkdir()
        (base / "ca" / "ca-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return base


def _env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPROC_")}
    return {**env, "EPROC_DATA_DIR": str(data_dir), "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PYTHONPATH": str(ROOT)}


def test_eproc_serve_answers_health_and_openapi_on_localhost(tmp_path):
    (tmp_path / "data").mkdir()
    data_dir = _data_dir(tmp_path / "data", with_ca=True)
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([EPROC, "serve", "--port", str(port)], env=_env(data_dir, tmp_path), cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                health = httpx.get(f"{base}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert listening(port) == ["0100007F"]  # 127.0.0.1 only
        doc = httpx.get(f"{base}/openapi.json", timeout=10).json()
        assert doc["info"]["title"] == "سامانهٔ جامع معاملات شهرداری تهران — Tehran municipality transactions system"
        assert {"/v1/health", "/v1/auth/challenge", "/v1/auth/session"} <= set(doc["paths"])
        missing = httpx.get(f"{base}/v1/nothing-here", timeout=10)
        assert missing.status_code == 404 and missing.json()["reason"] == "NOT_FOUND"
        assert "server" not in missing.headers
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the parent sees how it ended
    assert proc.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()


def test_eproc_serve_without_a_ca_refuses_in_persian(tmp_path):
    (tmp_path / "data").mkdir()
    data_dir = _data_dir(tmp_path / "data", with_ca=False)
    out = subprocess.run([EPROC, "serve", "--port", str(free_port())], env=_env(data_dir, tmp_path), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "گواهی مرجع" in out.stdout + out.stderr


def test_the_stack_starts_the_api_by_pid_file_and_down_stops_it(tmp_path, monkeypatch):
    """eproc.stack: `start_api` (as `eproc up` calls it once the CA exists) and `down`, without the
    PostgreSQL part of the stack (the API reaches the SQLite store of EPROC_DATA_DIR here)."""
    from dataclasses import dataclass

    from eproc.stack.config import StackConfig
    from eproc.stack.lifecycle import API, ca_present, down, start_api
    from eproc.stack.procs import PidDir

    (tmp_path / "data").mkdir()
    data_dir = _data_dir(tmp_path / "data", with_ca=True)
    for key, value in _env(data_dir, tmp_path).items():
        if key.startswith(("EPROC_", "PREFECT_")):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("EPROC_DATABASE_URL", raising=False)
    from config.settings import get_settings

    get_settings.cache_clear()
    try:
        assert ca_present()

        @dataclass
        class LocalStack(StackConfig):
            def api_env(self) -> dict[str, str]:
                return {}  # the store of EPROC_DATA_DIR rather than the stack's PostgreSQL

        cfg = LocalStack(run_dir=tmp_path / "run", pg_dir=tmp_path / "pg", api_port=free_port())
        pids = PidDir(cfg.pids_dir)
        start_api(cfg, pids)
        rec = pids.read(API)
        assert rec is not None and rec.alive()
        assert httpx.get(f"{cfg.transactions_api_url}/v1/health", timeout=5).json() == {"status": "ok"}
        assert listening(cfg.api_port) == ["0100007F"]
        assert down(cfg) == [API]
        assert not rec.alive() and pids.records() == []
    finally:
        get_settings.cache_clear()
