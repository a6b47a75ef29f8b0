"""Output for people (Persian tables, Jalali dates, Persian digits) and for machines (--json).

Tables read completely at any width (issue 16): a table that fits the terminal (COLUMNS, 80 when
output is not a terminal) is drawn with its cells wrapped, never cut with "…"; one that does not
is printed one record per block ("header: value" lines). Numbers get Persian digits; identifiers
(anything with a Latin letter, or a value wrapped in `Ident`) stay exactly as typed."""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.persian import format_rial, persian_digits
from domain.reasons import DomainError, Reason

console = Console()
err_console = Console(stderr=True)

# Text that is a number, an amount or a Jalali date/time: shown with Persian digits.
_NUMERIC_TEXT = re.compile(r"^[\d\s,./:٬٫+\-()%]+$")


class Ident(str):
    """A value shown exactly as typed (an identifier such as b1, a national ID, a contract code)."""


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def amount(value: int | None) -> str | None:
    """Rials grouped by threes with Persian digits and the Persian separator, e.g. ۱۲٬۴۲۱٬۵۰۰٬۰۰۰."""
    return None if value is None else format_rial(int(value), persian=True)


def reason_text(code: str | None) -> str | None:
    """A reason code with its Persian message: «CODE: پیام»; None when there is no reason."""
    if not code:
        return None
    try:
        return f"{code}: {Reason(code).message_fa}"
    except ValueError:
        return code


def cell(value: Any, persian: bool = True) -> str:
    """How one value reads in a table: "—" for None, Persian digits for numbers and numeric text,
    identifiers and other text as they are."""
    if value is None:
        return "—"
    if isinstance(value, Ident) or not persian:
        return str(value)
    if isinstance(value, bool):
        return "بله" if value else "خیر"
    if isinstance(value, (int, float, Decimal)):
        return persian_digits(value)
    text = str(value)
    return persian_digits(text) if _NUMERIC_TEXT.match(text) else text


def _min_width(columns: Sequence[str], rows: list[list[str]]) -> int:
    """The narrowest the table can be with every word whole: each column as wide as its longest
    word (header words included), plus the borders and padding."""
    def longest(text: str) -> int:
        return max((len(w) for w in text.split()), default=0)

    widths = [max([longest(c)] + [longest(r[i]) for r in rows]) for i, c in enumerate(columns)]
    return sum(widths) + 3 * len(columns) + 1


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], persian: bool = True) -> None:
    """Print a table that reads completely at the console's width (see the module docstring)."""
    cells = [[cell(v, persian) for v in row] for row in rows]
    if _min_width(columns, cells) <= console.width:
        t = Table(title=title, show_lines=False)
        for col in columns:
            t.add_column(col, overflow="fold")  # wrap at spaces; a word is folded only if it must
        for row in cells:
            t.add_row(*row)
        console.print(t)
        return
    records(title, columns, cells)


def records(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """One record per block: the first column as the block's head, then "header: value" lines."""
    console.print(Text(title, style="bold"), highlight=False)
    for row in rows:
        console.print(Text(f"— {columns[0]}: {row[0]}", style="bold"), highlight=False)
        for col, value in zip(columns[1:], row[1:]):
            console.print(f"    {col}: {value}", highlight=False, markup=False)


def line(text: str) -> None:
    """One line of text for people, wrapped at the console's width (never cut)."""
    console.print(text, highlight=False, markup=False)


def error(exc: DomainError, as_json: bool) -> None:
    if as_json:
        emit_json({"error": exc.to_dict()})
    else:
        err_console.print(f"[bold red]خطا ({exc.reason.value}):[/] {exc.message_fa}")
