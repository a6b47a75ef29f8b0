"""Writing a legacy import (R16): batches of validated rows, one transaction each, through the unit of work.

Good rows become contracts (`LEG-<unit code>-<legacy id>`) with their provenance; bad rows go to the
correction inbox of their unit. Re-importing a file is harmless: a row whose contract already
exists with the same data counts as "already imported"; one whose legacy id exists with other data,
or whose contract code another contract holds, goes to the inbox.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from config.policy import Policy
from domain.clock import Clock
from domain.reasons import DomainError, Reason
from services.legacy.read import file_sha256, read_rows
from services.legacy.validate import BadRow, Problem, RowValidator, ValidRow, canonical_json, problem
from store.legacy_repository import InboxEntry
from store.uow import UnitOfWork

BATCH_SIZE = 2_000
_ATTEMPTS = 3


@dataclass
class UnitSummary:
    """One unit's counts in an import: imported, already there, sent to the inbox, not publishable (R21)."""

    imported: int = 0
    already_imported: int = 0
    to_correct: int = 0
    not_publishable: int = 0

    def add(self, other: UnitSummary) -> None:
        """Add another batch's counts to these. Raises: nothing. R16."""
        self.imported += other.imported
        self.already_imported += other.already_imported
        self.to_correct += other.to_correct
        self.not_publishable += other.not_publishable

    def to_dict(self) -> dict[str, int]:
        return {"imported": self.imported, "already_imported": self.already_imported,
                "to_correct": self.to_correct, "not_publishable": self.not_publishable}


@dataclass
class ImportResult:
    """What an import did: its run id, the file, data rows read and the counts per unit id."""

    import_id: int
    file: str
    rows: int = 0
    units: dict[str, UnitSummary] = field(default_factory=lambda: defaultdict(UnitSummary))

    def totals(self) -> UnitSummary:
        """The counts of every unit added up. Raises: nothing. R16."""
        total = UnitSummary()
        for s in self.units.values():
            total.add(s)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "file": self.file, "rows": self.rows,
                "totals": self.totals().to_dict(),
                "units": {u: s.to_dict() for u, s in sorted(self.units.items())}}


def ensure_units(sessions: sessionmaker, policy: Policy, clock: Clock, actor: str) -> list[str]:
    """Register the policy's units missing from the store, each audited as `unit.add`; returns their ids.

    Contracts reference the units table, so an import needs them first; a second call adds nothing.
    Raises: nothing of its own. Serves R16 (and `eproc registry sync-units`).
    """
    with UnitOfWork(sessions) as uow:
        present = {u.id for u in uow.units.list()}
        missing = [u for u in policy.units if u.id not in present]
        for u in missing:
            uow.units.add(u.id, u.code, u.name, u.kind)
            uow.record(at=clock.now(), actor=actor, action="unit.add", entity="unit", entity_id=u.id)
        uow.commit()
    return [u.id for u in missing]


def import_contracts(path: Path | str, *, sessions: sessionmaker, policy: Policy, clock: Clock,
                     actor: str = "cli", unit_column: str | None = None, batch_size: int = BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import a legacy contracts file (CSV or xlsx) in batches of `batch_size` rows, one transaction each.

    Shapes: returns the per-unit counts; `progress(n)` is called after each batch of n rows.
    Amounts are rials; times (run start and end, inbox entries) are clock.now(), aware UTC.
    The run is audited as `legacy.import` with its counts. Header problems surface before anything
    is written. Row problems are not raised: they go to the unit's correction inbox.
    Raises: INVALID_INPUT (batch size below 1; file missing, of another format, empty or unreadable),
    FIELD_MISSING (mandatory column absent). Serves R16 (and R21: rows are checked as the site needs them).
    """
    path = Path(path)
    if batch_size < 1:
        raise DomainError(Reason.INVALID_INPUT, "اندازهٔ دسته باید مثبت باشد")
    rows = read_rows(path, unit_column)
    first = next(rows, None)  # header problems surface before anything is written
    ensure_units(sessions, policy, clock, actor)
    with UnitOfWork(sessions) as uow:
        import_id = uow.legacy.start_import(path.name, file_sha256(path), actor, clock.now())
        uow.commit()
    result = ImportResult(import_id=import_id, file=str(path))
    writer = _Writer(sessions, import_id, clock, result)
    validator = RowValidator(policy)
    pending: list[ValidRow | BadRow] = []

    def drain() -> None:
        writer.flush(pending)
        if progress:
            progress(len(pending))
        pending.clear()

    if first is not None:
        pending.append(validator.validate(*first))
    for number, cells in rows:
        pending.append(validator.validate(number, cells))
        if len(pending) >= batch_size:
            drain()
    drain()

    totals = result.totals()
    with UnitOfWork(sessions) as uow:
        record = uow.legacy.finish_import(import_id, clock.now(), result.rows, totals.imported,
                                          totals.already_imported, totals.to_correct)
        uow.record(at=clock.now(), actor=actor, action="legacy.import", entity="legacy_import",
                   entity_id=str(import_id), payload={"file": path.name, "sha256": record.file_sha256,
                                                      **result.to_dict()})
        uow.commit()
    return result


class _Writer:
    """Writes one batch per transaction; retried whole if a concurrent import won a race."""

    def __init__(self, sessions: sessionmaker, import_id: int, clock: Clock, result: ImportResult) -> None:
        self.sessions = sessions
        self.import_id = import_id
        self.clock = clock
        self.result = result

    def flush(self, pending: list[ValidRow | BadRow]) -> None:
        if not pending:
            return
        for attempt in range(_ATTEMPTS):
            try:
                with UnitOfWork(self.sessions) as uow:
                    counts = self._write(uow, pending)
                    uow.commit()
                break
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        for unit_id, summary in counts.items():
            self.result.units[unit_id].add(summary)
        self.result.rows += len(pending)

    def _write(self, uow: UnitOfWork, pending: list[ValidRow | BadRow]) -> dict[str, UnitSummary]:
        counts: dict[str, UnitSummary] = defaultdict(UnitSummary)
        goods = [p for p in pending if isinstance(p, ValidRow)]
        bads = [p for p in pending if isinstance(p, BadRow)]
        known = uow.legacy.known_rows([g.tracking_number for g in goods])
        code_owner = uow.legacy.code_owners(g.code for g in goods if g.code)
        new: list[ValidRow] = []
        for g in goods:
            if g.tracking_number in known:
                if known[g.tracking_number] == g.row_sha256:
                    counts[g.unit_id].already_imported += 1
                    continue
                bads.append(_as_bad(g, _conflict("legacy_id", (
                    f"شناسهٔ قدیمی «{g.legacy_id}» در واحد {g.unit_id} تکراری است: قراردادی با همین شناسه "
                    f"و داده‌های دیگر پیش‌تر وارد شده است ({g.tracking_number})"))))
                continue
            owner = code_owner.get(g.code) if g.code else None
            if owner is not None and owner != g.tracking_number:
                bads.append(_as_bad(g, _conflict("code", f"کد قرارداد «{g.code}» پیش‌تر به قرارداد {owner} داده شده است")))
                continue
            known[g.tracking_number] = g.row_sha256
            if g.code:
                code_owner[g.code] = g.tracking_number
            new.append(g)
            counts[g.unit_id].imported += 1
            counts[g.unit_id].not_publishable += 0 if g.publishable else 1
        if new:
            uow.legacy.add_contracts(self.import_id, new)
            self._resolve(uow, new)
        if bads:
            self._inbox(uow, bads)
            for b in bads:
                counts[b.unit_id].to_correct += 1
        return counts

    def _inbox(self, uow: UnitOfWork, bads: list[BadRow]) -> None:
        present = uow.legacy.inbox_keys(b.row_sha256 for b in bads)
        entries = []
        for b in bads:
            if (b.unit_id, b.row_sha256) in present:
                continue  # the same faulty row is already waiting in that unit's inbox
            present.add((b.unit_id, b.row_sha256))
            entries.append(InboxEntry(unit_id=b.unit_id, row_number=b.row_number,
                                      legacy_id=(b.legacy_id or None) and b.legacy_id[:100],
                                      problems_json=canonical_json([p.to_dict() for p in b.problems]),
                                      row_json=canonical_json(b.row), row_sha256=b.row_sha256))
        uow.legacy.add_to_inbox(self.import_id, entries, self.clock.now())

    def _resolve(self, uow: UnitOfWork, imported: list[ValidRow]) -> None:
        """A corrected row that now imports closes its unit's open inbox entries for that legacy id."""
        by_unit: dict[str, list[str]] = defaultdict(list)
        for g in imported:
            by_unit[g.unit_id].append(g.legacy_id)
        now = self.clock.now()
        for unit_id, ids in by_unit.items():
            uow.legacy.resolve_inbox(unit_id, ids, now)


def _as_bad(g: ValidRow, prob: Problem) -> BadRow:
    row = {k: v for k, v in json.loads(g.data_json).items() if k not in ("source", "publishable")}
    return BadRow(g.row_number, g.unit_id, g.legacy_id, [prob], row, g.row_sha256)


def _conflict(kind: str, detail: str) -> Problem:
    labels = {"legacy_id": "legacy_id", "code": "contract_code"}
    return problem(labels[kind], DomainError(Reason.INVALID_INPUT, detail))
