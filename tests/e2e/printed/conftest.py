"""One default rehearsal for the printable-documents and terminal tests (issue 16): `eproc pilot
--out DIR --workdir W` at COLUMNS=80, its terminal output, its evidence bundle and its store."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "tests" / "artifacts" / "documents"


@dataclass(frozen=True)
class Rehearsal:
    out: Path
    workdir: Path
    terminal: str


@pytest.fixture(scope="session")
def rehearsal(tmp_path_factory) -> Rehearsal:
    base = tmp_path_factory.mktemp("issue16")
    out, workdir = base / "out", base / "work"
    # A rehearsal of its own: its own Prefect home (two local servers on one home's database can stall
    # each other when the suite's workers run at once) and no token or engine settings of this process.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("EPROC_", "PREFECT_", "SOFTHSM2_CONF"))}
    env = {**inherited, "COLUMNS": "80", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_HOME": str(base / "prefect"), "TERM": "dumb", "PREFECT_LOGGING_LEVEL": "WARNING"}
    done = subprocess.run([str(Path(sys.executable).parent / "eproc"), "pilot", "--out", str(out),
                           "--workdir", str(workdir)], env=env, capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return Rehearsal(out, workdir, done.stdout)
