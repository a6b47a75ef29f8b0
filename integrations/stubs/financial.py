"""Financial-system stub that enforces the rules the real one must (R13, R18, R20).

Checks, in order: contract code known (NO_CONTRACT_CODE), workflow final (CONTRACT_NOT_FINAL),
budget line and expense factor present and those of the contract (BUDGET_LINE_MISSING,
EXPENSE_FACTOR_MISSING), statement approved (STATEMENT_NOT_APPROVED) and signed by contractor
and treasurer (STATEMENT_NOT_SIGNED), amount equal to the statement's payable
(AMOUNT_OUT_OF_RANGE), statement not paid before (DUPLICATE_PAYMENT). Every refusal is kept.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.clock import Clock
from domain.money import check_rial
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from integrations.financial import (ExpenseDocument, ExpenseDocumentRequest, PaymentRecord,
                                    PaymentRequest, RefusedAttempt)
from integrations.stubs._db import is_blank, session_factory, sha256_hex
from integrations.stubs.tables import ExtExpenseDocument, ExtFinancialRefusal, ExtPayment
from integrations.transactions_api import ContractInfo, StatementInfo, TransactionsSystem


@dataclass(frozen=True)
class _Checked:
    contract: ContractInfo
    statement: StatementInfo
    xml_sha256: str


class FinancialSystemStub:
    def __init__(self, engine: Engine, transactions: TransactionsSystem, clock: Clock) -> None:
        self._sessions = session_factory(engine)
        self._transactions = transactions
        self._clock = clock

    # --- public API ---------------------------------------------------------------------

    def record_expense_document(self, req: ExpenseDocumentRequest) -> ExpenseDocument:
        try:
            return self._record_expense_document(req)
        except DomainError as err:
            self._record_refusal("expense_document", req.document_key, req.contract_code,
                                 req.statement_id, req.amount_rial, err)
            raise

    def pay(self, req: PaymentRequest) -> PaymentRecord:
        try:
            return self._pay(req)
        except DomainError as err:
            self._record_refusal("payment", req.payment_key, req.contract_code,
                                 req.statement_id, req.amount_rial, err)
            raise

    def payment_for_statement(self, statement_id: str) -> PaymentRecord | None:
        with self._sessions() as session:
            row = self._existing_payment_for_statement(session, statement_id)
            return _payment(row) if row else None

    def payments(self, contract_code: str | None = None) -> list[PaymentRecord]:
        with self._sessions() as session:
            query = select(ExtPayment).order_by(ExtPayment.id)
            if contract_code is not None:
                query = query.where(ExtPayment.contract_code == contract_code)
            return [_payment(row) for row in session.scalars(query)]

    def refused_attempts(self, contract_code: str | None = None) -> list[RefusedAttempt]:
        with self._sessions() as session:
            query = select(ExtFinancialRefusal).order_by(ExtFinancialRefusal.id)
            if contract_code is not None:
                query = query.where(ExtFinancialRefusal.contract_code == contract_code)
            return [RefusedAttempt(kind=r.kind, request_key=r.request_key,
                                   contract_code=r.contract_code, statement_id=r.statement_id,
                                   amount_rial=r.amount_rial, reason=r.reason, detail=r.detail,
                                   attempted_at=r.attempted_at)
                    for r in session.scalars(query)]

    # --- payment ------------------------------------------------------------------------

    def _pay(self, req: PaymentRequest) -> PaymentRecord:
        _require_key(req.payment_key, "payment_key")
        with self._sessions() as session:
            previous = session.scalar(select(ExtPayment).where(ExtPayment.payment_key == req.payment_key))
            if previous is not None:
                return _same_payment_or_refuse(previous, req)
        checked = self._check(req.contract_code, req.statement_id, req.budget_line,
                              req.expense_factor, req.amount_rial)
        with self._sessions() as session:
            if self._existing_payment_for_statement(session, req.statement_id) is not None:
                raise DomainError(Reason.DUPLICATE_PAYMENT, f"statement={req.statement_id}")
            row = ExtPayment(payment_key=req.payment_key, statement_id=req.statement_id,
                             contract_code=req.contract_code, budget_line=req.budget_line,
                             expense_factor=req.expense_factor, amount_rial=req.amount_rial,
                             statement_xml_sha256=checked.xml_sha256, paid_at=self._clock.now())
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
            else:
                return _payment(row)
        # Lost a race: either our own retry won (same key) or another request paid the statement.
        with self._sessions() as session:
            winner = session.scalar(select(ExtPayment).where(ExtPayment.payment_key == req.payment_key))
            if winner is not None:
                return _same_payment_or_refuse(winner, req)
            if session.scalar(select(ExtPayment).where(ExtPayment.statement_id == req.statement_id)):
                raise DomainError(Reason.DUPLICATE_PAYMENT, f"statement={req.statement_id}")
        raise DomainError(Reason.STORE_UNREACHABLE, "payment insert failed without a conflicting row")

    def _existing_payment_for_statement(self, session: Session, statement_id: str) -> ExtPayment | None:
        return session.scalar(select(ExtPayment).where(ExtPayment.statement_id == statement_id))

    # --- expense document ---------------------------------------------------------------

    def _record_expense_document(self, req: ExpenseDocumentRequest) -> ExpenseDocument:
        _require_key(req.document_key, "document_key")
        with self._sessions() as session:
            previous = session.scalar(
                select(ExtExpenseDocument).where(ExtExpenseDocument.document_key == req.document_key))
            if previous is not None:
                return _same_document_or_refuse(previous, req)
        checked = self._check(req.contract_code, req.statement_id, req.budget_line,
                              req.expense_factor, req.amount_rial)
        with self._sessions() as session:
            row = ExtExpenseDocument(document_key=req.document_key, statement_id=req.statement_id,
                                     contract_code=req.contract_code, budget_line=req.budget_line,
                                     expense_factor=req.expense_factor, amount_rial=req.amount_rial,
                                     statement_xml_sha256=checked.xml_sha256,
                                     recorded_at=self._clock.now())
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
            else:
                return _document(row)
        with self._sessions() as session:
            same_key = session.scalar(
                select(ExtExpenseDocument).where(ExtExpenseDocument.document_key == req.document_key))
            if same_key is not None:
                return _same_document_or_refuse(same_key, req)
        raise DomainError(Reason.INVALID_INPUT,
                          f"برای صورت‌وضعیت {req.statement_id} سند هزینه قبلاً ثبت شده است")

    # --- the rules ----------------------------------------------------------------------

    def _check(self, contract_code: str, statement_id: str, budget_line: str,
               expense_factor: str, amount_rial: int) -> _Checked:
        if is_blank(contract_code):
            raise DomainError(Reason.NO_CONTRACT_CODE, "کد قرارداد خالی است")
        contract = self._transactions.contract_by_code(contract_code)
        if contract is None or contract.code != contract_code:
            raise DomainError(Reason.NO_CONTRACT_CODE, f"کد قرارداد «{contract_code}» در سامانهٔ معاملات نیست")
        if not contract.is_final:
            raise DomainError(Reason.CONTRACT_NOT_FINAL, f"{contract_code}: مرحلهٔ {contract.stage}")
        _same_as_contract(budget_line, contract.budget_line, Reason.BUDGET_LINE_MISSING, "ردیف بودجه")
        _same_as_contract(expense_factor, contract.expense_factor, Reason.EXPENSE_FACTOR_MISSING, "عامل هزینه")

        statement = self._transactions.statement(statement_id) if not is_blank(statement_id) else None
        if statement is None:
            raise DomainError(Reason.INVALID_INPUT, f"صورت‌وضعیت «{statement_id}» در سامانهٔ معاملات نیست")
        if statement.contract_code != contract_code:
            raise DomainError(Reason.INVALID_INPUT,
                              f"صورت‌وضعیت {statement_id} متعلق به قرارداد {statement.contract_code} است")
        if statement.result != "approved":
            raise DomainError(Reason.STATEMENT_NOT_APPROVED, f"{statement_id}: {statement.result}")
        missing = [who for who, signed in (("پیمانکار", statement.signed_by_contractor),
                                           ("ذی‌حساب", statement.signed_by_treasurer)) if not signed]
        if missing or not statement.signed_xml:
            raise DomainError(Reason.STATEMENT_NOT_SIGNED,
                              f"{statement_id}: " + ("، ".join(missing) or "سند امضاشده موجود نیست"))
        parse_untrusted(statement.signed_xml)  # payments flow only from well-formed signed data

        check_rial(amount_rial, field="amount_rial")
        if amount_rial != statement.payable_rial:
            raise DomainError(Reason.AMOUNT_OUT_OF_RANGE,
                              f"مبلغ درخواست {amount_rial} با مبلغ قابل پرداخت صورت‌وضعیت "
                              f"{statement.payable_rial} برابر نیست")
        return _Checked(contract, statement, sha256_hex(statement.signed_xml))

    def _record_refusal(self, kind: str, key: str, contract_code: str, statement_id: str,
                        amount_rial: object, err: DomainError) -> None:
        amount = amount_rial if isinstance(amount_rial, int) and not isinstance(amount_rial, bool) else None
        with self._sessions() as session:
            session.add(ExtFinancialRefusal(kind=kind, request_key=str(key or ""),
                                            contract_code=str(contract_code or ""),
                                            statement_id=str(statement_id or ""), amount_rial=amount,
                                            reason=err.reason.value, detail=err.detail,
                                            attempted_at=self._clock.now()))
            session.commit()


def _require_key(key: str, name: str) -> None:
    if is_blank(key):
        raise DomainError(Reason.INVALID_INPUT, f"{name} خالی است")


def _same_as_contract(given: str, on_contract: str, reason: Reason, label: str) -> None:
    if is_blank(given) or is_blank(on_contract):
        raise DomainError(reason, label)
    if given != on_contract:
        raise DomainError(Reason.INVALID_INPUT,
                          f"{label} «{given}» با {label} قرارداد «{on_contract}» یکسان نیست")


def _same_payment_or_refuse(row: ExtPayment, req: PaymentRequest) -> PaymentRecord:
    if (row.contract_code, row.statement_id, row.budget_line, row.expense_factor, row.amount_rial) != (
            req.contract_code, req.statement_id, req.budget_line, req.expense_factor, req.amount_rial):
        raise DomainError(Reason.INVALID_INPUT, f"کلید پرداخت {req.payment_key} با درخواست دیگری به کار رفته است")
    return _payment(row)


def _same_document_or_refuse(row: ExtExpenseDocument, req: ExpenseDocumentRequest) -> ExpenseDocument:
    if (row.contract_code, row.statement_id, row.budget_line, row.expense_factor, row.amount_rial) != (
            req.contract_code, req.statement_id, req.budget_line, req.expense_factor, req.amount_rial):
        raise DomainError(Reason.INVALID_INPUT, f"کلید سند {req.document_key} با درخواست دیگری به کار رفته است")
    return _document(row)


def _payment(row: ExtPayment) -> PaymentRecord:
    return PaymentRecord(payment_key=row.payment_key, contract_code=row.contract_code,
                         statement_id=row.statement_id, budget_line=row.budget_line,
                         expense_factor=row.expense_factor, amount_rial=row.amount_rial,
                         statement_xml_sha256=row.statement_xml_sha256, paid_at=row.paid_at)


def _document(row: ExtExpenseDocument) -> ExpenseDocument:
    return ExpenseDocument(document_key=row.document_key, contract_code=row.contract_code,
                           statement_id=row.statement_id, budget_line=row.budget_line,
                           expense_factor=row.expense_factor, amount_rial=row.amount_rial,
                           statement_xml_sha256=row.statement_xml_sha256, recorded_at=row.recorded_at)
