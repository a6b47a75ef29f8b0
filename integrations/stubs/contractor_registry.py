"""Contractor-registry stub: validated identifiers, decisions with reasons, dated blacklist (R25)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from domain.contract.blacklist import blacklisting
from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import clean_identifier, format_jalali_date, normalize
from domain.reasons import DomainError, Reason
from integrations.contractor_registry import (
    MAX_GRADE,
    MIN_GRADE,
    BlacklistEntry,
    Company,
    Contacts,
    QualificationDecision,
)
from integrations.notifications import normalize_email, normalize_mobile
from integrations.stubs._db import StubSystem, inserted, is_blank
from store.stub_tables import ExtBlacklistEntry, ExtCompany, ExtCompanyContact, ExtQualification

DECISION_LABELS_FA = {"qualified": "تأیید صلاحیت", "rejected": "رد صلاحیت"}


class ContractorRegistryStub(StubSystem):
    # --- companies ----------------------------------------------------------------------

    def register_company(self, company: Company) -> Company:
        clean = _validated(company)
        with self._sessions() as session:
            if inserted(session, ExtCompany(**_fields(clean), registered_at=self._clock.now())):
                return clean
        existing = self.company(clean.national_id)
        if existing == clean:
            return existing  # the same registration retried
        raise DomainError(Reason.INVALID_INPUT,
                          f"شرکت {clean.national_id} قبلاً با مشخصات دیگری ثبت شده است؛ از اصلاح استفاده کنید")

    def update_company(self, company: Company) -> Company:
        clean = _validated(company)
        with self._sessions() as session:
            row = session.get(ExtCompany, clean.national_id)
            if row is None:
                raise DomainError(Reason.INVALID_INPUT, f"شرکت {clean.national_id} ثبت نشده است")
            for name, value in _fields(clean).items():
                setattr(row, name, value)
            session.commit()
        return clean

    def company(self, national_id: str) -> Company | None:
        key = clean_identifier(national_id)
        with self._sessions() as session:
            row = session.get(ExtCompany, key)
            if row is None:
                return None
            return Company(national_id=row.national_id, name=row.name, economic_code=row.economic_code,
                           grade=row.grade, ceo_national_id=row.ceo_national_id, ceo_name=row.ceo_name)

    # --- contacts (R26) -------------------------------------------------------------------

    def record_contacts(self, contacts: Contacts) -> Contacts:
        """Record (or replace) a registered company's mobile and e-mail; recording the same again is
        a no-op. Raises: INVALID_INPUT (unknown company, malformed mobile or e-mail), FIELD_MISSING
        (neither given)."""
        company_id = self._known(contacts.company_id)
        if is_blank(contacts.mobile) and is_blank(contacts.email):
            raise DomainError(Reason.FIELD_MISSING, "mobile, email")
        clean = Contacts(company_id=company_id,
                         mobile=None if is_blank(contacts.mobile) else normalize_mobile(str(contacts.mobile)),
                         email=None if is_blank(contacts.email) else normalize_email(str(contacts.email)))
        with self._sessions() as session:
            if inserted(session, ExtCompanyContact(company_id=company_id, mobile=clean.mobile, email=clean.email,
                                                   updated_at=self._clock.now())):
                return clean
        with self._sessions() as session:  # already recorded: replaced only when it changed
            row = session.get(ExtCompanyContact, company_id)
            if row is not None and (row.mobile, row.email) != (clean.mobile, clean.email):
                row.mobile, row.email, row.updated_at = clean.mobile, clean.email, self._clock.now()
                session.commit()
        return clean

    def contacts(self, national_id: str) -> Contacts | None:
        """The company's contacts, or None when it has recorded none (or is not registered)."""
        key = clean_identifier(national_id)
        with self._sessions() as session:
            row = session.get(ExtCompanyContact, key)
            return None if row is None else Contacts(company_id=row.company_id, mobile=row.mobile, email=row.email)

    # --- qualification ------------------------------------------------------------------

    def record_qualification(self, decision: QualificationDecision) -> QualificationDecision:
        company_id = self._known(decision.company_id)
        if decision.decision not in DECISION_LABELS_FA:
            raise DomainError(Reason.INVALID_INPUT, f"تصمیم صلاحیت نامعتبر: {decision.decision!r}")
        _require(work_field=decision.work_field, reason=decision.reason, decided_by=decision.decided_by)
        clean = replace(decision, company_id=company_id, work_field=normalize(decision.work_field),
                        reason=normalize(decision.reason), decided_by=normalize(decision.decided_by))
        with self._sessions() as session:
            if inserted(session, ExtQualification(company_id=clean.company_id, work_field=clean.work_field,
                                                  decision=clean.decision, reason=clean.reason,
                                                  decided_on=clean.decided_on, decided_by=clean.decided_by)):
                return clean
        same_day = [d for d in self.qualification(clean.company_id, clean.work_field)
                    if d.decided_on == clean.decided_on]
        if same_day == [clean]:
            return clean  # the same decision recorded again
        raise DomainError(Reason.INVALID_INPUT,
                          f"برای {clean.company_id} در {clean.work_field} در این روز تصمیم دیگری ثبت شده است")

    def qualification(self, national_id: str, work_field: str | None = None) -> list[QualificationDecision]:
        """Decisions for the company, oldest first; the last one per field is in force."""
        key = clean_identifier(national_id)
        with self._sessions() as session:
            query = (select(ExtQualification).where(ExtQualification.company_id == key)
                     .order_by(ExtQualification.decided_on, ExtQualification.id))
            if work_field is not None:
                query = query.where(ExtQualification.work_field == normalize(work_field))
            return [_decision(r) for r in session.scalars(query)]

    def is_qualified(self, national_id: str, work_field: str, on_date: date) -> bool:
        in_force = [d for d in self.qualification(national_id, work_field) if d.decided_on <= on_date]
        return bool(in_force) and in_force[-1].decision == "qualified"

    # --- blacklist ----------------------------------------------------------------------

    def add_to_blacklist(self, entry: BlacklistEntry) -> BlacklistEntry:
        company_id = self._known(entry.company_id)
        _require(reason=entry.reason, reference=entry.reference)
        if entry.end_date is not None and entry.end_date < entry.start_date:
            raise DomainError(Reason.INVALID_INPUT, "پایان محرومیت پیش از آغاز آن است")
        clean = replace(entry, company_id=company_id, reason=normalize(entry.reason))
        with self._sessions() as session:
            if inserted(session, ExtBlacklistEntry(company_id=clean.company_id, start_date=clean.start_date,
                                                   end_date=clean.end_date, reason=clean.reason,
                                                   reference=clean.reference)):
                return clean
        if clean in self.blacklist():
            return clean  # the same ruling recorded again
        raise DomainError(Reason.INVALID_INPUT,
                          f"حکم {clean.reference} برای {clean.company_id} با مشخصات دیگری ثبت شده است")

    def blacklist(self, on_date: date | None = None) -> list[BlacklistEntry]:
        with self._sessions() as session:
            rows = session.scalars(select(ExtBlacklistEntry)
                                   .order_by(ExtBlacklistEntry.start_date, ExtBlacklistEntry.id))
            entries = [BlacklistEntry(company_id=r.company_id, start_date=r.start_date,
                                      end_date=r.end_date, reason=r.reason, reference=r.reference)
                       for r in rows]
        return [e for e in entries if on_date is None or e.active_on(on_date)]

    def is_blacklisted(self, national_id: str, on_date: date) -> bool:
        return blacklisting(self.blacklist(), national_id, on_date) is not None  # the rule's one home (R25)

    # --- publication (R25) --------------------------------------------------------------

    def published_lists(self, on_date: date) -> dict[str, Any]:
        with self._sessions() as session:
            companies = list(session.scalars(select(ExtCompany).order_by(ExtCompany.national_id)))
            names = {c.national_id: c.name for c in companies}
            contractors = []
            for c in companies:
                decisions = [d for d in self.qualification(c.national_id) if d.decided_on <= on_date]
                contractors.append({
                    "national_id": c.national_id, "name": c.name, "economic_code": c.economic_code,
                    "grade": c.grade, "ceo_name": c.ceo_name,
                    "qualifications": [{
                        "work_field": d.work_field, "decision": d.decision,
                        "decision_fa": DECISION_LABELS_FA[d.decision], "reason": d.reason,
                        "decided_on": d.decided_on.isoformat(),
                        "decided_on_jalali": format_jalali_date(d.decided_on),
                        "decided_by": d.decided_by,
                    } for d in decisions],
                })
        return {
            "as_of": on_date.isoformat(),
            "as_of_jalali": format_jalali_date(on_date),
            "contractors": contractors,
            "blacklist": [{
                "national_id": e.company_id, "name": names.get(e.company_id, ""),
                "start_date": e.start_date.isoformat(),
                "start_date_jalali": format_jalali_date(e.start_date),
                "end_date": e.end_date.isoformat() if e.end_date else None,
                "end_date_jalali": format_jalali_date(e.end_date) if e.end_date else None,
                "reason": e.reason, "reference": e.reference,
            } for e in self.blacklist(on_date)],
        }

    def _known(self, national_id: str) -> str:
        key = validate_company_id(national_id)
        if self.company(key) is None:
            raise DomainError(Reason.INVALID_INPUT, f"شرکت {key} در فهرست پیمانکاران ثبت نشده است")
        return key


def _validated(company: Company) -> Company:
    national_id = validate_company_id(company.national_id)
    economic_code = validate_economic_code(company.economic_code)
    ceo_national_id = validate_national_id(company.ceo_national_id)
    if isinstance(company.grade, bool) or not isinstance(company.grade, int) \
            or not MIN_GRADE <= company.grade <= MAX_GRADE:
        raise DomainError(Reason.INVALID_INPUT,
                          f"رتبهٔ پیمانکار باید بین {MIN_GRADE} و {MAX_GRADE} باشد: {company.grade!r}")
    _require(name=company.name, ceo_name=company.ceo_name)
    return Company(national_id=national_id, name=normalize(company.name), economic_code=economic_code,
                   grade=company.grade, ceo_national_id=ceo_national_id, ceo_name=normalize(company.ceo_name))


def _require(**values: object) -> None:
    missing = [name for name, value in values.items() if is_blank(value)]
    if missing:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))


def _fields(c: Company) -> dict[str, Any]:
    return {"national_id": c.national_id, "name": c.name, "economic_code": c.economic_code,
            "grade": c.grade, "ceo_national_id": c.ceo_national_id, "ceo_name": c.ceo_name}


def _decision(r: ExtQualification) -> QualificationDecision:
    return QualificationDecision(company_id=r.company_id, work_field=r.work_field,
                                 decision=r.decision, reason=r.reason,  # type: ignore[arg-type]
                                 decided_on=r.decided_on, decided_by=r.decided_by)
