"""R26 training package: a trainee runs the training rehearsal with their OWN token (their SoftHSM2
store in SOFTHSM2_CONF, their PIN in EPROC_TOKEN_PIN): the person they play (here the treasurer) is
enrolled on that token, and every document that person signs in the rehearsal (the contract's
treasurer stage, the status statement's closing signature) carries the certificate on the trainee's
token. The rest of the world keeps its simulated tokens; the report is the training rehearsal's."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TRAINING = ROOT / "pilot" / "scenarios" / "training-district-12.toml"
EPROC = str(Path(sys.executable).with_name("eproc"))
LABEL, PIN, SO_PIN = "trainee-token", "246810", "97531"


def _trainee_station(tmp: Path) -> dict[str, str]:
    """The trainee's machine: a SoftHSM2 store of their own with one initialised token, their PIN."""
    station = tmp / "trainee"
    (station / "tokens").mkdir(parents=True)
    conf = station / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {station / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = true\nslots.mechanisms = ALL\n"
                    "library.reset_on_fork = false\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EPROC_", "PREFECT_API", "SOFTHSM2_CONF"))}
    env.update({"SOFTHSM2_CONF": str(conf), "EPROC_TOKEN_PIN": PIN, "PREFECT_HOME": str(tmp / "prefect-home"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PYTHONPATH": str(ROOT)})
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN],
                   env=env, check=True, capture_output=True, timeout=60)
    return env


def _rows(db: Path, sql: str, *args: str) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return list(con.execute(sql, args))


def test_r26_trainee_signs_with_their_own_token(tmp_path):
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is needed")
    env = _trainee_station(tmp_path)
    work = tmp_path / "w"
    out = subprocess.run([EPROC, "pilot", "--scenario", str(TRAINING), "--trainee", "treasurer",
                          "--trainee-token", LABEL, "--workdir", str(work), "--json"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["contract"]["status"] == "final" and report["contract"]["code"]
    assert report["status_statements"]["s1"]["result"] == "approved"
    assert report["payments"]["p1"] == {"result": "paid", "reason": None}

    db = work / "eproc.db"
    mine = _rows(db, "SELECT serial, national_id, key_label FROM certificates WHERE token_label = ?", LABEL)
    assert len(mine) == 1, mine  # the treasurer's certificate is the one on the trainee's token
    serial, treasurer, _key = mine[0]
    # The key is on the trainee's token (their store), not in the world's simulated token directories.
    assert any((tmp_path / "trainee" / "tokens").iterdir())
    assert not (work / "tokens" / LABEL).exists()
    signed = _rows(db, "SELECT document_kind, document_id, cert_serial FROM signatures "
                       "WHERE signer_national_id = ? AND role = 'treasurer'", treasurer)
    kinds = {kind for kind, _, _ in signed}
    assert {"contract_stage", "status_statement"} <= kinds, signed
    assert all(cert == serial for _, _, cert in signed), signed
    # Nobody else signed with it.
    others = _rows(db, "SELECT signer_national_id FROM signatures WHERE cert_serial = ? AND signer_national_id != ?",
                   serial, treasurer)
    assert others == []


def test_r26_trainee_who_is_nobody_is_refused(tmp_path):
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is needed")
    env = _trainee_station(tmp_path)
    out = subprocess.run([EPROC, "pilot", "--scenario", str(TRAINING), "--trainee", "nobody-here",
                          "--trainee-token", LABEL, "--workdir", str(tmp_path / "w"), "--json"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0
    assert "INVALID_INPUT" in out.stdout + out.stderr
