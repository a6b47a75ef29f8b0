"""Issue 10, classes 9, 10, 12 and 14 through the real entry point people use: the eproc command.
Numbers, identifiers, Tehran times and sealed content are refused with a Persian INVALID_INPUT and
exit status 2, never read as something else."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from pilot.scenario import DEFAULT_SCENARIO

EPROC = [str(Path(sys.executable).parent / "eproc")]


def run(args, tmp_path, **env):
    full_env = {**os.environ, "EPROC_DATA_DIR": str(tmp_path / "data"), **env}
    full_env.pop("EPROC_DATABASE_URL", None)
    return subprocess.run(EPROC + args, capture_output=True, text=True, env=full_env, timeout=120)


def _error(proc) -> dict:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    return json.loads(proc.stdout)["error"]


def _scenario(tmp_path: Path, old: str, new: str) -> Path:
    base = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    text = base.replace(old, new, 1)
    assert text != base
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_r01_pilot_refuses_an_amount_with_a_misplaced_grouping_separator(tmp_path):
    path = _scenario(tmp_path, "price = { coefficient = 0.91 }", 'price = { amount_rial = "12,967,500,00" }')
    err = _error(run(["pilot", "--scenario", str(path), "--json"], tmp_path))
    assert err["reason"] == "INVALID_INPUT"
    assert "«12,967,500,00»" in err["message"] and "جداکنندهٔ هزارگان" in err["message"]


def test_r01_pilot_refuses_a_tehran_time_that_did_not_exist(tmp_path):
    path = _scenario(tmp_path, 'submit_at = "1400/04/09 10:30"', 'submit_at = "۱۴۰۰/۰۱/۰۲ ۰۰:۳۰"')
    err = _error(run(["pilot", "--scenario", str(path), "--json"], tmp_path))
    assert err["reason"] == "INVALID_INPUT"
    assert "«1400/01/02 00:30»" in err["message"] and "وجود ندارد" in err["message"]


def test_r21_registry_applies_the_identifier_rules(tmp_path):
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    company = ["registry", "add-company", "--name", "شرکت", "--economic-code", "411111111111", "--grade", "۲", "--json"]
    err = _error(run(company + ["--nid", "00000000009"], tmp_path))
    assert err["reason"] == "INVALID_INPUT" and "00000000009" in err["message"]
    ok = run(company + ["--nid", "\u200f۵۰۷۵۲۹۱۷۰۳۶\u200e"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"national_id": "50752917036"}
    err = _error(run(["registry", "add-person", "--nid", "0010000003", "--name", "x", "--json"], tmp_path))
    assert err["reason"] == "INVALID_INPUT"


def _seal(tmp_path: Path, envelope: str, content: bytes, **env) -> subprocess.CompletedProcess[str]:
    # The content is read and refused on the bidder's station before the notice is even opened.
    path = tmp_path / f"{envelope}.json"
    path.write_bytes(content)
    return run(["bid", "seal", "--tender", "t", "--bidder", "b1", "--company", "50752917036",
                f"--{envelope}", str(path), "--token", "none", "--notice", str(tmp_path / "notice.xml"),
                "--out", str(tmp_path / "bid.sealed")], tmp_path, **env)


def test_r08_bid_seal_refuses_a_key_given_twice(tmp_path):
    proc = _seal(tmp_path, "c", b'{"coefficient": "0.90", "coefficient": "0.10"}')
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "INVALID_INPUT" in proc.stderr and "دو بار" in proc.stderr
    assert not (tmp_path / "bid.sealed").exists()


def test_r08_bid_seal_refuses_content_beyond_the_policy_caps(tmp_path):
    from config.settings import BUNDLED_POLICY

    policy = BUNDLED_POLICY.read_text(encoding="utf-8").replace(
        "max_attachment_bytes = 20_971_520", "max_attachment_bytes = 1_024")
    assert "max_attachment_bytes = 1_024" in policy
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    env = {"EPROC_POLICY_FILE": str(tmp_path / "policy.toml")}
    attachment = base64.b64encode(b"%PDF" + b"x" * 2_000).decode()
    big = json.dumps({"documents": ["grade_certificate"], "grade": 2,
                      "attachments": [{"name": "technical.pdf", "content_b64": attachment}]}).encode()
    proc = _seal(tmp_path, "b", big, **env)
    assert proc.returncode == 2 and "پیوست" in proc.stderr and "سقف" in proc.stderr
    proc = _seal(tmp_path, "c", b'{"coefficient": "4.5"}', **env)  # the bundled cap is 3 x the estimate
    assert proc.returncode == 2 and "سقف" in proc.stderr
