"""Repositories: the only place that speaks SQL for the engine's own tables."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import normalize
from domain.reasons import DomainError, Reason
from store import models as m


class _Repo:
    def __init__(self, session: Session) -> None:
        self.session = session


class UnitRepository(_Repo):
    def add(self, unit_id: str, code: str, name: str, kind: str) -> m.Unit:
        unit = m.Unit(id=unit_id, code=code, name=normalize(name), kind=kind)
        self.session.add(unit)
        return unit

    def get(self, unit_id: str) -> m.Unit:
        unit = self.session.get(m.Unit, unit_id)
        if unit is None:
            raise DomainError(Reason.UNKNOWN_UNIT, f"«{unit_id}»")
        return unit

    def exists(self, unit_id: str) -> bool:
        return self.session.get(m.Unit, unit_id) is not None

    def list(self) -> Sequence[m.Unit]:
        return self.session.scalars(select(m.Unit).order_by(m.Unit.code)).all()


class PersonRepository(_Repo):
    def add(self, national_id: str, full_name: str, mobile: str | None = None) -> m.Person:
        nid = validate_national_id(national_id)
        existing = self.session.get(m.Person, nid)
        if existing:
            return existing
        person = m.Person(national_id=nid, full_name=normalize(full_name), mobile=mobile)
        self.session.add(person)
        return person

    def get(self, national_id: str) -> m.Person | None:
        return self.session.get(m.Person, validate_national_id(national_id))


class CompanyRepository(_Repo):
    def add(self, national_id: str, name: str, economic_code: str, grade: int,
            ceo_national_id: str | None = None) -> m.Company:
        cid = validate_company_id(national_id)
        existing = self.session.get(m.Company, cid)
        if existing:
            return existing
        company = m.Company(national_id=cid, name=normalize(name), economic_code=validate_economic_code(economic_code),
                            grade=int(grade),
                            ceo_national_id=validate_national_id(ceo_national_id) if ceo_national_id else None)
        self.session.add(company)
        return company

    def get(self, national_id: str) -> m.Company | None:
        return self.session.get(m.Company, validate_company_id(national_id))


class RoleRepository(_Repo):
    def assign(self, national_id: str, role: str, unit_id: str, valid_from: date,
               valid_until: date | None = None, alternate_for: str | None = None) -> m.RoleAssignment:
        if valid_until is not None and valid_until <= valid_from:
            raise DomainError(Reason.INVALID_INPUT, "پایان دورهٔ سمت باید پس از آغاز آن باشد")
        ra = m.RoleAssignment(national_id=validate_national_id(national_id), role=role, unit_id=unit_id,
                              valid_from=valid_from, valid_until=valid_until, alternate_for=alternate_for)
        self.session.add(ra)
        return ra

    def end(self, national_id: str, role: str, unit_id: str, on: date) -> int:
        """The person leaves the post on `on` (exclusive end)."""
        rows = self._active(on).where(m.RoleAssignment.national_id == national_id,
                                      m.RoleAssignment.role == role, m.RoleAssignment.unit_id == unit_id)
        n = 0
        for ra in self.session.scalars(rows):
            ra.valid_until = on
            n += 1
        return n

    def holds(self, national_id: str, role: str, unit_id: str, on: date) -> bool:
        q = self._active(on).where(m.RoleAssignment.national_id == national_id,
                                   m.RoleAssignment.role == role, m.RoleAssignment.unit_id == unit_id)
        return self.session.scalar(select(func.count()).select_from(q.subquery())) > 0

    def holders(self, unit_id: str, on: date, roles: Iterable[str] | None = None) -> Sequence[m.RoleAssignment]:
        q = self._active(on).where(m.RoleAssignment.unit_id == unit_id)
        if roles is not None:
            q = q.where(m.RoleAssignment.role.in_(list(roles)))
        return self.session.scalars(q.order_by(m.RoleAssignment.role, m.RoleAssignment.id)).all()

    @staticmethod
    def _active(on: date):
        return select(m.RoleAssignment).where(
            m.RoleAssignment.valid_from <= on,
            or_(m.RoleAssignment.valid_until.is_(None), m.RoleAssignment.valid_until > on))


class CertificateRepository(_Repo):
    def save(self, row: m.CertificateRow) -> m.CertificateRow:
        self.session.merge(row)
        return row

    def get(self, serial: int | str) -> m.CertificateRow | None:
        return self.session.get(m.CertificateRow, str(serial))

    def for_person(self, national_id: str) -> Sequence[m.CertificateRow]:
        return self.session.scalars(select(m.CertificateRow).where(m.CertificateRow.national_id == national_id)
                                    .order_by(m.CertificateRow.not_before)).all()

    def mark_revoked(self, serial: int | str, revoked_at: datetime, reason: str) -> None:
        row = self.get(serial)
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی با شمارهٔ {serial} ثبت نشده است")
        if row.revoked_at is None:
            row.revoked_at = revoked_at
            row.revoke_reason = reason

    def revocations(self) -> list[tuple[int, datetime]]:
        rows = self.session.execute(select(m.CertificateRow.serial, m.CertificateRow.revoked_at)
                                    .where(m.CertificateRow.revoked_at.is_not(None))).all()
        return [(int(s), at) for s, at in rows]


class PriceListRepository(_Repo):
    def add(self, list_id: str, version: int, domain: str, items: Iterable[tuple[str, str, int]],
            approved_by: str, approved_at: datetime, technical_council_ref: str | None = None) -> m.PriceList:
        pl = m.PriceList(list_id=list_id, version=version, domain=domain, approved_by=approved_by,
                         approved_at=approved_at, technical_council_ref=technical_council_ref,
                         items=[m.PriceListItem(code=c, unit=u, unit_price=p) for c, u, p in items])
        self.session.add(pl)
        return pl

    def get(self, list_id: str, version: int | None = None) -> m.PriceList | None:
        q = select(m.PriceList).where(m.PriceList.list_id == list_id)
        if version is not None:
            q = q.where(m.PriceList.version == version)
        return self.session.scalars(q.order_by(m.PriceList.version.desc()).limit(1)).first()


class FormulaRepository(_Repo):
    def add(self, formula_id: str, version: int, expression: str, approved_by: str, approved_at: datetime,
            technical_council_ref: str) -> m.FormulaRow:
        existing = self.get(formula_id, version)
        if existing:
            if existing.expression != expression:
                raise DomainError(Reason.INVALID_INPUT, f"فرمول {formula_id} نسخهٔ {version} با متن دیگری ثبت شده است")
            return existing
        row = m.FormulaRow(formula_id=formula_id, version=version, expression=expression, approved_by=approved_by,
                           approved_at=approved_at, technical_council_ref=technical_council_ref)
        self.session.add(row)
        return row

    def get(self, formula_id: str, version: int) -> m.FormulaRow | None:
        return self.session.scalars(select(m.FormulaRow).where(
            m.FormulaRow.formula_id == formula_id, m.FormulaRow.version == version)).first()


class TenderRepository(_Repo):
    def add(self, tender: m.Tender) -> m.Tender:
        self.session.add(tender)
        return tender

    def get(self, tender_id: str) -> m.Tender | None:
        return self.session.get(m.Tender, tender_id)

    def for_unit(self, unit_id: str) -> Sequence[m.Tender]:
        return self.session.scalars(select(m.Tender).where(m.Tender.unit_id == unit_id)
                                    .order_by(m.Tender.announced_at)).all()


class BidRepository(_Repo):
    def add(self, bid: m.Bid, envelope_hashes: dict[str, str]) -> m.Bid:
        self.session.add(bid)
        self.session.flush()
        for letter, digest in sorted(envelope_hashes.items()):
            self.session.add(m.Envelope(bid_id=bid.id, letter=letter, sha256=digest))
        return bid

    def latest(self, tender_id: str, bidder_ref: str) -> m.Bid | None:
        return self.session.scalars(select(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref)
                                    .order_by(m.Bid.seq.desc()).limit(1)).first()

    def current(self, tender_id: str) -> Sequence[m.Bid]:
        return self.session.scalars(select(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.superseded.is_(False))
                                    .order_by(m.Bid.received_at, m.Bid.id)).all()

    def envelope(self, bid_id: int, letter: str) -> m.Envelope | None:
        return self.session.scalars(select(m.Envelope).where(m.Envelope.bid_id == bid_id,
                                                             m.Envelope.letter == letter)).first()


class MinutesRepository(_Repo):
    def latest(self, tender_id: str, kind: str) -> m.Minutes | None:
        return self.session.scalars(select(m.Minutes).where(m.Minutes.tender_id == tender_id, m.Minutes.kind == kind)
                                    .order_by(m.Minutes.version.desc()).limit(1)).first()

    def add(self, minutes: m.Minutes) -> m.Minutes:
        self.session.add(minutes)
        return minutes

    def signatures(self, document_kind: str, document_id: str) -> Sequence[m.SignatureRow]:
        return self.session.scalars(select(m.SignatureRow).where(m.SignatureRow.document_kind == document_kind,
                                                                 m.SignatureRow.document_id == document_id)
                                    .order_by(m.SignatureRow.id)).all()


class ContractRepository(_Repo):
    def add(self, contract: m.Contract) -> m.Contract:
        self.session.add(contract)
        return contract

    def add_many(self, rows: list[dict]) -> int:
        """Bulk registration (legacy migration, benchmarks): one INSERT per batch, no per-object state."""
        from sqlalchemy import insert

        if rows:
            self.session.execute(insert(m.Contract), rows)
        return len(rows)

    def by_code(self, code: str) -> m.Contract | None:
        return self.session.scalars(select(m.Contract).where(m.Contract.code == code)).first()

    def by_tracking(self, tracking_number: str) -> m.Contract | None:
        return self.session.scalars(select(m.Contract).where(m.Contract.tracking_number == tracking_number)).first()

    def for_tender(self, tender_id: str) -> m.Contract | None:
        return self.session.scalars(select(m.Contract).where(m.Contract.tender_id == tender_id)).first()

    def count_for_unit_year(self, unit_id: str, prefix: str) -> int:
        return self.session.scalar(select(func.count()).select_from(m.Contract).where(
            and_(m.Contract.unit_id == unit_id, m.Contract.code.like(f"{prefix}%")))) or 0

    def approvals(self, contract_id: int) -> Sequence[m.ContractApproval]:
        return self.session.scalars(select(m.ContractApproval).where(m.ContractApproval.contract_id == contract_id)
                                    .order_by(m.ContractApproval.id)).all()


class StatementRepository(_Repo):
    def add(self, statement: m.StatusStatement) -> m.StatusStatement:
        self.session.add(statement)
        return statement

    def for_contract(self, contract_id: int) -> Sequence[m.StatusStatement]:
        return self.session.scalars(select(m.StatusStatement).where(m.StatusStatement.contract_id == contract_id)
                                    .order_by(m.StatusStatement.seq)).all()

    def by_ref(self, contract_id: int, ref: str) -> m.StatusStatement | None:
        return self.session.scalars(select(m.StatusStatement).where(m.StatusStatement.contract_id == contract_id,
                                                                    m.StatusStatement.ref == ref)).first()


class PaymentRepository(_Repo):
    def add(self, payment: m.Payment) -> m.Payment:
        self.session.add(payment)
        return payment

    def by_key(self, payment_key: str) -> m.Payment | None:
        return self.session.scalars(select(m.Payment).where(m.Payment.payment_key == payment_key)).first()
