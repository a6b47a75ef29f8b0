"""Tables the outside-system stubs (integrations/stubs) keep for themselves (prefix `ext_`).

Defined here, in store/, because the migrations manage them; they live on their own declarative
base so the engine's repositories never read them: a stub is a separate system that only talks to
the engine through `TransactionsSystem`. Idempotency and
"at most once" rules are unique constraints, so they hold under concurrency on SQLite and
PostgreSQL alike.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Date,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.columns import SurrogateKey, UTCDateTime

UtcDateTime = UTCDateTime  # the name migration 0003 was generated with


class StubBase(DeclarativeBase):
    # Named constraints so Alembic migrations are the same on SQLite and PostgreSQL.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


# --- financial system -------------------------------------------------------------------

class _StatementCharge:
    """Mixin: what an expense document and a payment both record about the statement they charge."""

    statement_id: Mapped[str] = mapped_column(String(128), unique=True)  # one row per statement
    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    budget_line: Mapped[str] = mapped_column(String(128))
    expense_factor: Mapped[str] = mapped_column(String(128))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    statement_xml_sha256: Mapped[str] = mapped_column(String(64))


class ExtExpenseDocument(SurrogateKey, _StatementCharge, StubBase):
    __tablename__ = "ext_fin_expense_documents"

    document_key: Mapped[str] = mapped_column(String(128), unique=True)
    # sort_order 1: after the mixin's columns, where the table has always had its timestamp.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=1)


class ExtPayment(SurrogateKey, _StatementCharge, StubBase):
    """Paid rows only: the unique statement_id is what makes a second payment impossible."""

    __tablename__ = "ext_fin_payments"

    payment_key: Mapped[str] = mapped_column(String(128), unique=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=1)


class ExtFinancialRefusal(SurrogateKey, StubBase):
    """Every refused attempt, one row each, for the refused-payments report."""

    __tablename__ = "ext_fin_refusals"

    kind: Mapped[str] = mapped_column(String(32))  # payment | expense_document
    request_key: Mapped[str] = mapped_column(String(128), index=True)
    contract_code: Mapped[str] = mapped_column(String(64))
    statement_id: Mapped[str] = mapped_column(String(128))
    amount_rial: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- project control --------------------------------------------------------------------

class ExtPcProject(SurrogateKey, StubBase):
    __tablename__ = "ext_pc_projects"

    project_code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    planned_end_date: Mapped[date] = mapped_column(Date)
    credits_rial: Mapped[int] = mapped_column(BigInteger)
    physical_progress_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    planned_progress_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    progress_as_of: Mapped[date | None] = mapped_column(Date, nullable=True)


class ExtPcContract(SurrogateKey, StubBase):
    __tablename__ = "ext_pc_contracts"

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
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtPcStatement(SurrogateKey, StubBase):
    __tablename__ = "ext_pc_statements"

    statement_id: Mapped[str] = mapped_column(String(128), unique=True)
    contract_code: Mapped[str] = mapped_column(
        String(64), ForeignKey("ext_pc_contracts.contract_code"), index=True)
    result: Mapped[str] = mapped_column(String(16))
    payable_rial: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtPcCost(SurrogateKey, StubBase):
    __tablename__ = "ext_pc_costs"

    project_code: Mapped[str] = mapped_column(
        String(64), ForeignKey("ext_pc_projects.project_code"), index=True)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- transparency publisher -------------------------------------------------------------

class ExtTpRelease(SurrogateKey, StubBase):
    __tablename__ = "ext_tp_releases"

    release_id: Mapped[str] = mapped_column(String(200), unique=True)
    ocid: Mapped[str] = mapped_column(String(200), index=True)
    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    release_json: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtTpSkipped(SurrogateKey, StubBase):
    __tablename__ = "ext_tp_skipped"

    contract_code: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtTpDocument(SurrogateKey, StubBase):
    """Published lists (contractors and blacklist, R25; project figures, R24)."""

    __tablename__ = "ext_tp_documents"

    kind: Mapped[str] = mapped_column(String(32), index=True)
    body_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- announcement portal ----------------------------------------------------------------

class ExtNotice(SurrogateKey, StubBase):
    __tablename__ = "ext_ann_notices"
    __table_args__ = (UniqueConstraint("tender_id", "version", name="uq_ext_ann_notice_version"),)

    tender_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtNoticeDocument(SurrogateKey, StubBase):
    __tablename__ = "ext_ann_documents"
    __table_args__ = (UniqueConstraint("notice_id", "name", name="uq_ext_ann_document_name"),)

    notice_id: Mapped[int] = mapped_column(ForeignKey("ext_ann_notices.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ExtPublishedCheckpoint(SurrogateKey, StubBase):
    """An audit checkpoint (the engine's signed chain head) as the portal publishes it (R21)."""

    __tablename__ = "ext_ann_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- SMS / notification outbox ----------------------------------------------------------

class ExtOutboxMessage(SurrogateKey, StubBase):
    __tablename__ = "ext_sms_outbox"

    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    mobile: Mapped[str] = mapped_column(String(11))
    template: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # queued | sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- contractor registry ----------------------------------------------------------------

class ExtCompany(StubBase):
    __tablename__ = "ext_reg_companies"

    national_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    economic_code: Mapped[str] = mapped_column(String(12))
    grade: Mapped[int] = mapped_column(Integer)
    ceo_national_id: Mapped[str] = mapped_column(String(10))
    ceo_name: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtQualification(SurrogateKey, StubBase):
    __tablename__ = "ext_reg_qualifications"
    # One decision per company, field and day: a retried call cannot add a second.
    __table_args__ = (UniqueConstraint("company_id", "work_field", "decided_on",
                                       name="uq_ext_reg_qualification_day"),)

    company_id: Mapped[str] = mapped_column(ForeignKey("ext_reg_companies.national_id"), index=True)
    work_field: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))  # qualified | rejected
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(Text)


class ExtBlacklistEntry(SurrogateKey, StubBase):
    __tablename__ = "ext_reg_blacklist"
    __table_args__ = (UniqueConstraint("company_id", "start_date", "reference",
                                       name="uq_ext_reg_blacklist_ruling"),)

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
    def _pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


class ExtCompanyContact(StubBase):
    """A registered company's contacts (R26): one row per company, replaced when it changes."""

    __tablename__ = "ext_reg_contacts"

    company_id: Mapped[str] = mapped_column(ForeignKey("ext_reg_companies.national_id"), primary_key=True)
    mobile: Mapped[str | None] = mapped_column(String(11), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
