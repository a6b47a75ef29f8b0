"""The import and report commands as people run them: --json, Excel files, no tracebacks."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[3]
EPROC = [str(Path(sys.executable).parent / "eproc")]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "legacy"))
from legacy_rows import HEADERS_FA, good_row  # noqa: E402


def run(args, tmp_path):
    env = {**os.environ, "EPROC_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("EPROC_DATABASE_URL", None)
    proc = subprocess.run(EPROC + args, capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def legacy_file(tmp_path) -> Path:
    path = tmp_path / "legacy.csv"
    rows = [good_row(1, status="نهایی"), good_row(2), good_row(3, unit="district-2", supervisor="1111111111")]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS_FA.values())
        w.writerows([r[k] for k in HEADERS_FA] for r in rows)
    return path


def test_r15_r16_cli_import_corrections_and_reports(tmp_path):
    # One database through the whole story keeps the number of (slow) process starts down.
    path = legacy_file(tmp_path)
    proc = run(["import", "contracts", str(path), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["units"]["district-12"]["imported"] == 2 and summary["units"]["district-2"]["to_correct"] == 1

    again = run(["import", "contracts", str(path)], tmp_path)
    assert again.returncode == 0 and "district-12" in again.stdout  # the per-unit table; identifiers exactly as typed (issue 16)

    inbox = json.loads(run(["import", "corrections", "--unit", "district-2", "--json"], tmp_path).stdout)
    assert inbox["count"] == 1 and inbox["items"][0]["problems"][0]["field"] == "supervisor"

    xlsx = tmp_path / "out" / "monthly.xlsx"
    proc = run(["report", "monthly", "--year", "1400", "--month", "6", "--unit", "district-12", "--json",
                "--excel", str(xlsx)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {r["threshold_class"]: (r["concluded"], r["in_progress"]) for r in json.loads(proc.stdout)["rows"]}
    # legacy row 1 is final, concluded 1400/06/15; row 2 is still in progress.
    assert rows == {"small": (1, 1), "medium": (0, 0), "large": (0, 0)}
    ws = load_workbook(xlsx).active
    assert ws.sheet_view.rightToLeft and ws["D2"].value == 1

    refused = run(["report", "refused-payments", "--json"], tmp_path)
    assert refused.returncode == 0 and json.loads(refused.stdout)["count"] == 0

    projects = run(["report", "projects", "--excel", str(tmp_path / "p.xlsx")], tmp_path)
    assert projects.returncode == 0, projects.stderr
    assert "پروژه‌های عمرانی" in projects.stdout
    sheet = load_workbook(tmp_path / "p.xlsx").active
    assert sheet.sheet_view.rightToLeft and sheet["A1"].value == "کد پروژه"


def test_r16_cli_refuses_a_missing_file(tmp_path):
    proc = run(["import", "contracts", str(tmp_path / "none.csv"), "--json"], tmp_path)
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["reason"] == "INVALID_INPUT"
