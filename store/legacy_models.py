"""Tables of the legacy contract migration (R16), on the engine's own metadata.

`legacy_imports` records each run of `eproc import contracts`; `legacy_contracts` ties every
imported contract to its legacy id and to a hash of the legacy row, so a re-import recognises
what it already holds; `correction_inbox` lists, per unit, the legacy rows that could not be
imported and every problem found in them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.columns import SurrogateKey, UTCDateTime
from store.models import Base


class LegacyImport(SurrogateKey, Base):
    __tablename__ = "legacy_imports"
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    already_imported: Mapped[int] = mapped_column(Integer, default=0)
    to_correct: Mapped[int] = mapped_column(Integer, default=0)


class _FromImportRow:
    """Columns of a row that one import run wrote about one row of a legacy file."""

    import_id: Mapped[int] = mapped_column(ForeignKey("legacy_imports.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)
    row_sha256: Mapped[str] = mapped_column(String(64))


class LegacyContract(_FromImportRow, Base):
    """Provenance of an imported contract: which legacy row it came from."""

    __tablename__ = "legacy_contracts"
    tracking_number: Mapped[str] = mapped_column(ForeignKey("contracts.tracking_number"), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("unit_id", "legacy_id"),)


class CorrectionInboxRow(SurrogateKey, _FromImportRow, Base):
    """A legacy row the unit must correct in the old system before it can be imported.

    unit_id is the unit the row names, as written: an unknown unit still gets an inbox entry.
    """

    __tablename__ = "correction_inbox"
    legacy_id: Mapped[str | None] = mapped_column(String(100))
    problems_json: Mapped[str] = mapped_column(Text)
    row_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("unit_id", "row_sha256"),
                      Index("ix_correction_inbox_unit_legacy", "unit_id", "legacy_id"))
