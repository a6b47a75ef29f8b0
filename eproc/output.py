"""Output for people (Persian tables, Jalali dates, Persian digits) and for machines (--json)."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.persian import persian_digits
from domain.reasons import DomainError

console = Console()
err_console = Console(stderr=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], persian: bool = True) -> None:
    t = Table(title=title, show_lines=False)
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*[(persian_digits(v) if persian else str(v)) if v is not None else "—" for v in row])
    console.print(t)


def error(exc: DomainError, as_json: bool) -> None:
    if as_json:
        emit_json({"error": exc.to_dict()})
    else:
        err_console.print(f"[bold red]خطا ({exc.reason.value}):[/] {exc.message_fa}")
