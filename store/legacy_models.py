"""Tables of the legacy contract migration (R16), on the engine's own metadata.

`legacy_imports` records each run of `eproc import contracts`; `legacy_contracts` ties every
imported contract to its legacy id and to a hash of the legacy row, so a re-import recognises
what it already holds; `correction_inbox` lists, per unit, the legacy rows that could not be
imported and every problem found in them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class LegacyImport(Base):
    __tablename__ = "legacy_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    already_imported: Mapped[int] = mapped_column(Integer, default=0)
    to_correct: Mapped[int] = mapped_column(Integer, default=0)


class LegacyContract(Base):
    """Provenance of an imported contract: which legacy row it came from."""

    __tablename__ = "legacy_contracts"
    tracking_number: Mapped[str] = mapped_column(ForeignKey("contracts.tracking_number"), primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("legacy_imports.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    legacy_id: Mapped[str] = mapped_column(String(40))
    row_number: Mapped[int] = mapped_column(Integer)
    row_sha256: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("unit_id", "legacy_id"),)


class CorrectionInboxRow(Base):
    """A legacy row the unit must correct in the old system before it can be imported."""

    __tablename__ = "correction_inbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("legacy_imports.id"), index=True)
    # The unit the row names, as written: an unknown unit still gets an inbox entry.
    unit_id: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)
    legacy_id: Mapped[str | None] = mapped_column(String(100))
    problems_json: Mapped[str] = mapped_column(Text)
    row_json: Mapped[str] = mapped_column(Text)
    row_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("unit_id", "row_sha256"),
                      Index("ix_correction_inbox_unit_legacy", "unit_id", "legacy_id"))


LEGACY_TABLES = (LegacyImport.__table__, LegacyContract.__table__, CorrectionInboxRow.__table__)


def ensure_tables(engine: Engine) -> None:
    """Create the legacy tables where a database predates their migration (no-op otherwise)."""
    Base.metadata.create_all(engine, tables=list(LEGACY_TABLES), checkfirst=True)
