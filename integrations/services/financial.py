"""The financial system as its own service (issue 13 part 4, R13, R18, R20, R28, R29).

`FinancialService` wraps integrations.stubs.financial.FinancialSystemStub (its payment gate, exactly-once
payment, the R28/R29 checks of domain.contract.payment_data, refusals kept) on the service's own
database, reading the transactions system and contracts' registrations over HTTP by code:

- the contract's complete registration is checked when the contract is notified to the contractor
  (`contract_notified`) and again before every statement payment (`pay`);
- a payment carries its payment class and may name the budget-allocation code (it must be the
  contract's); budget line and expense factor are the stub's checks;
- payments exempt from the budget-line rule (initial petty cash, deposit refund, fee refund) are paid
  once per key without the registration checks (`pay_exempt`).

Every refusal is kept in the stub's refusals table (`refused_attempts`). `create_app` is its HTTP API.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query
from pydantic import BaseModel
from sqlalchemy import Engine, select

from domain.clock import Clock
from domain.contract.payment_data import RegistrationView, check_exemption
from domain.money import check_rial
from domain.reasons import DomainError, Reason
from integrations.financial import ExpenseDocumentRequest, PaymentRecord, PaymentRequest
from integrations.http.registration import HttpTransactionsReader
from integrations.services._web import service_app
from integrations.services.tables import SvcExemptPayment, SvcPaymentData, SvcRegistrationCheck, create_service_tables
from integrations.stubs._db import inserted, is_blank, session_factory
from integrations.stubs.financial import FinancialSystemStub
from store.stub_tables import ExtFinancialRefusal


@dataclass(frozen=True)
class ExemptPayment:
    """A payment exempt from the budget-line rule (R29): amount in rials, paid_at aware UTC."""

    payment_key: str
    exemption: str
    contract_code: str
    payee: str
    reference: str
    amount_rial: int
    paid_at: datetime


class FinancialService:
    """The financial stub with R28/R29 checks on `engine` (the service's own database), reading the
    transactions system with `reader`."""

    def __init__(self, engine: Engine, reader: HttpTransactionsReader, clock: Clock) -> None:
        create_service_tables(engine)
        self.stub = FinancialSystemStub(engine, reader, clock, registrations=reader)
        self._reader = reader
        self._sessions = session_factory(engine)
        self._clock = clock

    # --- R28: complete registration (the rule: FinancialSystemStub, domain.contract.payment_data) ----

    def registration(self, contract_code: str, subject: str) -> RegistrationView:
        """The contract's registration fetched by code, checked complete (FinancialSystemStub.registration).

        Raises: check_registration_complete's reasons (a code the transactions system does not know
        is NO_CONTRACT_CODE); STORE_UNREACHABLE."""
        return self.stub.registration(contract_code, subject)

    def contract_notified(self, contract_code: str) -> dict[str, Any]:
        """The contract was notified to the contractor: its registration is checked
        (FinancialSystemStub.contract_notified, the refusal kept there) and the check kept here.

        Returns {contract_code, result: complete, registration, checked_at (RFC 3339 UTC)}.
        Raises: check_registration_complete's reasons. Rule: R28."""
        now = self._clock.now()
        try:
            result = self.stub.contract_notified(contract_code)
        except DomainError as err:
            self._keep_check(contract_code, "refused", err.reason.value, {}, now)
            raise
        self._keep_check(contract_code, "complete", None, result["registration"], now)
        return result

    def _keep_check(self, code: str, result: str, reason: str | None, reg: dict[str, Any], at: datetime) -> None:
        with self._sessions() as session:
            session.add(SvcRegistrationCheck(contract_code=str(code or ""), result=result, reason=reason,
                                             registration_json=json.dumps(reg, ensure_ascii=False, sort_keys=True),
                                             checked_at=at))
            session.commit()

    # --- payments -------------------------------------------------------------------------

    def pay(self, req: PaymentRequest) -> PaymentRecord:
        """Pay one statement once: the registration checked complete (R28) with the payment's class and
        allocation code (R29), then the stub's gate and exactly-once payment (R13, R18, R20); the
        payment's class and the contract's allocation and general codes kept beside it.

        Raises: check_payment_data's reasons, then FinancialSystemStub.pay's (each refusal kept)."""
        record, reg = self.stub.pay_registered(req)
        assert reg is not None  # the service's stub always reads registrations
        with self._sessions() as session:
            inserted(session, SvcPaymentData(payment_key=record.payment_key, payment_class=req.payment_class,
                                             budget_allocation_code=reg.budget_allocation_code,
                                             budget_general_code=reg.budget_general_code))
        return record

    def payment_class(self, payment_key: str) -> str | None:
        with self._sessions() as session:
            row = session.scalar(select(SvcPaymentData).where(SvcPaymentData.payment_key == payment_key))
            return row.payment_class if row is not None else None

    def pay_exempt(self, payment_key: str, exemption: str, amount_rial: int, payee: str, reference: str = "",
                   contract_code: str = "") -> ExemptPayment:
        """A payment exempt from the budget-line rule, once per key (the same request again is the same
        payment). A contract code, when given, must be one the transactions system knows.

        Raises: INVALID_INPUT (key, exemption, payee, unknown contract, key reused for another payment),
        AMOUNT_OUT_OF_RANGE. Rule: R29."""
        try:
            return self._pay_exempt(payment_key, exemption, amount_rial, payee, reference, contract_code)
        except DomainError as err:
            self._refused("exempt_payment", payment_key, contract_code, "", amount_rial, err)
            raise

    def _pay_exempt(self, payment_key: str, exemption: str, amount_rial: int, payee: str, reference: str,
                    contract_code: str) -> ExemptPayment:
        if is_blank(payment_key):
            raise DomainError(Reason.INVALID_INPUT, "payment_key خالی است")
        check_exemption(exemption)
        check_rial(amount_rial, minimum=1, field="amount_rial")
        if is_blank(payee):
            raise DomainError(Reason.INVALID_INPUT, "دریافت‌کننده (payee) خالی است")
        if not is_blank(contract_code) and self._reader.contract_by_code(contract_code) is None:
            raise DomainError(Reason.INVALID_INPUT, f"قرارداد «{contract_code}» در سامانهٔ معاملات نیست")
        row = SvcExemptPayment(payment_key=payment_key, exemption=exemption, contract_code=contract_code or "",
                               payee=payee, reference=reference or "", amount_rial=amount_rial,
                               paid_at=self._clock.now())
        with self._sessions() as session:
            if not inserted(session, row):
                row = session.scalars(select(SvcExemptPayment)
                                      .where(SvcExemptPayment.payment_key == payment_key)).one()
        paid = _exempt(row)
        asked = (exemption, contract_code or "", payee, reference or "", amount_rial)
        if (paid.exemption, paid.contract_code, paid.payee, paid.reference, paid.amount_rial) != asked:
            raise DomainError(Reason.INVALID_INPUT, f"کلید پرداخت {payment_key} با درخواست دیگری به کار رفته است")
        return paid

    def exempt_payments(self) -> list[ExemptPayment]:
        with self._sessions() as session:
            return [_exempt(r) for r in session.scalars(select(SvcExemptPayment).order_by(SvcExemptPayment.id))]

    def _refused(self, kind: str, key: str, code: str, statement_id: str, amount: object, err: DomainError) -> None:
        with self._sessions() as session:
            session.add(ExtFinancialRefusal(
                kind=kind, request_key=str(key or ""), contract_code=str(code or ""), statement_id=statement_id,
                amount_rial=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
                reason=err.reason.value, detail=err.detail, attempted_at=self._clock.now()))
            session.commit()


def _exempt(row: SvcExemptPayment) -> ExemptPayment:
    return ExemptPayment(payment_key=row.payment_key, exemption=row.exemption, contract_code=row.contract_code,
                         payee=row.payee, reference=row.reference, amount_rial=row.amount_rial, paid_at=row.paid_at)


def as_json(record: object) -> dict[str, Any]:
    """A record dataclass as JSON: datetimes RFC 3339 (UTC)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(record).items()}  # type: ignore[call-overload]


# --- the HTTP API -------------------------------------------------------------------------------------

class Charge(BaseModel):
    contract_code: str
    statement_id: str
    budget_line: str
    expense_factor: str
    amount_rial: int


class ExpenseDocumentBody(Charge):
    document_key: str


class PaymentBody(Charge):
    payment_key: str
    payment_class: str
    budget_allocation_code: str | None = None


class ExemptPaymentBody(BaseModel):
    payment_key: str
    exemption: str
    amount_rial: int
    payee: str
    reference: str = ""
    contract_code: str = ""


def create_app(service: FinancialService) -> FastAPI:
    """The financial service's HTTP API (JSON; refusals `{reason, message_fa, detail}`)."""
    app = service_app("سامانهٔ مالی (شبیه‌ساز) — financial system stub service")
    app.state.service = service

    @app.post("/v1/contracts/{code}/notified")
    def notified(code: str) -> dict[str, Any]:
        return service.contract_notified(code)

    @app.post("/v1/expense-documents")
    def expense_document(body: ExpenseDocumentBody) -> dict[str, Any]:
        return as_json(service.stub.record_expense_document(ExpenseDocumentRequest(**body.model_dump())))

    @app.post("/v1/payments")
    def pay(body: PaymentBody) -> dict[str, Any]:
        record = service.pay(PaymentRequest(**body.model_dump()))
        return {**as_json(record), "payment_class": service.payment_class(record.payment_key)}

    @app.get("/v1/payments")
    def payments(contract_code: str | None = Query(None)) -> list[dict[str, Any]]:
        return [as_json(p) for p in service.stub.payments(contract_code)]

    @app.get("/v1/payments/by-statement/{statement_id:path}")
    def by_statement(statement_id: str) -> dict[str, Any]:
        record = service.stub.payment_for_statement(statement_id)
        if record is None:
            raise DomainError(Reason.NOT_FOUND, f"پرداختی برای صورت‌وضعیت {statement_id} نیست")
        return as_json(record)

    @app.post("/v1/exempt-payments")
    def exempt(body: ExemptPaymentBody) -> dict[str, Any]:
        return as_json(service.pay_exempt(**body.model_dump()))

    @app.get("/v1/refusals")
    def refusals(contract_code: str | None = Query(None)) -> list[dict[str, Any]]:
        return [as_json(r) for r in service.stub.refused_attempts(contract_code)]

    return app
