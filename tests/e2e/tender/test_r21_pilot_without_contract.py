"""A rehearsal that ends without a contract (no [contract] in the file, a re-tender, a blocked
session) still writes its evidence bundle and exits 0: the bundle has no release package and the
report's contract and publication are null (R21 publishes only contracts that exist)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pilot_harness import DISTRICT_12, load_raw, variant, write

EPROC = str(Path(sys.executable).parent / "eproc")


def test_r21_pilot_without_a_contract_writes_its_bundle_and_exits_0(prefect_server, tmp_path):
    data = variant(load_raw(DISTRICT_12), "no-contract")
    for key in ("contract", "status_statements", "payments"):
        data.pop(key, None)
    scenario = write(tmp_path, data)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_LOGGING_LEVEL": "WARNING"}
    out = tmp_path / "bundle"
    proc = subprocess.run([EPROC, "pilot", "--json", "--scenario", str(scenario), "--out", str(out),
                           "--workdir", str(tmp_path / "work")], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["tender"]["status"] == "awarded"
    assert report["contract"] is None and report["publication"] is None
    assert (out / "minutes" / "article13.xml").exists() and (out / "audit" / "log.jsonl").exists()
    assert not (out / "ocds").exists()


def test_r21_commands_before_db_upgrade_say_what_to_run(tmp_path):
    env = {**os.environ, "EPROC_DATA_DIR": str(tmp_path / "fresh")}
    env.pop("EPROC_DATABASE_URL", None)
    proc = subprocess.run([EPROC, "registry", "add-person", "--nid", "5260181591", "--name", "آزمون"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "eproc db upgrade" in proc.stdout + proc.stderr and "STORE_UNREACHABLE" in proc.stdout + proc.stderr
