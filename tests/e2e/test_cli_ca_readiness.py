"""CA and readiness from the command line, with a real SoftHSM token (R04, R05)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EPROC = str(Path(sys.executable).parent / "eproc")


def _env(tmp_path: Path, **extra) -> dict:
    conf = tmp_path / "softhsm2.conf"
    (tmp_path / "tokens").mkdir(exist_ok=True)
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = {**os.environ, "EPROC_DATA_DIR": str(tmp_path / "data"), "SOFTHSM2_CONF": str(conf)}
    env.pop("EPROC_DATABASE_URL", None)
    env.update(extra)
    return env


def eproc(tmp_path, *args, **extra):
    return subprocess.run([EPROC, *args], capture_output=True, text=True, env=_env(tmp_path, **extra), timeout=120)


def test_r04_r05_enroll_readiness_and_revoke(tmp_path):
    env = _env(tmp_path)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "chair-12", "--pin", "4321",
                    "--so-pin", "87654321"], env=env, check=True, capture_output=True)
    assert eproc(tmp_path, "registry", "sync-units").returncode == 0
    assert eproc(tmp_path, "registry", "add-person", "--nid", "5260181591", "--name", "معاون مالی").returncode == 0
    assert eproc(tmp_path, "registry", "assign-role", "--nid", "5260181591", "--role", "chair", "--unit",
                 "district-12", "--from", "1400/01/01").returncode == 0
    assert eproc(tmp_path, "registry", "add-person", "--nid", "0830166130", "--name", "رئیس مالی").returncode == 0
    assert eproc(tmp_path, "registry", "assign-role", "--nid", "0830166130", "--role", "finance", "--unit",
                 "district-12", "--from", "1400/01/01").returncode == 0
    assert eproc(tmp_path, "ca", "init").returncode == 0

    wrong = eproc(tmp_path, "ca", "enroll", "--person", "5260181591", "--token", "chair-12", "--json",
                  EPROC_TOKEN_PIN="0000")
    assert wrong.returncode == 2 and json.loads(wrong.stdout)["error"]["reason"] == "TOKEN_PIN_INVALID"
    assert "0000" not in wrong.stdout + wrong.stderr  # the PIN is never shown
    missing = eproc(tmp_path, "ca", "enroll", "--person", "5260181591", "--token", "no-such", "--json",
                    EPROC_TOKEN_PIN="4321")
    assert json.loads(missing.stdout)["error"]["reason"] == "TOKEN_NOT_FOUND"

    enrolled = eproc(tmp_path, "ca", "enroll", "--person", "5260181591", "--token", "chair-12", "--json",
                     EPROC_TOKEN_PIN="4321")
    assert enrolled.returncode == 0, enrolled.stderr
    cert = json.loads(enrolled.stdout)
    assert cert["national_id"] == "5260181591" and cert["key_transport"].startswith("RSA_PKCS_OAEP")

    rows = {r["national_id"]: r for r in json.loads(eproc(tmp_path, "readiness", "--unit", "district-12",
                                                          "--json").stdout)}
    assert rows["5260181591"]["status"] == "ready" and rows["5260181591"]["token_label"] == "chair-12"
    assert rows["0830166130"]["status"] == "missing"

    revoked = eproc(tmp_path, "ca", "revoke", "--serial", cert["serial"], "--reason", "affiliationChanged", "--json")
    assert revoked.returncode == 0, revoked.stderr
    crl = subprocess.run(["openssl", "crl", "-in", json.loads(revoked.stdout)["crl"], "-noout", "-text"],
                         capture_output=True, text=True, check=True).stdout
    assert cert["serial"].upper().lstrip("0") in crl.upper().replace(":", "")
    rows = {r["national_id"]: r for r in json.loads(eproc(tmp_path, "readiness", "--unit", "district-12",
                                                          "--json").stdout)}
    assert rows["5260181591"]["status"] == "revoked"
    table = eproc(tmp_path, "readiness", "--unit", "district-12")
    assert table.returncode == 0 and "باطل" in table.stdout
