"""Repositories: the only place that speaks SQL for the engine's own tables."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import normalize
from domain.reasons import DomainError, Reason
from store import models as m

if TYPE_CHECKING:
    from store.audit import ChainReport


_Row = TypeVar("_Row", bound=m.Base)


class _Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _get_or_add(self, model: type[_Row], key: str, build: Callable[[], _Row]) -> _Row:
        """The row of `model` with primary key `key`, or the one `build` makes, added to the session."""
        existing = self.session.get(model, key)
        if existing is not None:
            return existing
        row = build()
        self.session.add(row)
        return row


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
        return self._get_or_add(m.Person, nid,
                                lambda: m.Person(national_id=nid, full_name=normalize(full_name), mobile=mobile))

    def get(self, national_id: str) -> m.Person | None:
        return self.session.get(m.Person, validate_national_id(national_id))


class CompanyRepository(_Repo):
    def add(self, national_id: str, name: str, economic_code: str, grade: int,
            ceo_national_id: str | None = None) -> m.Company:
        cid = validate_company_id(national_id)
        return self._get_or_add(m.Company, cid, lambda: m.Company(
            national_id=cid, name=normalize(name), economic_code=validate_economic_code(economic_code),
            grade=int(grade), ceo_national_id=validate_national_id(ceo_national_id) if ceo_national_id else None))

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
        n = 0
        for ra in self.session.scalars(self._held(national_id, role, unit_id, on)):
            ra.valid_until = on
            n += 1
        return n

    def holds(self, national_id: str, role: str, unit_id: str, on: date) -> bool:
        q = self._held(national_id, role, unit_id, on)
        return bool(self.session.scalar(select(func.count()).select_from(q.subquery())))

    def holders(self, unit_id: str, on: date, roles: Iterable[str] | None = None) -> Sequence[m.RoleAssignment]:
        q = self._active(on).where(m.RoleAssignment.unit_id == unit_id)
        if roles is not None:
            q = q.where(m.RoleAssignment.role.in_(list(roles)))
        return self.session.scalars(q.order_by(m.RoleAssignment.role, m.RoleAssignment.id)).all()

    @classmethod
    def _held(cls, national_id: str, role: str, unit_id: str, on: date) -> Select[m.RoleAssignment]:
        return cls._active(on).where(m.RoleAssignment.national_id == national_id,
                                     m.RoleAssignment.role == role, m.RoleAssignment.unit_id == unit_id)

    @staticmethod
    def _active(on: date) -> Select[m.RoleAssignment]:
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

    def all(self) -> Sequence[m.CertificateRow]:
        return self.session.scalars(select(m.CertificateRow)).all()

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
        return [(int(s), at) for s, at in rows if at is not None]  # (None is already excluded by the query)


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

    def owner(self, tender_id: str, bidder_ref: str) -> str | None:
        """The company whose accepted bid first took this bidder reference in the tender, if any."""
        return self.session.scalars(select(m.Bid.company_id).where(
            m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref, m.Bid.refused_reason.is_(None))
            .order_by(m.Bid.seq).limit(1)).first()

    def all_for(self, tender_id: str) -> Sequence[m.Bid]:
        """Every submission of the tender, accepted or refused, in submission order."""
        return self.session.scalars(select(m.Bid).where(m.Bid.tender_id == tender_id).order_by(m.Bid.seq,
                                                                                                m.Bid.id)).all()

    def received_at(self, tender_id: str, bidder_ref: str, at: datetime) -> m.Bid | None:
        """The submission of that bidder received at exactly `at` (rehearsal reruns)."""
        return self.session.scalars(select(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref,
                                                        m.Bid.received_at == at)).first()


class SessionRepository(_Repo):
    """The commission's sittings (opening, price opening) of a tender."""

    def get(self, tender_id: str, kind: str) -> m.Session | None:
        return self.session.scalars(select(m.Session).where(m.Session.tender_id == tender_id,
                                                            m.Session.kind == kind)).one_or_none()

    def add(self, row: m.Session) -> m.Session:
        self.session.add(row)
        return row


class MinutesRepository(_Repo):
    def latest(self, tender_id: str, kind: str) -> m.Minutes | None:
        return self.session.scalars(select(m.Minutes).where(m.Minutes.tender_id == tender_id, m.Minutes.kind == kind)
                                    .order_by(m.Minutes.version.desc()).limit(1)).first()

    def add(self, minutes: m.Minutes) -> m.Minutes:
        self.session.add(minutes)
        return minutes

    def all_for(self, tender_id: str, kind_prefix: str = "") -> Sequence[m.Minutes]:
        """Every stored document of the tender (minutes, notifications) whose kind starts with the prefix."""
        return self.session.scalars(select(m.Minutes).where(m.Minutes.tender_id == tender_id,
                                                            m.Minutes.kind.like(f"{kind_prefix}%"))
                                    .order_by(m.Minutes.id)).all()

    def version(self, tender_id: str, kind: str, version: int) -> m.Minutes | None:
        return self.session.scalars(select(m.Minutes).where(m.Minutes.tender_id == tender_id, m.Minutes.kind == kind,
                                                            m.Minutes.version == version)).one_or_none()

    def signature(self, document_kind: str, document_id: str, national_id: str) -> m.SignatureRow | None:
        return self.session.scalars(select(m.SignatureRow).where(
            m.SignatureRow.document_kind == document_kind, m.SignatureRow.document_id == document_id,
            m.SignatureRow.signer_national_id == national_id)).one_or_none()

    def add_signature(self, row: m.SignatureRow) -> m.SignatureRow:
        self.session.add(row)
        return row

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

    def add_approval(self, approval: m.ContractApproval) -> m.ContractApproval:
        self.session.add(approval)
        return approval

    def count_tracking(self, prefix: str) -> int:
        """How many contracts have a tracking number starting with `prefix`."""
        return self.session.scalar(select(func.count()).select_from(m.Contract).where(
            m.Contract.tracking_number.like(f"{prefix}%"))) or 0


class AuditRepository(_Repo):
    """Read side of the audit log (appends go through UnitOfWork.record)."""

    def verify(self) -> ChainReport:
        """Recompute the hash chain over every entry (store.audit.verify_chain)."""
        from store.audit import verify_chain

        return verify_chain(self.entries())

    def exists(self, action: str, entity_id: str) -> bool:
        return self.session.scalars(select(m.AuditEntry.seq).where(m.AuditEntry.action == action,
                                                                   m.AuditEntry.entity_id == entity_id)
                                    .limit(1)).first() is not None

    def last(self, action: str, entity_id: str) -> m.AuditEntry | None:
        """The newest entry of that action on that entity."""
        return self.session.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action,
                                                               m.AuditEntry.entity_id == entity_id)
                                    .order_by(m.AuditEntry.seq.desc()).limit(1)).first()

    def first(self, action: str, entity_id: str) -> m.AuditEntry | None:
        return self.session.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action,
                                                               m.AuditEntry.entity_id == entity_id)
                                    .order_by(m.AuditEntry.seq).limit(1)).first()

    def entries(self) -> Iterator[m.AuditEntry]:
        """Every entry in chain order, streamed (audit verify, export)."""
        from store.audit import iter_entries

        return iter_entries(self.session)

    def export_jsonl(self, out: IO[str]) -> int:
        """Write every entry as one JSON line to `out`; returns how many."""
        from store.audit import export_jsonl

        return export_jsonl(self.session, out)


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

    def for_statements(self, statement_ids: Iterable[int]) -> Sequence[m.Payment]:
        """Payment attempts for these statements, in time order."""
        ids = list(statement_ids) or [-1]
        return self.session.scalars(select(m.Payment).where(m.Payment.statement_id.in_(ids))
                                    .order_by(m.Payment.at, m.Payment.id)).all()

    def attempt(self, ref: str, statement_ids: Iterable[int]) -> m.Payment | None:
        """The recorded attempt of payment order `ref` against one of these statements."""
        ids = list(statement_ids) or [-1]
        return self.session.scalars(select(m.Payment).where(m.Payment.ref == ref,
                                                            m.Payment.statement_id.in_(ids))).first()

    def paid(self, statement_id: int) -> bool:
        """Whether the statement has been paid."""
        return self.session.scalars(select(m.Payment.id).where(m.Payment.statement_id == statement_id,
                                                               m.Payment.result == "paid").limit(1)).first() is not None
