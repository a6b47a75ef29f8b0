"""Repositories: the only place that speaks SQL for the engine's own tables."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, and_, delete, func, literal_column, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, defer

from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import normalize, parse_int
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
        """The person with this national ID (domain.identity rules), added with a normalised name if new.

        Raises: INVALID_INPUT (national ID). Rule: R21."""
        nid = validate_national_id(national_id)
        return self._get_or_add(m.Person, nid, lambda: m.Person(
            national_id=nid, full_name=normalize(full_name), mobile=normalize(mobile) if mobile else None))

    def get(self, national_id: str) -> m.Person | None:
        return self.session.get(m.Person, validate_national_id(national_id))


class CompanyRepository(_Repo):
    def add(self, national_id: str, name: str, economic_code: str, grade: int,
            ceo_national_id: str | None = None) -> m.Company:
        """The company with this national ID, added if new: identifiers by domain.identity, the name
        normalised, the grade read by domain.persian.parse_int.

        Raises: INVALID_INPUT (an identifier or the grade). Rule: R21."""
        cid = validate_company_id(national_id)
        return self._get_or_add(m.Company, cid, lambda: m.Company(
            national_id=cid, name=normalize(name), economic_code=validate_economic_code(economic_code),
            grade=parse_int(grade, "رتبه"),
            ceo_national_id=validate_national_id(ceo_national_id) if ceo_national_id else None))

    def get(self, national_id: str) -> m.Company | None:
        return self.session.get(m.Company, validate_company_id(national_id))


class RoleRepository(_Repo):
    def assign(self, national_id: str, role: str, unit_id: str, valid_from: date,
               valid_until: date | None = None, alternate_for: str | None = None) -> m.RoleAssignment:
        if valid_until is not None and valid_until <= valid_from:
            raise DomainError(Reason.INVALID_INPUT, "پایان دورهٔ سمت باید پس از آغاز آن باشد")
        ra = m.RoleAssignment(national_id=validate_national_id(national_id), role=role, unit_id=unit_id,
                              valid_from=valid_from, valid_until=valid_until,
                              alternate_for=validate_national_id(alternate_for) if alternate_for else None)
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

    def current_of(self, tender_id: str, bidder_ref: str) -> Sequence[m.Bid]:
        """The current (not superseded) submissions of one bidder: a new bid touches only these, never
        the whole tender's blobs."""
        return self.session.scalars(select(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref,
                                                        m.Bid.superseded.is_(False))).all()

    def current_sealed(self, tender_id: str) -> Iterator[tuple[str, int, bytes]]:
        """(bidder_ref, seq, sealed blob) of each current accepted bid, one row at a time: a member's
        parts are read from the headers without holding every bid in memory."""
        rows = self.session.execute(select(m.Bid.bidder_ref, m.Bid.seq, m.Bid.sealed).where(
            m.Bid.tender_id == tender_id, m.Bid.superseded.is_(False), m.Bid.refused_reason.is_(None))
            .order_by(m.Bid.received_at, m.Bid.id).execution_options(yield_per=1))
        yield from ((ref, seq, blob) for ref, seq, blob in rows)

    def current_prefixes(self, tender_id: str, prefix: int) -> list[tuple[int, str, int, bytes]]:
        """(bid id, bidder_ref, seq, the first `prefix` bytes of its sealed blob) of each current accepted
        bid, in order of receipt: the headers (key plans) without reading the ciphertexts (on SQLite
        through its incremental blob I/O, as sealed_slices)."""
        where = (m.Bid.tender_id == tender_id, m.Bid.superseded.is_(False), m.Bid.refused_reason.is_(None))
        order = (m.Bid.received_at, m.Bid.id)
        if self.session.get_bind().dialect.name != "sqlite":
            heads = self.session.execute(select(m.Bid.id, m.Bid.bidder_ref, m.Bid.seq,
                                                func.substr(m.Bid.sealed, 1, prefix)).where(*where).order_by(*order))
            return [(int(i), ref, int(seq), bytes(head or b"")) for i, ref, seq, head in heads]
        rows = self.session.execute(select(m.Bid.id, m.Bid.bidder_ref, m.Bid.seq, literal_column("rowid"),
                                           func.length(m.Bid.sealed)).where(*where).order_by(*order)).all()
        raw: Any = self.session.connection().connection.driver_connection  # sqlite3.Connection
        out = []
        for i, ref, seq, rowid, total in rows:
            head = b""
            if total:
                with raw.blobopen(m.Bid.__tablename__, "sealed", int(rowid), readonly=True) as blob:
                    head = blob.read(min(prefix, int(total)))
            out.append((int(i), ref, int(seq), head))
        return out

    def sealed_slices(self, bid_id: int, spans: Sequence[tuple[int, int]]) -> tuple[int, list[bytes]]:
        """The length of bid `bid_id`'s sealed blob, and the bytes of each (start, length) span of it
        (0-based; cut short at the blob's end): a header, or one envelope's ciphertext, without reading
        the rest of the blob. (0, empty spans) when the bid has no blob.

        SQLite reads a blob whole for substr(): there the spans are read through SQLite's incremental
        blob I/O (only the pages they cover); elsewhere with substr()."""
        if self.session.get_bind().dialect.name == "sqlite":
            found = self.session.execute(select(literal_column("rowid"), func.length(m.Bid.sealed))
                                         .where(m.Bid.id == bid_id)).first()
            if found is None or not found[1]:
                return 0, [b"" for _ in spans]
            rowid, total = int(found[0]), int(found[1])
            raw: Any = self.session.connection().connection.driver_connection  # sqlite3.Connection
            return total, _blob_spans(raw, rowid, total, spans)
        columns = [func.length(m.Bid.sealed)] + [func.substr(m.Bid.sealed, start + 1, max(length, 0))
                                                   for start, length in spans]
        row = self.session.execute(select(*columns).where(m.Bid.id == bid_id)).first()
        if row is None or not row[0]:
            return 0, [b"" for _ in spans]
        return int(row[0]), [bytes(part or b"") if length > 0 else b"" for part, (_, length) in zip(row[1:], spans)]

    def current(self, tender_id: str, *, sealed: bool = True) -> Sequence[m.Bid]:
        """The current (not superseded) submissions; with sealed=False the blobs are not loaded (the
        rows' `sealed` must then not be read)."""
        q = select(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.superseded.is_(False))
        if not sealed:
            q = q.options(defer(m.Bid.sealed, raiseload=True))
        return self.session.scalars(q.order_by(m.Bid.received_at, m.Bid.id)).all()

    def envelope(self, bid_id: int, letter: str) -> m.Envelope | None:
        return self.session.scalars(select(m.Envelope).where(m.Envelope.bid_id == bid_id,
                                                             m.Envelope.letter == letter)).first()

    def envelopes_of(self, bid_ids: Iterable[int]) -> dict[tuple[int, str], m.Envelope]:
        """(bid id, letter) -> envelope row of every envelope of those bids (one query per 500 bids)."""
        wanted = sorted(set(bid_ids))
        out: dict[tuple[int, str], m.Envelope] = {}
        for i in range(0, len(wanted), 500):
            for env in self.session.scalars(select(m.Envelope).where(m.Envelope.bid_id.in_(wanted[i:i + 500]))
                                            .order_by(m.Envelope.id)):
                out.setdefault((env.bid_id, env.letter), env)
        return out

    def owner(self, tender_id: str, bidder_ref: str) -> str | None:
        """The company whose accepted bid first took this bidder reference in the tender, if any."""
        return self.session.scalars(select(m.Bid.company_id).where(
            m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref, m.Bid.refused_reason.is_(None))
            .order_by(m.Bid.seq).limit(1)).first()

    def refs_of_company(self, tender_id: str, company_id: str) -> Sequence[str]:
        """The bidder references under which the company has accepted bids in the tender."""
        return self.session.scalars(select(m.Bid.bidder_ref).where(
            m.Bid.tender_id == tender_id, m.Bid.company_id == company_id, m.Bid.refused_reason.is_(None))
            .distinct()).all()

    def all_for(self, tender_id: str, *, sealed: bool = True) -> Sequence[m.Bid]:
        """Every submission of the tender, accepted or refused, in submission order; with sealed=False
        the blobs are not loaded (the rows' `sealed` must then not be read)."""
        q = select(m.Bid).where(m.Bid.tender_id == tender_id)
        if not sealed:
            q = q.options(defer(m.Bid.sealed, raiseload=True))
        return self.session.scalars(q.order_by(m.Bid.seq, m.Bid.id)).all()

    def received_at(self, tender_id: str, bidder_ref: str, at: datetime) -> m.Bid | None:
        """The submission of that bidder received at exactly `at` (rehearsal reruns)."""
        return self.session.scalars(select(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref,
                                                        m.Bid.received_at == at)).first()

    def supersede(self, tender_id: str, bidder_ref: str, seqs: Iterable[int]) -> None:
        """Mark the bidder's accepted submissions `seqs` superseded, in one UPDATE without loading them
        (their blobs); nothing is sent when `seqs` is empty (a bidder's first bid)."""
        wanted = sorted(set(seqs))
        if wanted:
            self.session.execute(update(m.Bid).where(m.Bid.tender_id == tender_id, m.Bid.bidder_ref == bidder_ref,
                                                     m.Bid.seq.in_(wanted), m.Bid.refused_reason.is_(None))
                                 .values(superseded=True).execution_options(synchronize_session=False))

    def sealed_slices_many(self, spans: dict[int, Sequence[tuple[int, int]]]) -> dict[int, tuple[int, list[bytes]]]:
        """sealed_slices for several bids at once: bid id -> (the length of its sealed blob, the bytes of
        each (start, length) span of it; (0, empty spans) when the bid has no blob). On SQLite one query
        for every bid's row and length (per 500 bids), then one incremental blob read each; elsewhere
        sealed_slices bid by bid (substr())."""
        if self.session.get_bind().dialect.name != "sqlite":
            return {bid_id: self.sealed_slices(bid_id, wanted) for bid_id, wanted in spans.items()}
        ids = sorted(spans)
        found: dict[int, tuple[int, int]] = {}
        for i in range(0, len(ids), 500):
            found.update((int(bid_id), (int(rowid), int(total or 0))) for bid_id, rowid, total in self.session.execute(
                select(m.Bid.id, literal_column("rowid"), func.length(m.Bid.sealed))
                .where(m.Bid.id.in_(ids[i:i + 500]))))
        raw: Any = self.session.connection().connection.driver_connection  # sqlite3.Connection
        out: dict[int, tuple[int, list[bytes]]] = {}
        for bid_id, wanted in spans.items():
            rowid, total = found.get(bid_id, (0, 0))
            if not total:
                out[bid_id] = (0, [b"" for _ in wanted])
                continue
            out[bid_id] = (total, _blob_spans(raw, rowid, total, wanted))
        return out

    def set_outcomes(self, outcomes: Sequence[tuple[int, str, str, str | None, datetime | None]]) -> None:
        """Record each (bid id, letter, outcome, reason code or None, opened at or None) on that bid's
        envelope of that letter, in one statement for all (executemany), without loading the rows:
        outcome and reason are set; `opened_at` is kept when the envelope already has one (a sitting
        replayed), else set to the given time (None leaves it unset). No row for a (bid, letter): nothing."""
        from sqlalchemy import bindparam

        if not outcomes:
            return
        table: Any = m.Envelope.__table__  # the Table (Core executemany: the rows are not loaded)
        self.session.execute(
            update(table).where(table.c.bid_id == bindparam("w_bid"), table.c.letter == bindparam("w_letter"))
            .values(outcome=bindparam("w_outcome"), reason=bindparam("w_reason"),
                    opened_at=func.coalesce(table.c.opened_at, bindparam("w_opened", type_=table.c.opened_at.type))),
            [{"w_bid": bid_id, "w_letter": letter, "w_outcome": outcome, "w_reason": reason, "w_opened": opened}
             for bid_id, letter, outcome, reason, opened in outcomes])

    def companies_of(self, bid_ids: Iterable[int]) -> dict[str, m.Company]:
        """The registered companies of these bids (company national ID -> row), in one query: a batch
        of a sitting reads its bidders' companies at once, and CompanyRepository.get then finds them
        in this unit of work without a query each."""
        wanted = sorted(set(bid_ids))
        if not wanted:
            return {}
        return {c.national_id: c for c in self.session.scalars(select(m.Company).where(
            m.Company.national_id.in_(select(m.Bid.company_id).where(m.Bid.id.in_(wanted)))))}


def _blob_spans(raw: Any, rowid: int, total: int, spans: Sequence[tuple[int, int]]) -> list[bytes]:
    """The bytes of each (start, length) span of bid row `rowid`'s sealed blob of `total` bytes, read
    incrementally on the sqlite3 connection `raw` (spans clipped to the blob)."""
    out = []
    with raw.blobopen(m.Bid.__tablename__, "sealed", rowid, readonly=True) as blob:
        for start, length in spans:
            start = min(max(start, 0), total)
            blob.seek(start)
            out.append(blob.read(max(0, min(length, total - start))))
    return out


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
    """Read side of the audit log (appends go through UnitOfWork.record), and `append_many`: many
    entries of one transaction appended as one write."""

    def append_many(self, entries: Sequence[dict[str, Any]]) -> int:
        """Append `entries` in order, each the keyword arguments of store.audit.append (at, actor, action,
        entity, entity_id, reason, payload): the first through store.audit.append itself (the
        appenders' lock, the head read after a flush), each next one linked to the one before by
        store.audit.entry_hash, and one flush for all. The chain is exactly the one the same appends
        made one by one give (the transaction holds the head from the first insert on). Returns how
        many were appended. Raises: AUDIT_APPEND_ONLY (store.audit guards)."""
        from store.audit import append, canonical_payload, entry_hash

        if not entries:
            return 0
        prev = append(self.session, **entries[0]).hash
        rows = []
        for e in entries[1:]:
            reason = e.get("reason")
            code = reason.value if isinstance(reason, Reason) else reason
            payload_json = canonical_payload(e.get("payload"))
            entity_id = str(e["entity_id"])
            digest = entry_hash(prev, e["at"], e["actor"], e["action"], e["entity"], entity_id, code, payload_json)
            rows.append(m.AuditEntry(at=e["at"], actor=e["actor"], action=e["action"], entity=e["entity"],
                                     entity_id=entity_id, reason=code, payload_json=payload_json, prev_hash=prev,
                                     hash=digest))
            prev = digest
        self.session.add_all(rows)
        self.session.flush()
        return len(entries)

    def verify(self) -> ChainReport:
        """Recompute the hash chain over every entry (store.audit.verify_chain)."""
        from store.audit import verify_chain

        return verify_chain(self.entries())

    def exists(self, action: str, entity_id: str) -> bool:
        return self.session.scalars(select(m.AuditEntry.seq).where(m.AuditEntry.action == action,
                                                                   m.AuditEntry.entity_id == entity_id)
                                    .limit(1)).first() is not None

    def payloads(self, action: str, entity_id: str) -> list[dict[str, Any]]:
        """The payloads of every entry of that action on that entity, in chain order."""
        import json

        rows = self.session.scalars(select(m.AuditEntry.payload_json).where(
            m.AuditEntry.action == action, m.AuditEntry.entity_id == entity_id).order_by(m.AuditEntry.seq)).all()
        return [json.loads(r) for r in rows]

    def last(self, action: str, entity_id: str) -> m.AuditEntry | None:
        """The newest entry of that action on that entity."""
        return self.session.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action,
                                                               m.AuditEntry.entity_id == entity_id)
                                    .order_by(m.AuditEntry.seq.desc()).limit(1)).first()

    def first(self, action: str, entity_id: str) -> m.AuditEntry | None:
        """The oldest entry of that action on that entity: what was recorded first decides."""
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

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last entry, or None for an empty log."""
        row = self.session.execute(select(m.AuditEntry.seq, m.AuditEntry.hash)
                                   .order_by(m.AuditEntry.seq.desc()).limit(1)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def hashes_at(self, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> hash of the stored entries among `seqs` (absent seqs are left out)."""
        wanted = sorted(set(seqs))
        found: dict[int, str] = {}
        for i in range(0, len(wanted), 500):
            found.update({int(s): str(h) for s, h in self.session.execute(
                select(m.AuditEntry.seq, m.AuditEntry.hash).where(m.AuditEntry.seq.in_(wanted[i:i + 500])))})
        return found

    def verify_after(self, seq: int, head_hash: str) -> ChainReport:
        """Recompute the chain from the entry `seq` (whose hash must be `head_hash`) to the head."""
        from store.audit import iter_entries, verify_chain

        return verify_chain(iter_entries(self.session, after=seq), prev=head_hash)


class CheckpointRepository(_Repo):
    """The engine's signed checkpoints of the audit chain head (append-only)."""

    def latest(self) -> m.AuditCheckpoint | None:
        return self.session.scalars(select(m.AuditCheckpoint).order_by(m.AuditCheckpoint.seq.desc())
                                    .limit(1)).first()

    def at(self, seq: int) -> m.AuditCheckpoint | None:
        return self.session.scalars(select(m.AuditCheckpoint).where(m.AuditCheckpoint.seq == seq)).first()

    def add_once(self, row: m.AuditCheckpoint) -> m.AuditCheckpoint:
        """Insert `row`, or return the checkpoint already stored at its seq or beyond it (another request
        or process signed a newer head first: it covers this one, and the insert guard refuses an older
        head after a newer one)."""
        existing = self.at(row.seq) or self._covering(row.seq)
        if existing is not None:
            return existing
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except (IntegrityError, DBAPIError):
            found = self.at(row.seq) or self._covering(row.seq)
            if found is None:
                raise
            return found
        return row

    def _covering(self, seq: int) -> m.AuditCheckpoint | None:
        newest = self.latest()
        return newest if newest is not None and newest.seq >= seq else None

    def all(self) -> Sequence[m.AuditCheckpoint]:
        """Every checkpoint, oldest head first."""
        return self.session.scalars(select(m.AuditCheckpoint).order_by(m.AuditCheckpoint.seq)).all()


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


class ChallengeRepository(_Repo):
    """Login challenges of the API: each answerable once, before it expires (services.auth)."""

    def add(self, row: m.AuthChallenge) -> m.AuthChallenge:
        self.session.add(row)
        return row

    def get(self, challenge_id: str) -> m.AuthChallenge | None:
        return self.session.get(m.AuthChallenge, challenge_id)

    def take(self, challenge_id: str, at: datetime) -> m.AuthChallenge | None:
        """Mark the challenge used at `at` if it is unused and unexpired then, and return it; None
        otherwise. One conditional UPDATE, so of two processes answering the same challenge at once
        exactly one gets it."""
        taken = self.session.execute(
            update(m.AuthChallenge)
            .where(m.AuthChallenge.id == challenge_id, m.AuthChallenge.used_at.is_(None),
                   m.AuthChallenge.expires_at > at)
            .values(used_at=at)
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = self.session.get(m.AuthChallenge, challenge_id)
        if row is not None:
            self.session.refresh(row)
        return row

    def purge(self, before: datetime) -> int:
        """Delete challenges that expired before `before`; how many were deleted."""
        result = self.session.execute(delete(m.AuthChallenge).where(m.AuthChallenge.expires_at < before)
                                      .execution_options(synchronize_session=False))
        return int(result.rowcount)  # type: ignore[attr-defined]


class PriceListImportRepository(_Repo):
    """Price-list versions imported and awaiting (or past) the deputy's approval (R09)."""

    def add(self, row: m.PriceListImport) -> m.PriceListImport:
        self.session.add(row)
        return row

    def get(self, list_id: str, version: int) -> m.PriceListImport | None:
        return self.session.scalars(select(m.PriceListImport).where(
            m.PriceListImport.list_id == list_id, m.PriceListImport.version == version)).first()


class ApprovalRepository(_Repo):
    """Token-signed approvals of price-list and formula versions (R09)."""

    def add(self, row: m.Approval) -> m.Approval:
        self.session.add(row)
        return row

    def get(self, kind: str, subject: str, version: int) -> m.Approval | None:
        return self.session.scalars(select(m.Approval).where(
            m.Approval.kind == kind, m.Approval.subject == subject, m.Approval.version == version)).first()


class TenderDraftRepository(_Repo):
    """Tenders created from a tender file, before (and after) their notice is published."""

    def add(self, row: m.TenderDraft) -> m.TenderDraft:
        self.session.add(row)
        return row

    def get(self, tender_id: str) -> m.TenderDraft | None:
        return self.session.get(m.TenderDraft, tender_id)


class TenderNoticeRepository(_Repo):
    """The signed notices published for tenders, newest version last."""

    def add(self, row: m.TenderNotice) -> m.TenderNotice:
        self.session.add(row)
        return row

    def latest(self, tender_id: str) -> m.TenderNotice | None:
        return self.session.scalars(select(m.TenderNotice).where(m.TenderNotice.tender_id == tender_id)
                                    .order_by(m.TenderNotice.version.desc()).limit(1)).first()


class SessionKeyRepository(_Repo):
    """The engine's keys of sittings (one per tender and sitting)."""

    def add(self, row: m.SessionKey) -> m.SessionKey:
        self.session.add(row)
        return row

    def get(self, tender_id: str, session: str) -> m.SessionKey | None:
        return self.session.scalars(select(m.SessionKey).where(m.SessionKey.tender_id == tender_id,
                                                               m.SessionKey.session == session)).first()


class PartsReleaseRepository(_Repo):
    """Members' releases of their parts for a sitting."""

    def add(self, row: m.PartsRelease) -> m.PartsRelease:
        self.session.add(row)
        return row

    def get(self, tender_id: str, session: str, member_id: str) -> m.PartsRelease | None:
        return self.session.scalars(select(m.PartsRelease).where(
            m.PartsRelease.tender_id == tender_id, m.PartsRelease.session == session,
            m.PartsRelease.member_id == member_id)).first()

    def for_session(self, tender_id: str, session: str) -> Sequence[m.PartsRelease]:
        return self.session.scalars(select(m.PartsRelease).where(
            m.PartsRelease.tender_id == tender_id, m.PartsRelease.session == session)
            .order_by(m.PartsRelease.id)).all()


class AuctionRepository(_Repo):
    """Online auctions (issue 14): the registered terms, the guarantees and the offers in the order
    received."""

    def get(self, tender_id: str) -> m.Auction | None:
        return self.session.get(m.Auction, tender_id)

    def add(self, row: m.Auction) -> m.Auction:
        self.session.add(row)
        return row

    def guarantees(self, tender_id: str) -> Sequence[m.AuctionGuarantee]:
        return self.session.scalars(select(m.AuctionGuarantee).where(m.AuctionGuarantee.tender_id == tender_id)
                                    .order_by(m.AuctionGuarantee.seq)).all()

    def add_guarantee(self, row: m.AuctionGuarantee) -> m.AuctionGuarantee:
        self.session.add(row)
        self.session.flush()
        return row

    def offers(self, tender_id: str) -> Sequence[m.AuctionOffer]:
        return self.session.scalars(select(m.AuctionOffer).where(m.AuctionOffer.tender_id == tender_id)
                                    .order_by(m.AuctionOffer.seq)).all()

    def add_offer(self, row: m.AuctionOffer) -> m.AuctionOffer:
        self.session.add(row)
        self.session.flush()
        return row

    def offer_received(self, tender_id: str, bidder_ref: str, at: datetime, amount_rial: int) -> m.AuctionOffer | None:
        """The offer of that bidder, amount and receipt time, if one was stored (a rehearsal rerun)."""
        return self.session.scalars(select(m.AuctionOffer).where(
            m.AuctionOffer.tender_id == tender_id, m.AuctionOffer.bidder_ref == bidder_ref,
            m.AuctionOffer.received_at == at, m.AuctionOffer.amount_rial == amount_rial)).first()


class RulesCalendarRepository(_Repo):
    """Change records and events of the rules calendar (R27), on top of the policy TOML."""

    def add_change(self, row: m.RulesCalendarChange) -> m.RulesCalendarChange:
        self.session.add(row)
        self.session.flush()
        return row

    def next_version(self) -> int:
        """The version the next change record takes (1 for the first)."""
        return int(self.session.scalar(select(func.max(m.RulesCalendarChange.version))) or 0) + 1

    def change(self, version: int) -> m.RulesCalendarChange | None:
        return self.session.scalars(select(m.RulesCalendarChange)
                                    .where(m.RulesCalendarChange.version == version)).first()

    def changes(self, status: str | None = None) -> Sequence[m.RulesCalendarChange]:
        """Change records by version, all or only those with `status` (proposed | approved)."""
        q = select(m.RulesCalendarChange)
        if status is not None:
            q = q.where(m.RulesCalendarChange.status == status)
        return self.session.scalars(q.order_by(m.RulesCalendarChange.version)).all()

    def add_event(self, row: m.RulesCalendarEvent) -> m.RulesCalendarEvent:
        self.session.add(row)
        self.session.flush()
        return row

    def event(self, unit_id: str, event: str) -> m.RulesCalendarEvent | None:
        return self.session.scalars(select(m.RulesCalendarEvent).where(
            m.RulesCalendarEvent.unit_id == unit_id, m.RulesCalendarEvent.event == event)).first()

    def events(self, unit_ids: Iterable[str] | None = None) -> Sequence[m.RulesCalendarEvent]:
        """Events of the units `unit_ids` (all units when None), earliest first."""
        q = select(m.RulesCalendarEvent)
        if unit_ids is not None:
            q = q.where(m.RulesCalendarEvent.unit_id.in_(list(unit_ids)))
        return self.session.scalars(q.order_by(m.RulesCalendarEvent.at, m.RulesCalendarEvent.id)).all()


class RealEstateRepository(_Repo):
    """Real-estate and barter deals (issue 14 part 3: R22, R23), each tied to its contract row."""

    def add(self, contract: m.Contract, row: m.RealEstateDeal) -> m.RealEstateDeal:
        """The deal `row` of the contract `contract` (added to this unit of work already)."""
        self.session.flush()
        row.contract_id = contract.id
        self.session.add(row)
        self.session.flush()
        return row

    def for_contract(self, contract_id: int) -> m.RealEstateDeal | None:
        return self.session.scalars(select(m.RealEstateDeal)
                                    .where(m.RealEstateDeal.contract_id == contract_id)).first()

    def by_tracking(self, tracking_number: str) -> tuple[m.Contract, m.RealEstateDeal] | None:
        """The contract with tracking number `tracking_number` and its deal, or None."""
        found = self.session.execute(
            select(m.Contract, m.RealEstateDeal).join(m.RealEstateDeal, m.RealEstateDeal.contract_id == m.Contract.id)
            .where(m.Contract.tracking_number == tracking_number)).first()
        return None if found is None else (found[0], found[1])

    def deals(self) -> list[tuple[m.Contract, m.RealEstateDeal]]:
        """Every deal with its contract, oldest first."""
        rows = self.session.execute(
            select(m.Contract, m.RealEstateDeal).join(m.RealEstateDeal, m.RealEstateDeal.contract_id == m.Contract.id)
            .order_by(m.RealEstateDeal.id)).all()
        return [(r[0], r[1]) for r in rows]

    def for_plate(self, plate_key: str) -> Sequence[m.RealEstateDeal]:
        return self.session.scalars(select(m.RealEstateDeal).where(m.RealEstateDeal.plate_key == plate_key)
                                    .order_by(m.RealEstateDeal.id)).all()


class IncomeReceiptRepository(_Repo):
    """Receipts on income contracts (issue 14 part 2, R30), as the engine asked for them."""

    def add(self, row: m.IncomeReceipt) -> m.IncomeReceipt:
        self.session.add(row)
        return row

    def by_ref(self, contract_id: int, ref: str) -> m.IncomeReceipt | None:
        return self.session.scalars(select(m.IncomeReceipt).where(m.IncomeReceipt.contract_id == contract_id,
                                                                  m.IncomeReceipt.ref == ref)).first()

    def for_contract(self, contract_id: int) -> Sequence[m.IncomeReceipt]:
        """The contract's receipts, in the order received."""
        return self.session.scalars(select(m.IncomeReceipt).where(m.IncomeReceipt.contract_id == contract_id)
                                    .order_by(m.IncomeReceipt.received_at, m.IncomeReceipt.id)).all()
