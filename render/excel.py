"""Excel workbooks for people (issue 16 part 4): the one home of how every xlsx the system writes looks.

Every sheet opens right to left with its Persian headers bold, wrapped and frozen on row 1 (with a
filter); amounts and counts stay numbers (int, rials) with the grouped format `#,##0`, so Excel sums
them and shows the digits of the reader's locale; Jalali dates are text with Persian digits
(`۱۴۰۰/۰۶/۱۰`); the machine-readable ISO UTC of a date, where a report has one, goes in a hidden
column at the end; columns are as wide as their widest cell. Writers describe their table (a
`SheetSource`: columns, their kinds, rows) and call `write_report`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from domain.persian import persian_digits
from domain.reasons import DomainError, Reason

# Column kinds a report declares (services.reports.Report.kinds); a key without one is text.
TEXT, AMOUNT, COUNT, PERCENT, JALALI, ISO_UTC = "text", "amount", "count", "percent", "jalali", "iso_utc"
NUMBER_FORMATS = {AMOUNT: "#,##0", COUNT: "#,##0", PERCENT: "0.0#"}
KINDS = frozenset({TEXT, AMOUNT, COUNT, PERCENT, JALALI, ISO_UTC})
FONT_NAME = "Tahoma"  # on every Windows office machine, with Persian glyphs; LibreOffice substitutes
HEADER_FILL = "DDDDDD"
MIN_WIDTH, MAX_WIDTH = 8, 60
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class SheetSource(Protocol):
    """What a writer gives: a report's kind and title, its visible columns (key, Persian header), the
    kind of each key (TEXT when absent), machine-readable columns kept hidden, and its rows."""

    kind: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    kinds: dict[str, str]
    machine_columns: list[tuple[str, str]]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str
    hidden: bool


def sheet_columns(source: SheetSource) -> list[Column]:
    """The sheet's columns in order: the visible ones, then the hidden machine-readable ones (kind
    ISO_UTC unless declared). Raises: INVALID_INPUT (a kind this module does not know). Issue 16."""
    cols = [Column(k, h, source.kinds.get(k, TEXT), False) for k, h in source.columns]
    cols += [Column(k, h, source.kinds.get(k, ISO_UTC), True) for k, h in source.machine_columns]
    unknown = sorted({c.kind for c in cols} - KINDS)
    if unknown:
        raise DomainError(Reason.INVALID_INPUT, f"نوع ستون ناشناخته در گزارش: {', '.join(unknown)}")
    return cols


def cell_value(value: Any, kind: str, persian: bool = True) -> Any:
    """One cell as stored: None stays empty; amounts and counts as int (a Decimal or float that is
    whole too), percents as float; Jalali dates as text, with Persian digits when `persian`; ISO UTC
    and other text as they are (identifiers exactly as typed). Raises: nothing. Issue 16."""
    if value is None:
        return None
    if kind in (AMOUNT, COUNT, PERCENT) and not isinstance(value, bool):
        if isinstance(value, int):
            return value
        if isinstance(value, (float, Decimal)):
            return int(value) if kind != PERCENT and value == int(value) else float(value)
        return str(value)  # not a number: shown as recorded rather than guessed
    if kind == JALALI:
        return persian_digits(value) if persian else str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _shown_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and kind in NUMBER_FORMATS:
        return len(f"{value:,}")
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def sheet_name(title: str) -> str:
    """A title as an Excel sheet name: without []:*?/\\ and at most 31 characters. Raises: nothing."""
    name = " ".join(_SHEET_NAME_FORBIDDEN.sub("-", title).split())[:31].strip()
    return name or "report"


def write_report(source: SheetSource, path: Path | str, persian: bool = True) -> Path:
    """Write `source` as a one-sheet xlsx styled as the module says; returns the path (parent folders
    are created). Shapes: amounts in rials as int, Jalali dates as text, ISO UTC hidden.

    Raises: INVALID_INPUT (the file cannot be written; a column kind not known). Serves R15, R24 and
    the refused payments (R13, R20): the reports units open in Excel (issue 16 part 4).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    path = Path(path)
    columns = sheet_columns(source)
    rows = [[cell_value(row.get(c.key), c.kind, persian) for c in columns] for row in source.rows]

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = sheet_name(source.title)
    wb.properties.title = source.title
    ws.sheet_view.rightToLeft = True

    font = Font(name=FONT_NAME, size=10)
    bold = Font(name=FONT_NAME, size=10, bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    edge = Border(bottom=Side(style="thin"))
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font, cell.fill, cell.border = bold, fill, edge
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for values in rows:
        ws.append(values)
    for j, col in enumerate(columns, start=1):
        fmt = NUMBER_FORMATS.get(col.kind)
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            cell.font = font
            if fmt and isinstance(cell.value, (int, float)):
                cell.number_format = fmt
        letter = get_column_letter(j)
        widest = max([_header_width(col.header)] + [_shown_width(r[j - 1], col.kind) for r in rows])
        ws.column_dimensions[letter].width = max(MIN_WIDTH, min(MAX_WIDTH, widest + 3))
        ws.column_dimensions[letter].hidden = col.hidden
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    except OSError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ Excel نوشته نشد: {path} ({exc.strerror})") from None
    return path


def _header_width(header: str) -> int:
    """A header wraps on spaces: its column need not be wider than half of it, nor its longest word."""
    words = header.split()
    return max([len(w) for w in words] + [(len(header) + 1) // 2])
