"""Tables the outside-system stubs keep for themselves (prefix `ext_`).

They live on their own declarative base so the engine's store never reads them: a stub is a
separate system that only talks to the engine through `TransactionsSystem`. Idempotency and
"at most once" rules are unique constraints, so they hold under concurrency on SQLite and
PostgreSQL alike.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (BigInteger, Date, DateTime, Engine, ForeignKey, Integer, LargeBinary,
                        MetaData, Numeric, String, Text, UniqueConstraint, create_engine, event)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out, even on SQLite, which stores no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("stub tables store timezone-aware datetimes only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class StubBase(DeclarativeBase):
    # Named constraints so Alembic migrations are the same on SQLite and PostgreSQL.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


# --- financial system -------------------------------------------------------------------

class ExtExpenseDocument(StubBase):
    __tablename__ = "ext_fin_expense_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_key: Mapped[str] = mapped_column(String(128), unique=True)
    statement_id: Mapped[str] = mapped_column(String(128), unique=True)  # one document per statement
    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    budget_line: Mapped[str] = mapped_column(String(128))
    expense_factor: Mapped[str] = mapped_column(String(128))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    statement_xml_sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtPayment(StubBase):
    """Paid rows only: the unique statement_id is what makes a second payment impossible."""

    __tablename__ = "ext_fin_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_key: Mapped[str] = mapped_column(String(128), unique=True)
    statement_id: Mapped[str] = mapped_column(String(128), unique=True)
    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    budget_line: Mapped[str] = mapped_column(String(128))
    expense_factor: Mapped[str] = mapped_column(String(128))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    statement_xml_sha256: Mapped[str] = mapped_column(String(64))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtFinancialRefusal(StubBase):
    """Every refused attempt, one row each, for the refused-payments report."""

    __tablename__ = "ext_fin_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # payment | expense_document
    request_key: Mapped[str] = mapped_column(String(128), index=True)
    contract_code: Mapped[str] = mapped_column(String(64))
    statement_id: Mapped[str] = mapped_column(String(128))
    amount_rial: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- project control --------------------------------------------------------------------

class ExtPcProject(StubBase):
    __tablename__ = "ext_pc_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    planned_end_date: Mapped[date] = mapped_column(Date)
    credits_rial: Mapped[int] = mapped_column(BigInteger)
    physical_progress_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    planned_progress_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    progress_as_of: Mapped[date | None] = mapped_column(Date, nullable=True)


class ExtPcContract(StubBase):
    __tablename__ = "ext_pc_contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_code: Mapped[str] = mapped_column(String(64), unique=True)
    project_code: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("ext_pc_projects.project_code"), nullable=True, index=True)
    tracking_number: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    budget_line: Mapped[str] = mapped_column(String(128))
    expense_factor: Mapped[str] = mapped_column(String(128))
    contractor_company_id: Mapped[str] = mapped_column(String(11))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtPcStatement(StubBase):
    __tablename__ = "ext_pc_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    statement_id: Mapped[str] = mapped_column(String(128), unique=True)
    contract_code: Mapped[str] = mapped_column(
        String(64), ForeignKey("ext_pc_contracts.contract_code"), index=True)
    result: Mapped[str] = mapped_column(String(16))
    payable_rial: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtPcCost(StubBase):
    __tablename__ = "ext_pc_costs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_code: Mapped[str] = mapped_column(
        String(64), ForeignKey("ext_pc_projects.project_code"), index=True)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- transparency publisher -------------------------------------------------------------

class ExtTpRelease(StubBase):
    __tablename__ = "ext_tp_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[str] = mapped_column(String(200), unique=True)
    ocid: Mapped[str] = mapped_column(String(200), index=True)
    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    release_json: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtTpSkipped(StubBase):
    __tablename__ = "ext_tp_skipped"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_code: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtTpDocument(StubBase):
    """Published lists (contractors and blacklist, R25; project figures, R24)."""

    __tablename__ = "ext_tp_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    body_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- announcement portal ----------------------------------------------------------------

class ExtNotice(StubBase):
    __tablename__ = "ext_ann_notices"
    __table_args__ = (UniqueConstraint("tender_id", "version", name="uq_ext_ann_notice_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tender_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtNoticeDocument(StubBase):
    __tablename__ = "ext_ann_documents"
    __table_args__ = (UniqueConstraint("notice_id", "name", name="uq_ext_ann_document_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("ext_ann_notices.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


# --- SMS / notification outbox ----------------------------------------------------------

class ExtOutboxMessage(StubBase):
    __tablename__ = "ext_sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    mobile: Mapped[str] = mapped_column(String(11))
    template: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # queued | sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


# --- contractor registry ----------------------------------------------------------------

class ExtCompany(StubBase):
    __tablename__ = "ext_reg_companies"

    national_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    economic_code: Mapped[str] = mapped_column(String(12))
    grade: Mapped[int] = mapped_column(Integer)
    ceo_national_id: Mapped[str] = mapped_column(String(10))
    ceo_name: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExtQualification(StubBase):
    __tablename__ = "ext_reg_qualifications"
    # One decision per company, field and day: a retried call cannot add a second.
    __table_args__ = (UniqueConstraint("company_id", "work_field", "decided_on",
                                       name="uq_ext_reg_qualification_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("ext_reg_companies.national_id"), index=True)
    work_field: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))  # qualified | rejected
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(Text)


class ExtBlacklistEntry(StubBase):
    __tablename__ = "ext_reg_blacklist"
    __table_args__ = (UniqueConstraint("company_id", "start_date", "reference",
                                       name="uq_ext_reg_blacklist_ruling"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("ext_reg_companies.national_id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)


def create_stub_tables(engine: Engine) -> None:
    StubBase.metadata.create_all(engine)


def sqlite_engine(path: str | Path, busy_timeout_s: float = 30.0) -> Engine:
    """A file SQLite engine in WAL mode, so concurrent writers wait instead of failing."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine
