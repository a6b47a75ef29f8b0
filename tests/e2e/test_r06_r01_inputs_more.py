"""Issue 10 through the eproc command, as a careless user meets it:

- R06 (class 13: a reader's failure is a reason code, never a traceback): a malformed spreadsheet given
  to `eproc import contracts` (broken XML inside the zip, not a zip at all, a truncated zip, a zip
  without a sheet) ends in MALFORMED_XML or INVALID_INPUT naming the file, exit status 2.
- R01 (class 12): a TOML native datetime in a scenario is refused with a Persian INVALID_INPUT that
  says to write Jalali text, not a TypeError from comparing naive and aware datetimes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pilot.scenario import DEFAULT_SCENARIO

EPROC = [str(Path(sys.executable).parent / "eproc")]


def run(args, tmp_path):
    env = {**os.environ, "EPROC_DATA_DIR": str(tmp_path / "data")}
    env.pop("EPROC_DATABASE_URL", None)
    return subprocess.run(EPROC + args, capture_output=True, text=True, env=env, timeout=180)


def _error(proc) -> dict:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    return json.loads(proc.stdout)["error"]


def _good_workbook(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["legacy_id", "unit", "subject"])
    wb.active.append(["L-1", "district-12", "آسفالت"])
    wb.save(path)
    return path


def _with_part(src: Path, dst: Path, name: str, data: bytes | None) -> Path:
    """A copy of the workbook with one part replaced (or dropped when `data` is None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename == name:
                if data is not None:
                    zout.writestr(info, data)
            else:
                zout.writestr(info, zin.read(info.filename))
    return dst


def _broken(kind: str, tmp_path: Path) -> Path:
    good = _good_workbook(tmp_path / "good.xlsx")
    bad = tmp_path / f"bad-{kind}.xlsx"
    if kind == "sheet-xml":
        return _with_part(good, bad, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row><c>")
    if kind == "workbook-xml":
        return _with_part(good, bad, "xl/workbook.xml", b"<workbook><sheets")
    if kind == "no-sheet":
        return _with_part(good, bad, "xl/worksheets/sheet1.xml", None)
    if kind == "not-zip":
        bad.write_bytes("قراردادها، نه یک پروندهٔ Excel".encode())
        return bad
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])  # truncated
    return bad


@pytest.mark.parametrize("kind, reason", [("sheet-xml", "MALFORMED_XML"), ("workbook-xml", "MALFORMED_XML"),
                                          ("no-sheet", "INVALID_INPUT"), ("not-zip", "INVALID_INPUT"),
                                          ("truncated", "INVALID_INPUT")])
def test_r06_import_of_a_malformed_spreadsheet_is_a_reason_code_naming_the_file(tmp_path, kind, reason):
    bad = _broken(kind, tmp_path)
    err = _error(run(["import", "contracts", str(bad), "--json"], tmp_path))
    assert err["reason"] == reason
    assert f"«{bad.name}»" in err["message"] and "Excel" in err["message"]


def test_r06_a_malformed_spreadsheet_without_json_is_one_persian_line(tmp_path):
    bad = _broken("sheet-xml", tmp_path)
    proc = run(["import", "contracts", str(bad)], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert bad.name in proc.stdout + proc.stderr


def test_r06_every_spreadsheet_reader_reports_a_broken_file_as_a_reason_code(tmp_path):
    """The readers under the command too: the row count for the progress bar has no total, and the
    reader refuses with the reason code (no XMLSyntaxError, ParseError, BadZipFile or IndexError)."""
    from domain.reasons import DomainError
    from services.legacy import estimate_rows, read_rows

    for kind in ("sheet-xml", "workbook-xml", "no-sheet", "not-zip", "truncated"):
        bad = _broken(kind, tmp_path)
        assert estimate_rows(bad) is None
        with pytest.raises(DomainError) as err:
            list(read_rows(bad))
        assert err.value.reason.value in ("MALFORMED_XML", "INVALID_INPUT") and bad.name in err.value.detail


@pytest.mark.parametrize("native", ["2021-07-04T10:00:00", "2021-07-04T10:00:00+04:30", "2021-07-04"])
def test_r01_pilot_refuses_a_toml_native_datetime_in_the_scenario(tmp_path, native):
    base = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    text = base.replace('opening_at = "1400/04/13 10:00"', f"opening_at = {native}", 1)
    assert text != base
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    err = _error(run(["pilot", "--scenario", str(path), "--json"], tmp_path))
    assert err["reason"] == "INVALID_INPUT"
    assert "opening_at" in err["message"] and "1400/04/13 10:00" in err["message"]
    assert "offset-naive" not in err["message"]
