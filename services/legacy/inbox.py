"""The units' correction inbox (R16): legacy rows a unit must correct in the old system, with every problem."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import sessionmaker

from domain.persian import format_jalali_date
from services.legacy.validate import Problem
from store.uow import UnitOfWork


@dataclass(frozen=True)
class InboxItem:
    """One inbox entry: the row as read (cell text by field) and its problems; times aware UTC."""

    id: int
    unit: str
    import_id: int
    row_number: int
    legacy_id: str | None
    problems: list[Problem]
    row: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "unit": self.unit, "import_id": self.import_id, "row_number": self.row_number,
                "legacy_id": self.legacy_id, "problems": [p.to_dict() for p in self.problems],
                "row": self.row, "created_at": self.created_at.isoformat(),
                "created_at_jalali": format_jalali_date(self.created_at),
                "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None}


def corrections(sessions: sessionmaker, unit: str | None = None, *, include_resolved: bool = False,
                limit: int | None = None) -> list[InboxItem]:
    """A unit's correction inbox (every unit's when `unit` is None; "unassigned" for rows naming none).

    Shapes: open entries (resolved ones too with include_resolved), by unit, import run and row
    number, at most `limit`. The unit id is not checked here (an unknown unit's rows have an inbox too).
    Raises: nothing of its own. Serves R16.
    """
    with UnitOfWork(sessions) as uow:
        return [InboxItem(id=r.id, unit=r.unit_id, import_id=r.import_id, row_number=r.row_number,
                          legacy_id=r.legacy_id, problems=[Problem(**p) for p in json.loads(r.problems_json)],
                          row=json.loads(r.row_json), created_at=r.created_at, resolved_at=r.resolved_at)
                for r in uow.legacy.inbox(unit, include_resolved=include_resolved, limit=limit)]
