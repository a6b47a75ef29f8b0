"""The financial service's own tables, next to the stub's `ext_fin_*` tables in its own database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Engine, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.columns import SurrogateKey, UTCDateTime


class ServiceBase(DeclarativeBase):
    pass


class SvcRegistrationCheck(SurrogateKey, ServiceBase):
    """Each check of a contract's complete registration at its notification to the contractor (R28)."""

    __tablename__ = "svc_fin_registration_checks"

    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    result: Mapped[str] = mapped_column(String(16))  # complete | refused
    reason: Mapped[str | None] = mapped_column(String(64))
    registration_json: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SvcPaymentData(SurrogateKey, ServiceBase):
    """What a statement payment carried beyond the stub's charge (R29): class and allocation code."""

    __tablename__ = "svc_fin_payment_data"

    payment_key: Mapped[str] = mapped_column(String(128), unique=True)
    payment_class: Mapped[str] = mapped_column(String(32))
    budget_allocation_code: Mapped[str] = mapped_column(String(64))
    budget_general_code: Mapped[str] = mapped_column(String(64))


class SvcExemptPayment(SurrogateKey, ServiceBase):
    """A payment exempt from the budget-line rule (R29), once per key."""

    __tablename__ = "svc_fin_exempt_payments"

    payment_key: Mapped[str] = mapped_column(String(128), unique=True)
    exemption: Mapped[str] = mapped_column(String(32))
    contract_code: Mapped[str] = mapped_column(String(64))
    payee: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)


def create_service_tables(engine: Engine) -> None:
    ServiceBase.metadata.create_all(engine)
