"""Reading a legacy contracts file (R16): CSV or .xlsx rows, streamed, as text keyed by canonical field.

Headers are matched loosely (Persian or English titles, spacing, ZWNJ and digits normalised), cells
become normalised text; nothing is checked here beyond the header (validate.py checks the rows).
"""
from __future__ import annotations

import csv
import hashlib
import re
import zipfile
from collections.abc import Generator, Iterable, Iterator
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain.contract.fields import COMMON_FIELDS
from domain.persian import format_jalali_date, needs_normalize, normalize
from domain.reasons import DomainError, Reason

LIST_FIELDS = ("employer_signatories", "commission_members", "contractor_signatories")
OPTIONAL_COLUMNS = ("status", "contract_code")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")

FIELD_LABELS: dict[str, str] = {
    "legacy_id": "شناسهٔ قرارداد در سامانهٔ قدیم",
    **COMMON_FIELDS,
    "status": "وضعیت قرارداد",
    "contract_code": "کد قرارداد",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "legacy_id": ("legacy id", "legacy contract id", "id", "شناسه", "شناسه قدیمی", "شناسه قرارداد",
                  "شناسه قرارداد قدیمی", "شماره قرارداد قدیمی"),
    "unit": ("unit", "unit id", "unit code", "کد واحد", "شناسه واحد", "منطقه", "واحد سازمانی"),
    "subject": ("subject", "title", "موضوع", "عنوان قرارداد"),
    "contractor_national_id": ("contractor national id", "contractor id", "company national id",
                               "شناسه ملی شرکت", "شناسه ملی پیمانکار"),
    "contractor_economic_code": ("contractor economic code", "economic code", "کد اقتصادی"),
    "contractor_grade": ("grade", "contractor grade", "رتبه"),
    "contractor_ceo": ("ceo", "contractor ceo", "ceo national id", "مدیرعامل", "کد ملی مدیرعامل"),
    "contractor_signatories": ("contractor signatories", "امضاکنندگان شرکت"),
    "contract_date": ("contract date", "date", "تاریخ"),
    "contract_amount_rial": ("amount", "amount rial", "contract amount", "مبلغ", "مبلغ قرارداد ریال",
                             "مبلغ (ریال)", "مبلغ قرارداد (ریال)"),
    "selection_method": ("selection method", "روش انتخاب", "روش انجام معامله"),
    "supervisor": ("supervisor", "supervisor national id", "کد ملی ناظر"),
    "employer_signatories": ("employer signatories", "امضاکنندگان"),
    "commission_members": ("commission members", "اعضای کمیسیون"),
    "budget_line": ("budget line",),
    "expense_factor": ("expense factor",),
    "status": ("status", "stage", "وضعیت", "مرحله", "وضعیت قرارداد"),
    "contract_code": ("contract code", "code", "کد قرارداد"),
}

_KEY_DROP = re.compile("[\\s_\\-.()\u200c\u0654]")


def header_key(text: object) -> str:
    """A header title or unit name reduced to what tells it apart: normalised, lower case, no spacing.

    Shapes: any object (a cell) -> str. Raises: nothing. Serves R16 (loose header and unit matching).
    """
    return _KEY_DROP.sub("", normalize(str(text)).lower())


HEADER_MAP: dict[str, str] = {}
for _name, _aliases in _ALIASES.items():
    for _alias in (_name, *_aliases, FIELD_LABELS[_name]):
        HEADER_MAP[header_key(_alias)] = _name


def read_rows(path: Path | str, unit_column: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Every non-blank data row of a legacy file, streamed (constant memory whatever the file's size).

    Shapes: yields (spreadsheet row number, counting the header as 1; {canonical field: cell text}).
    List cells (signatories, commission members) stay unsplit; a real date cell becomes Jalali text.
    `unit_column` names the unit column when its title is not one of the known ones.
    Raises: INVALID_INPUT (no such file, not CSV/xlsx, empty, not UTF-8, a workbook that is not a
    readable zip or lacks a sheet), MALFORMED_XML (a workbook whose XML inside is broken), FIELD_MISSING (a mandatory column is absent from the header). Serves R16.
    """
    path = Path(path)
    if not path.exists():
        raise DomainError(Reason.INVALID_INPUT, f"پرونده پیدا نشد: {path}")
    if path.suffix.lower() in XLSX_SUFFIXES:
        rows = _xlsx_rows(path)
    elif path.suffix.lower() in CSV_SUFFIXES:
        rows = _csv_rows(path)
    else:
        raise DomainError(Reason.INVALID_INPUT, f"قالب پرونده پشتیبانی نمی‌شود (CSV یا xlsx): {path.name}")
    try:
        header = next(rows, None)
        if header is None:
            raise DomainError(Reason.INVALID_INPUT, f"پرونده خالی است: {path.name}")
        columns = [(i, name, _list_text if name in LIST_FIELDS else _text)
                   for i, name in map_header(header, unit_column).items()]
        for number, cells in enumerate(rows, start=2):
            width = len(cells)
            row = {name: (to_text(cells[i]) if i < width else "") for i, name, to_text in columns}
            if any(row.values()):
                yield number, row
    finally:
        rows.close()


def map_header(header: Iterable[Any], unit_column: str | None = None) -> dict[int, str]:
    """The header row as {column index: canonical field}; the first column of a field wins.

    Raises: FIELD_MISSING naming every mandatory column absent (detail `fields`, comma-separated).
    Serves R16 and R21 (every field the transparency site shows must be there).
    """
    columns: dict[int, str] = {}
    unit_key = header_key(unit_column) if unit_column else None
    for i, title in enumerate(header):
        if _blank(title):
            continue
        k = header_key(title)
        if unit_key is not None:
            if k == unit_key:
                columns[i] = "unit"
                continue
            if HEADER_MAP.get(k) == "unit":
                continue  # the named column replaces the default unit column
        name = HEADER_MAP.get(k)
        if name is not None and name not in columns.values():
            columns[i] = name
    absent = [n for n in FIELD_LABELS if n not in OPTIONAL_COLUMNS and n != "threshold_class"
              and n not in columns.values()]
    if absent:
        raise DomainError(Reason.FIELD_MISSING, "ستون‌های لازم در سرستون پرونده نیست: "
                          + "، ".join(f"{FIELD_LABELS[n]} ({n})" for n in absent), fields=",".join(absent))
    return columns


def estimate_rows(path: Path | str) -> int | None:
    """How many data rows a file holds, for a progress bar: newlines of a CSV, an xlsx sheet's dimension.

    Shapes: a path -> a row count, or None when the file cannot be read (the bar then has no total;
    read_rows then refuses the file with its reason code).
    Raises: nothing. Serves R16 (progress of a migration-sized import).
    """
    path = Path(path)
    try:
        if path.suffix.lower() in XLSX_SUFFIXES:
            from openpyxl import load_workbook

            try:
                wb = load_workbook(path, read_only=True)
                try:
                    max_row = wb.worksheets[0].max_row
                finally:
                    wb.close()
            except Exception:  # noqa: BLE001 - any broken workbook: no total (read_rows says why)
                return None
            return max(max_row - 1, 0) if max_row else None
        count = 0
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                count += chunk.count(b"\n")
        return max(count - 1, 0)
    except OSError:
        return None


def file_sha256(path: Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB chunks: which file an import run read. Serves R16.

    Raises: OSError when the file cannot be read (read_rows has refused a missing file before).
    """
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _csv_rows(path: Path) -> Generator[list[Any], None, None]:
    # utf-8-sig drops the BOM Excel writes; newline="" lets csv handle quoted line breaks.
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            first = f.readline()
            delimiter = max((",", ";", "\t"), key=first.count)
            f.seek(0)
            yield from csv.reader(f, delimiter=delimiter)
        except UnicodeDecodeError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پرونده با UTF-8 خوانده نمی‌شود: {exc}") from None


def _xlsx_rows(path: Path) -> Generator[list[Any], None, None]:
    # read_only openpyxl parses the sheet while it is iterated: a broken part surfaces mid-file too.
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises several unrelated types for a broken file
        raise unreadable_workbook(path, exc) from None
    try:
        if not wb.worksheets:
            raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ Excel «{path.name}» کاربرگی ندارد")
        rows = wb.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # noqa: BLE001 - as above, while the sheet's XML is read
                raise unreadable_workbook(path, exc) from None
            if row is None:
                return
            yield list(row)
    finally:
        wb.close()


def unreadable_workbook(path: Path, exc: Exception) -> DomainError:
    """The refusal of a spreadsheet that cannot be read, naming the file: MALFORMED_XML when the XML
    inside the workbook is broken, INVALID_INPUT otherwise (not a zip, a part missing, bad values).

    Shapes: (the file, the reader's exception) -> a DomainError to raise. Raises: nothing. Serves R16
    (issue 10, class 13: a reader's failure is a reason code, never a traceback)."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, SyntaxError):  # lxml's XMLSyntaxError and xml.etree's ParseError both are
        return DomainError(Reason.MALFORMED_XML, f"پروندهٔ Excel «{path.name}» خوانده نمی‌شود: XML درون آن خراب است "
                                                 f"({type(exc).__name__})")
    what = "بستهٔ zip آن خراب است" if isinstance(exc, zipfile.BadZipFile) else "ساختار آن نادرست است"
    return DomainError(Reason.INVALID_INPUT, f"پروندهٔ Excel «{path.name}» خوانده نمی‌شود: {what} "
                                             f"({type(exc).__name__})")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- cells as text ------------------------------------------------------------------------

_normalize_cached = lru_cache(maxsize=4_096)(normalize)


def _normalize(text: str) -> str:
    # domain.persian.needs_normalize is the cheap test of what normalize() would change.
    return _normalize_cached(text) if needs_normalize(text) else text.strip()


def _text(value: Any) -> str:
    """A cell as normalised text; spreadsheet numbers lose their spurious `.0`."""
    if value.__class__ is str:  # every CSV cell: the hot path
        return value.strip() if value.isascii() and "  " not in value else _normalize(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return format_jalali_date(value)  # a real date cell is Gregorian; the system speaks Jalali
    text = str(value)
    return text.strip() if text.isascii() and "  " not in text else _normalize(text)


def _list_text(value: Any) -> str:
    """A list cell is split before its items are checked: normalising the whole cell is wasted work."""
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
