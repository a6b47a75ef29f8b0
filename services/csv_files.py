"""Reading a CSV file people send (a unit's declared counts, a Treasury statement): UTF-8 (a BOM is
allowed), header first; the file's SHA-256 is kept with what was read from it."""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

from domain.reasons import DomainError, Reason


def read_csv_file(path: Path | str, what_fa: str) -> tuple[list[str], Iterator[list[str]], str]:
    """(the header's cells, the other lines' cells from line 2 on, the SHA-256 hex of the file's bytes).
    `what_fa` names the file in Persian errors.

    Raises: INVALID_INPUT (the file missing, not UTF-8 text, or empty)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{what_fa} خوانده نشد: {path} ({exc})") from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise DomainError(Reason.INVALID_INPUT, f"{what_fa} خالی است: {path}")
    return header, rows, hashlib.sha256(raw).hexdigest()
