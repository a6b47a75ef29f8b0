"""R21 as an auditor runs it: `eproc audit verify --checkpoints` on the engine's database, and the
evidence bundle's VERIFY.md (xmlsec1 on a checkpoint, the signed heads against log.jsonl), after an
insider with the SQLite file rewrote the log with recomputed hashes or cut it short."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pilot_harness import world_with_bids

EPROC = [str(Path(sys.executable).parent / "eproc")]


def _bundle(tmp_path: Path):
    """A world with its notice and every receipt checkpointed, and its evidence bundle."""
    from pilot.evidence import write_bundle

    world, _scenario = world_with_bids(tmp_path)
    out = tmp_path / "bundle"
    write_bundle(world, out, {})
    return world, out


def _eproc(world, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EPROC_DATA_DIR": str(world.base_dir)}
    env.pop("EPROC_DATABASE_URL", None)
    return subprocess.run(EPROC + list(args), capture_output=True, text=True, env=env, timeout=120)


def _verify(world, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _eproc(world, "audit", "verify", "--checkpoints", str(out / "audit" / "checkpoints"),
                  "--ca", str(out / "trust" / "ca.pem"), *extra)


def _insider(world) -> sqlite3.Connection:
    """The database file, every guard on it dropped (whoever holds the file can)."""
    db = sqlite3.connect(world.base_dir / "eproc.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    return db


def _entry_hash(prev, at, actor, action, entity, entity_id, reason, payload_json) -> str:
    """The published formula (VERIFY.md), as an insider would recompute it."""
    import hashlib

    when = datetime.fromisoformat(at).replace(tzinfo=timezone.utc).isoformat()
    body = json.dumps([prev, when, actor, action, entity, entity_id, reason, payload_json],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _rewrite(db: sqlite3.Connection, seq: int) -> None:
    """Change who submitted entry `seq` and recompute it and every later entry (INSERT OR REPLACE)."""
    prev = db.execute("SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1", (seq,)).fetchone()[0]
    rows = db.execute("SELECT seq, at, actor, action, entity, entity_id, reason, payload_json FROM audit_log "
                      "WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
    for s, at, actor, action, entity, entity_id, reason, payload in rows:
        if s == seq:
            actor = "b9"
        digest = _entry_hash(prev, at, actor, action, entity, entity_id, reason, payload)
        db.execute("INSERT OR REPLACE INTO audit_log (seq, at, actor, action, entity, entity_id, reason, payload_json, "
                   "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (s, at, actor, action, entity, entity_id, reason, payload, prev, digest))
        prev = digest


def _verify_md_script(out: Path) -> subprocess.CompletedProcess[str]:
    """The auditor's comparison of the signed heads with log.jsonl, exactly as VERIFY.md gives it."""
    text = (out / "audit" / "VERIFY.md").read_text(encoding="utf-8")
    script = text.split("## ", 1)[1].split("python3 - <<'PY'\n", 1)[1].split("    PY\n", 1)[0]
    code = "\n".join(line[4:] for line in script.splitlines())
    return subprocess.run([sys.executable, "-c", code], cwd=out / "audit", capture_output=True, text=True, timeout=60)


def test_r21_audit_verify_with_checkpoints_detects_a_rewritten_log(tmp_path):
    world, out = _bundle(tmp_path)
    proc = _verify(world, out, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["checkpoints"]["checked"] == 6 and report["checkpoints"]["problems"] == []
    assert _verify_md_script(out).returncode == 0

    first_head = min(int(p.name.split(".")[0]) for p in (out / "audit" / "checkpoints").glob("*.xml"))
    db = _insider(world)
    _rewrite(db, first_head)  # the entry the notice's checkpoint signed as the chain's head
    db.commit()
    db.close()
    plain_proc = _eproc(world, "audit", "verify", "--json")
    plain = json.loads(plain_proc.stdout)
    # Recomputed hashes: the chain alone no longer tells, but the checkpoints stored in the
    # database (signed by the engine) do, even without the published ones.
    assert plain_proc.returncode == 2 and plain["chain_ok"] is True and plain["ok"] is False
    proc = _verify(world, out, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False and report["chain_ok"] is True
    problems = report["checkpoints"]["problems"]
    assert problems and {p["problem"] for p in problems} == {"rewritten"} and min(p["seq"] for p in problems) == first_head
    assert {p["reason"] for p in problems} == {"AUDIT_APPEND_ONLY"}
    text = _verify(world, out)
    assert text.returncode == 2 and "بازنویسی" in text.stdout and "Traceback" not in text.stdout + text.stderr
    # The auditor's own check on the insider's export says the same.
    assert _eproc(world, "audit", "export", str(out / "audit" / "log.jsonl")).returncode == 0
    check = _verify_md_script(out)
    assert check.returncode == 1 and "REWRITTEN" in check.stdout


def test_r21_audit_verify_with_checkpoints_detects_a_truncated_log(tmp_path):
    world, out = _bundle(tmp_path)
    newest = max(int(p.stem) for p in (out / "audit" / "checkpoints").glob("*.xml"))
    db = _insider(world)
    db.execute("DELETE FROM audit_log WHERE seq > ?", (newest - 3,))
    db.commit()
    db.close()
    assert _eproc(world, "audit", "verify").returncode == 2  # still chains, but shorter than its stored checkpoints
    proc = _verify(world, out, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    checkpoints = json.loads(proc.stdout)["checkpoints"]
    assert checkpoints["stored_last_seq"] == newest - 3 and checkpoints["newest_seq"] == newest
    assert {p["problem"] for p in checkpoints["problems"]} == {"truncated"}
    text = _verify(world, out)
    assert text.returncode == 2 and "کوتاه‌تر" in text.stdout
    assert _eproc(world, "audit", "export", str(out / "audit" / "log.jsonl")).returncode == 0
    check = _verify_md_script(out)
    assert check.returncode == 1 and "TRUNCATED" in check.stdout


def test_r21_verify_md_xmlsec1_command_checks_a_checkpoint(tmp_path):
    from domain.xmlsafe import parse_untrusted
    from signing.outside import xmlsec1_available
    from signing.xmldsig import signature_elements, signature_info

    if not xmlsec1_available():
        pytest.skip("xmlsec1 is not installed")
    world, out = _bundle(tmp_path)
    text = (out / "audit" / "VERIFY.md").read_text(encoding="utf-8")
    section = text.split("## ", 1)[1]
    block = re.search(r"\n    (xmlsec1 .*?\.xml)\n", section, re.S).group(1)
    command = " ".join(part.strip() for part in block.replace("\\\n", "\n").splitlines())
    newest = sorted((out / "audit" / "checkpoints").glob("*.xml"))[-1]
    sig = signature_elements(parse_untrusted(newest.read_bytes()))[0]
    when = signature_info(sig, 0).signing_time.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    command = (command.replace("<signing time, UTC, YYYY-MM-DD HH:MM:SS>", when)
               .replace("checkpoints/0000000042.xml", f"checkpoints/{newest.name}"))
    ok = subprocess.run(command, shell=True, cwd=out / "audit", capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    tampered = out / "audit" / "checkpoints" / newest.name
    tampered.write_bytes(tampered.read_bytes().replace(b'<Head seq="', b'<Head seq="9', 1))
    bad = subprocess.run(command, shell=True, cwd=out / "audit", capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    proc = _verify(world, out, "--json")
    assert proc.returncode == 2
    assert [p["reason"] for p in json.loads(proc.stdout)["checkpoints"]["problems"]] == ["SIGNATURE_INVALID"]
