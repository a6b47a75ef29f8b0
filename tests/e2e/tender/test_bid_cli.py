"""`eproc bid seal` / `eproc bid submit` against a pilot's world, as a bidder and the engine run them."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

EPROC = str(Path(sys.executable).parent / "eproc")


def test_r01_sealed_bid_from_the_command_line_is_refused_after_the_deadline(prefect_server, tmp_path):
    from pilot.world import PIN, simulated_national_id

    work = (tmp_path / "world").resolve()
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_LOGGING_LEVEL": "WARNING"}
    pilot = subprocess.run([EPROC, "pilot", "--json", "--workdir", str(work)], capture_output=True, text=True,
                           env=env, timeout=600)
    assert pilot.returncode == 0, pilot.stderr[-2000:]
    env.update(EPROC_DATA_DIR=str(work), SOFTHSM2_CONF=str(work / "tokens" / "softhsm2.conf"),
               EPROC_TOKEN_PIN=PIN)
    env.pop("EPROC_DATABASE_URL", None)
    (tmp_path / "a.json").write_text(json.dumps({"guarantee": {"amount_rial": 650_000_000,
                                                               "valid_until": "۱۴۰۰/۰۷/۳۰"}}))
    (tmp_path / "b.json").write_text(json.dumps({"documents": ["articles_of_association"], "grade": 2}))
    (tmp_path / "c.json").write_text(json.dumps({"coefficient": "0.90"}))
    nid = simulated_national_id("district-12-asphalt:signatory:b1")
    label = hashlib.sha256(str(work).encode()).hexdigest()[:6] + "-" + nid
    sealed = subprocess.run([EPROC, "bid", "seal", "--tender", "district-12-asphalt", "--bidder", "b1",
                             "--company", "50752917036", "--a", str(tmp_path / "a.json"), "--b",
                             str(tmp_path / "b.json"), "--c", str(tmp_path / "c.json"), "--token", label,
                             "--out", str(tmp_path / "bid.sealed")], capture_output=True, text=True, env=env,
                            timeout=120)
    assert sealed.returncode == 0, sealed.stderr
    bundle = json.loads((tmp_path / "bid.sealed").read_text())
    assert b"0.90" not in base64.b64decode(bundle["sealed"])  # only ciphertext leaves the bidder
    submitted = subprocess.run([EPROC, "bid", "submit", str(tmp_path / "bid.sealed"), "--json"],
                               capture_output=True, text=True, env=env, timeout=120)
    assert submitted.returncode == 2
    assert json.loads(submitted.stdout) == {"accepted": False, "reason": "LATE_SUBMISSION", "seq": None}
    conn = sqlite3.connect(work / "eproc.db")
    refusals = conn.execute("SELECT reason FROM audit_log WHERE action='bid.refused'").fetchall()
    conn.close()
    assert refusals == [("LATE_SUBMISSION",)]  # the refused attempt is audited

    broken = dict(bundle, sealed="not base64!")
    (tmp_path / "broken.sealed").write_text(json.dumps(broken))
    bad = subprocess.run([EPROC, "bid", "submit", str(tmp_path / "broken.sealed"), "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["reason"] == "INVALID_INPUT"
    assert "Traceback" not in bad.stderr
