"""Real-estate system stub (R22, R28), enforcing the real system's rules on its own `ext_re_` tables.

Its rules: a property is filed once per registration plate (`main/sub/section`, every part present);
its type is one of the system's types, its area positive (m²), its location a WGS84 point, its address
present; an official valuation has an expert's number, a date and a positive amount. A deal is
recorded only with a well-formed contract code (issued at `final`), once per code, against a filed
property; a property sold (or bartered away) is not sold again."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from domain.contract.code import validate_contract_code
from domain.realestate.rules import PROPERTY_TYPES, parse_location
from domain.reasons import DomainError, Reason
from integrations.realestate import PropertyRecord, Valuation
from integrations.stubs._db import StubSystem, inserted, is_blank
from store.models import ExtReDeal, ExtReProperty

# Transactions after which the municipality no longer holds the property.
_DISPOSALS = ("sale", "barter")


class RealEstateSystemStub(StubSystem):
    def file_property(self, record: PropertyRecord) -> PropertyRecord:
        """File a property (what the real system holds; pilots and tests seed it). Idempotent for the
        same record. Raises: INVALID_INPUT (a rule above, or another record under the same plate)."""
        self._check(record)
        valuation = None if record.valuation is None else json.dumps(
            {"expert_number": record.valuation.expert_number, "date": record.valuation.date.isoformat(),
             "amount_rial": record.valuation.amount_rial}, sort_keys=True)
        with self._sessions() as session:
            if inserted(session, ExtReProperty(plate_key=record.plate_key, property_type=record.property_type,
                                               area_m2=str(record.area_m2), location=record.location,
                                               address=record.address, valuation_json=valuation,
                                               recorded_at=self._clock.now())):
                return record
        if self.property(record.plate_key) != record:
            raise DomainError(Reason.INVALID_INPUT, f"پلاک «{record.plate_key}» با اطلاعات دیگری ثبت شده است")
        return record

    def property(self, plate_key: str) -> PropertyRecord:
        with self._sessions() as session:
            row = session.scalars(select(ExtReProperty).where(ExtReProperty.plate_key == plate_key)).first()
        if row is None:
            raise DomainError(Reason.NOT_FOUND, f"ملکی با پلاک «{plate_key}» در سامانهٔ املاک نیست")
        valuation = None
        if row.valuation_json:
            v = json.loads(row.valuation_json)
            valuation = Valuation(v["expert_number"], date.fromisoformat(v["date"]), int(v["amount_rial"]))
        return PropertyRecord(row.plate_key, row.property_type, Decimal(row.area_m2), row.location, row.address,
                              valuation)

    def record_deal(self, contract_code: str, plate_key: str, transaction: str, at: datetime) -> None:
        if is_blank(contract_code):
            raise DomainError(Reason.NO_CONTRACT_CODE, f"معاملهٔ ملک «{plate_key}»")
        validate_contract_code(contract_code)
        self.property(plate_key)
        with self._sessions() as session:
            done = session.scalars(select(ExtReDeal).where(ExtReDeal.contract_code == contract_code)).first()
            if done is not None:
                if done.plate_key != plate_key:
                    raise DomainError(Reason.INVALID_INPUT, f"قرارداد «{contract_code}» برای ملک دیگری ثبت شده است")
                return
            earlier = session.scalars(select(ExtReDeal).where(ExtReDeal.plate_key == plate_key,
                                                              ExtReDeal.transaction.in_(_DISPOSALS))).first()
        if earlier is not None and transaction in _DISPOSALS:
            raise DomainError(Reason.INVALID_INPUT,
                              f"ملک «{plate_key}» با قرارداد «{earlier.contract_code}» واگذار شده است")
        with self._sessions() as session:
            inserted(session, ExtReDeal(contract_code=contract_code, plate_key=plate_key, transaction=transaction,
                                        recorded_at=at))

    def deals(self, plate_key: str) -> list[tuple[str, str]]:
        """(contract code, transaction) of every deal recorded against the property, in order."""
        with self._sessions() as session:
            rows = session.scalars(select(ExtReDeal).where(ExtReDeal.plate_key == plate_key)
                                   .order_by(ExtReDeal.id)).all()
        return [(r.contract_code, r.transaction) for r in rows]

    @staticmethod
    def _check(record: PropertyRecord) -> None:
        parts = record.plate_key.split("/")
        if len(parts) != 3 or any(is_blank(p) for p in parts):
            raise DomainError(Reason.INVALID_INPUT, f"پلاک ثبتی باید «اصلی/فرعی/بخش» باشد: «{record.plate_key}»")
        if record.property_type not in PROPERTY_TYPES:
            raise DomainError(Reason.INVALID_INPUT, f"نوع ملک نامعتبر: «{record.property_type}»")
        try:
            if not Decimal(record.area_m2) > 0:
                raise DomainError(Reason.INVALID_INPUT, f"مساحت باید مثبت باشد: {record.area_m2}")
        except InvalidOperation:
            raise DomainError(Reason.INVALID_INPUT, f"مساحت نامعتبر: {record.area_m2}") from None
        parse_location(record.location)
        if is_blank(record.address):
            raise DomainError(Reason.INVALID_INPUT, "نشانی ملک لازم است")
        v = record.valuation
        if v is not None and (is_blank(v.expert_number) or v.amount_rial <= 0):
            raise DomainError(Reason.INVALID_INPUT, "نظریهٔ کارشناس رسمی شماره و مبلغ مثبت لازم دارد")
