"""The eproc command as people run it: clear Persian errors, never a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EPROC = [str(Path(sys.executable).parent / "eproc")]


def run(args, tmp_path, **env):
    full_env = {**os.environ, "EPROC_DATA_DIR": str(tmp_path / "data"), **env}
    full_env.pop("EPROC_DATABASE_URL", None) if "EPROC_DATABASE_URL" not in env else None
    return subprocess.run(EPROC + args, capture_output=True, text=True, env=full_env, timeout=120)


def _no_traceback(proc):
    assert "Traceback" not in proc.stdout + proc.stderr


def test_policy_show_answers_in_one_call(tmp_path):
    proc = run(["policy", "show", "--unit", "district-12", "--date", "۱۴۰۰/۰۴/۲۰", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["rules"]["electronic_envelope_b"]["in_force"] is True
    assert data["workflow"][0] == "draft" and data["workflow"][-1] == "final"


@pytest.mark.parametrize("args,reason", [
    (["policy", "show", "--unit", "district-99", "--date", "1400/04/20"], "UNKNOWN_UNIT"),
    (["policy", "show", "--unit", "district-12", "--date", "1400/13/01"], "INVALID_INPUT"),
    (["policy", "show", "--unit", "district-12", "--date", "1400/12/30"], "INVALID_INPUT"),
    (["registry", "add-person", "--nid", "1234567890", "--name", "x"], "INVALID_INPUT"),
    (["registry", "add-company", "--nid", "50752917037", "--name", "x", "--economic-code", "411111111111",
      "--grade", "2"], "INVALID_INPUT"),
])
def test_bad_input_gets_a_clear_error(tmp_path, args, reason):
    if args[0] == "registry":
        assert run(["db", "upgrade"], tmp_path).returncode == 0
    proc = run(args + ["--json"], tmp_path)
    assert proc.returncode == 2
    _no_traceback(proc)
    err = json.loads(proc.stdout)["error"]
    assert err["reason"] == reason and err["message"]


def test_unreachable_database_url(tmp_path):
    proc = run(["db", "upgrade"], tmp_path, EPROC_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert proc.returncode == 2
    _no_traceback(proc)
    assert "STORE_UNREACHABLE" in proc.stderr and "پایگاه داده" in proc.stderr


def test_a_store_never_migrated_is_refused_with_the_command_to_run(tmp_path):
    """The store error arrives as SQLAlchemy's, which the CLI no longer imports at start (eproc.errors)."""
    proc = run(["audit", "verify"], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _no_traceback(proc)
    assert "STORE_UNREACHABLE" in proc.stderr and "eproc db upgrade" in proc.stderr


def test_the_cli_starts_without_the_store_the_engine_or_prefect():
    """A station's command (`eproc contract`, `eproc session`, ...) never opens the local database: the
    CLI imports the store, SQLAlchemy, the policy and Prefect only when a command asks for them."""
    code = ("import sys; import eproc.cli; "
            "print(sorted(m for m in ('sqlalchemy', 'store', 'services', 'config.policy', 'prefect', 'cryptography') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_policy_file_with_wrong_key(tmp_path):
    from config.settings import BUNDLED_POLICY

    bad = tmp_path / "p.toml"
    bad.write_text(BUNDLED_POLICY.read_text(encoding="utf-8").replace("signing_days", "signing_dayz"), "utf-8")
    proc = run(["policy", "validate", str(bad)], tmp_path)
    assert proc.returncode == 2
    _no_traceback(proc)
    assert "POLICY_INVALID" in proc.stderr and "defaults.signing_dayz" in proc.stderr.replace("\n", "")


def test_registry_and_audit_verify(tmp_path):
    assert run(["registry", "sync-units"], tmp_path).returncode == 0
    assert run(["registry", "add-person", "--nid", "۵۲۶۰۱۸۱۵۹۱", "--name", "علي"], tmp_path).returncode == 0
    proc = run(["registry", "assign-role", "--nid", "5260181591", "--role", "chair", "--unit", "district-12",
                "--from", "1400/01/01"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    roles = json.loads(run(["registry", "roles", "--unit", "district-12", "--date", "1400/04/20", "--json"],
                           tmp_path).stdout)
    assert roles == [{"role": "chair", "national_id": "5260181591", "from": "1400/01/01", "until": None}]
    report = json.loads(run(["audit", "verify", "--json"], tmp_path).stdout)
    assert report["ok"] is True and report["entries"] >= 28
