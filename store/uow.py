"""Unit of work: one transaction, its repositories, and the audit entries it appends."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import sessionmaker

from domain.reasons import DomainError, Reason
from store import audit, repositories as r
from store.legacy_repository import LegacyRepository
from store.report_queries import ReportQueries


class UnitOfWork:
    def __init__(self, factory: sessionmaker) -> None:
        self._factory = factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        s = self.session
        self.units = r.UnitRepository(s)
        self.people = r.PersonRepository(s)
        self.companies = r.CompanyRepository(s)
        self.roles = r.RoleRepository(s)
        self.certificates = r.CertificateRepository(s)
        self.price_lists = r.PriceListRepository(s)
        self.formulas = r.FormulaRepository(s)
        self.tenders = r.TenderRepository(s)
        self.bids = r.BidRepository(s)
        self.minutes = r.MinutesRepository(s)
        self.contracts = r.ContractRepository(s)
        self.statements = r.StatementRepository(s)
        self.payments = r.PaymentRepository(s)
        self.sessions_held = r.SessionRepository(s)
        self.audit = r.AuditRepository(s)
        self.checkpoints = r.CheckpointRepository(s)
        self.challenges = r.ChallengeRepository(s)
        self.price_list_imports = r.PriceListImportRepository(s)
        self.approvals = r.ApprovalRepository(s)
        self.tender_drafts = r.TenderDraftRepository(s)
        self.notices = r.TenderNoticeRepository(s)
        self.session_keys = r.SessionKeyRepository(s)
        self.releases = r.PartsReleaseRepository(s)
        self.auctions = r.AuctionRepository(s)
        self.rules_calendar = r.RulesCalendarRepository(s)
        self.real_estate = r.RealEstateRepository(s)
        self.income_receipts = r.IncomeReceiptRepository(s)
        self.legacy = LegacyRepository(s)
        self.reports = ReportQueries(s)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Nothing is committed implicitly: a failure anywhere leaves nothing half-written.
        # Rows read stay usable as detached snapshots (a rollback would expire them).
        self.session.expunge_all()
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def record(self, *, at: datetime, actor: str, action: str, entity: str, entity_id: str,
               reason: Reason | None = None, payload: dict[str, Any] | None = None) -> None:
        audit.append(self.session, at=at, actor=actor, action=action, entity=entity, entity_id=entity_id,
                     reason=reason, payload=payload)


def record_refusal(factory: sessionmaker, error: DomainError, *, at: datetime, actor: str, action: str,
                   entity: str, entity_id: str, payload: dict[str, Any] | None = None) -> None:
    """A refused attempt is audited in its own transaction, after the attempt's own rollback."""
    with UnitOfWork(factory) as uow:
        uow.record(at=at, actor=actor, action=action, entity=entity, entity_id=entity_id, reason=error.reason,
                   payload={**(payload or {}), "detail": error.detail})
        uow.commit()
