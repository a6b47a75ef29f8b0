"""Repository of the legacy contract migration (R16): import runs, imported contracts, the correction inbox.

Imported contracts are written with executemany straight through the driver: at migration volume
SQLAlchemy's per-row parameter handling costs more than the database write itself.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from domain.contract.fields import GENERAL
from store.legacy_models import CorrectionInboxRow, LegacyContract, LegacyImport
from store.models import Contract

CONTRACT_COLUMNS = ("tracking_number", "code", "tender_id", "unit_id", "kind", "stage", "threshold_class",
                    "amount_rial", "contractor_id", "budget_line", "expense_factor", "concluded_at", "data_json")
PROVENANCE_COLUMNS = ("tracking_number", "import_id", "unit_id", "legacy_id", "row_number", "row_sha256")


@dataclass
class ImportedContract:
    """A checked legacy row as the store keeps it: the contract's columns, its provenance and row hash.

    amount_rial in rials; concluded_at (final contracts only) aware UTC; data_json canonical JSON.
    """

    row_number: int
    unit_id: str
    legacy_id: str
    tracking_number: str
    code: str | None
    stage: str
    threshold_class: str
    amount_rial: int
    contractor_id: str
    budget_line: str
    expense_factor: str
    concluded_at: datetime | None
    data_json: str
    row_sha256: str


@dataclass(frozen=True)
class InboxEntry:
    """A legacy row for a unit's correction inbox; problems and row are canonical JSON text."""

    unit_id: str
    row_number: int
    legacy_id: str | None
    problems_json: str
    row_json: str
    row_sha256: str


class LegacyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- import runs ---
    def start_import(self, file_name: str, file_sha256: str, actor: str, started_at: datetime) -> int:
        """Record an import run; returns its id (flushed, not committed)."""
        record = LegacyImport(file_name=file_name[:300], file_sha256=file_sha256, actor=actor, started_at=started_at)
        self.session.add(record)
        self.session.flush()
        return record.id

    def finish_import(self, import_id: int, finished_at: datetime, rows_total: int, imported: int,
                      already_imported: int, to_correct: int) -> LegacyImport:
        record = self.session.get(LegacyImport, import_id)
        if record is None:
            raise LookupError(f"legacy import {import_id}")
        record.finished_at = finished_at
        record.rows_total = rows_total
        record.imported, record.already_imported, record.to_correct = imported, already_imported, to_correct
        return record

    # --- imported contracts ---
    def known_rows(self, tracking_numbers: Sequence[str]) -> dict[str, str | None]:
        """tracking number -> the legacy row hash it was imported from (None: a contract not from an import)."""
        if not tracking_numbers:
            return {}
        rows = self.session.execute(
            select(Contract.tracking_number, LegacyContract.row_sha256)
            .outerjoin(LegacyContract, LegacyContract.tracking_number == Contract.tracking_number)
            .where(Contract.tracking_number.in_(list(tracking_numbers)))).all()
        return {tracking: digest for tracking, digest in rows}

    def code_owners(self, codes: Iterable[str]) -> dict[str, str]:
        """contract code -> tracking number of the contract that holds it, for the codes already given."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = self.session.execute(select(Contract.code, Contract.tracking_number)
                                    .where(Contract.code.in_(wanted))).all()
        return {code: tracking for code, tracking in rows if code is not None}

    def add_contracts(self, import_id: int, rows: Sequence[ImportedContract]) -> int:
        """Insert the contracts (kind general, no tender) and their provenance; returns how many."""
        self._bulk_insert(_table(Contract), CONTRACT_COLUMNS, [
            (g.tracking_number, g.code, None, g.unit_id, GENERAL, g.stage, g.threshold_class, g.amount_rial,
             g.contractor_id, g.budget_line, g.expense_factor, g.concluded_at, g.data_json) for g in rows])
        self._bulk_insert(_table(LegacyContract), PROVENANCE_COLUMNS, [
            (g.tracking_number, import_id, g.unit_id, g.legacy_id, g.row_number, g.row_sha256) for g in rows])
        return len(rows)

    # --- the correction inbox ---
    def inbox_keys(self, row_sha256s: Iterable[str]) -> set[tuple[str, str]]:
        """(unit id, row hash) of the inbox entries, resolved or not, among the given row hashes."""
        wanted = sorted(set(row_sha256s))
        if not wanted:
            return set()
        return {(u, h) for u, h in self.session.execute(
            select(CorrectionInboxRow.unit_id, CorrectionInboxRow.row_sha256)
            .where(CorrectionInboxRow.row_sha256.in_(wanted))).all()}

    def add_to_inbox(self, import_id: int, entries: Sequence[InboxEntry], created_at: datetime) -> int:
        if entries:
            self.session.execute(insert(CorrectionInboxRow), [
                {"import_id": import_id, "unit_id": e.unit_id, "row_number": e.row_number, "legacy_id": e.legacy_id,
                 "problems_json": e.problems_json, "row_json": e.row_json, "row_sha256": e.row_sha256,
                 "created_at": created_at} for e in entries])
        return len(entries)

    def resolve_inbox(self, unit_id: str, legacy_ids: Sequence[str], at: datetime) -> None:
        """Close the unit's open inbox entries for these legacy ids (their rows now import)."""
        self.session.execute(update(CorrectionInboxRow)
                             .where(CorrectionInboxRow.unit_id == unit_id, CorrectionInboxRow.legacy_id.in_(legacy_ids),
                                    CorrectionInboxRow.resolved_at.is_(None))
                             .values(resolved_at=at))

    def inbox(self, unit_id: str | None = None, *, include_resolved: bool = False,
              limit: int | None = None) -> Sequence[CorrectionInboxRow]:
        """A unit's inbox (every unit's when unit_id is None), by unit, import and row number."""
        query = select(CorrectionInboxRow).order_by(CorrectionInboxRow.unit_id, CorrectionInboxRow.import_id,
                                                    CorrectionInboxRow.row_number)
        if unit_id is not None:
            query = query.where(CorrectionInboxRow.unit_id == unit_id)
        if not include_resolved:
            query = query.where(CorrectionInboxRow.resolved_at.is_(None))
        if limit is not None:
            query = query.limit(limit)
        return self.session.scalars(query).all()

    # --- executemany ---
    def _bulk_insert(self, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """executemany through the driver, inside the session's transaction; the columns' own bind
        processors (aware UTC datetimes) still apply."""
        if not rows:
            return
        conn = self.session.connection()
        dialect = conn.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join([mark] * len(columns))})")
        processors = [(i, p) for i, c in enumerate(columns) if (p := table.c[c].type.bind_processor(dialect))]
        if processors:
            rows = [_processed(row, processors) for row in rows]
        conn.exec_driver_sql(sql, rows)


def _table(model: type) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def _processed(row: tuple[Any, ...], processors: Sequence[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for i, process in processors:
        values[i] = process(values[i])
    return tuple(values)
