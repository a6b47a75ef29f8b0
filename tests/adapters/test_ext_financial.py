from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from ext_factories import (
    SIGNED_XML,
    Rendezvous,
    make_contract,
    make_payment_request as request,
    make_statement,
    pay_concurrently,
    reason_of,
)
from sqlalchemy import func, inspect, select

from domain.reasons import DomainError, Reason
from integrations.financial import ExpenseDocumentRequest
from integrations.stubs.financial import FinancialSystemStub
from store.stub_tables import ExtPayment, sqlite_engine

PAYABLE = make_statement().payable_rial


def expense(**changes: object) -> ExpenseDocumentRequest:
    base = ExpenseDocumentRequest(document_key="e1", contract_code="C-1400-0001", statement_id="s1",
                                  budget_line="BL-201-05", expense_factor="EF-12-03", amount_rial=PAYABLE)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def fin(engine, transactions, clock) -> FinancialSystemStub:
    return FinancialSystemStub(engine, transactions, clock)


def test_r18_approved_signed_statement_is_paid_from_system_data(fin):
    paid = fin.pay(request())
    assert paid.amount_rial == PAYABLE
    assert paid.statement_xml_sha256 == hashlib.sha256(SIGNED_XML).hexdigest()
    assert fin.payment_for_statement("s1") == paid


@pytest.mark.parametrize("code", ["", "   ", "C-UNKNOWN"])
def test_r13_payment_without_contract_code_is_refused(fin, code):
    assert reason_of(fin.pay, request(contract_code=code)) is Reason.NO_CONTRACT_CODE
    assert fin.payments() == []


def test_r13_expense_document_without_contract_code_is_refused(fin):
    assert reason_of(fin.record_expense_document, expense(contract_code="")) is Reason.NO_CONTRACT_CODE


def test_r13_payment_for_contract_at_treasurer_stage_is_refused(fin, transactions):
    transactions.set_stage("C-1400-0001", "treasurer")
    assert reason_of(fin.pay, request()) is Reason.CONTRACT_NOT_FINAL
    assert reason_of(fin.record_expense_document, expense()) is Reason.CONTRACT_NOT_FINAL
    assert fin.payment_for_statement("s1") is None


@pytest.mark.parametrize("result", ["halted", "refused"])
def test_r18_statement_not_approved_is_not_paid(fin, transactions, result):
    transactions.put_statement(make_statement(result=result))
    assert reason_of(fin.pay, request()) is Reason.STATEMENT_NOT_APPROVED


@pytest.mark.parametrize("missing", [{"signed_by_treasurer": False}, {"signed_by_contractor": False},
                                     {"signed_xml": b""}])
def test_r17_statement_without_signatures_is_not_paid(fin, transactions, missing):
    transactions.put_statement(make_statement(**missing))
    assert reason_of(fin.pay, request()) is Reason.STATEMENT_NOT_SIGNED
    assert reason_of(fin.record_expense_document, expense()) is Reason.STATEMENT_NOT_SIGNED


def test_r18_malformed_signed_statement_is_not_paid(fin, transactions):
    transactions.put_statement(make_statement(signed_xml=b"<statement><unclosed></statement>"))
    assert reason_of(fin.pay, request()) is Reason.MALFORMED_XML


def test_r20_payment_without_budget_line_is_refused(fin, transactions):
    assert reason_of(fin.pay, request(budget_line="")) is Reason.BUDGET_LINE_MISSING
    transactions.put_contract(make_contract(budget_line=""))
    assert reason_of(fin.pay, request()) is Reason.BUDGET_LINE_MISSING


def test_r20_payment_without_expense_factor_is_refused(fin, transactions):
    assert reason_of(fin.pay, request(expense_factor=" ")) is Reason.EXPENSE_FACTOR_MISSING
    transactions.put_contract(make_contract(expense_factor=""))
    assert reason_of(fin.record_expense_document, expense()) is Reason.EXPENSE_FACTOR_MISSING


def test_r20_budget_line_other_than_the_contracts_is_refused(fin):
    assert reason_of(fin.pay, request(budget_line="BL-999")) is Reason.INVALID_INPUT


@pytest.mark.parametrize("delta", [1, -1, PAYABLE])
def test_r18_amount_other_than_statement_payable_is_refused(fin, delta):
    assert reason_of(fin.pay, request(amount_rial=PAYABLE + delta)) is Reason.AMOUNT_OUT_OF_RANGE


def test_r18_statement_of_another_contract_is_refused(fin, transactions):
    transactions.put_contract(make_contract("C-1400-0002"))
    assert reason_of(fin.pay, request(contract_code="C-1400-0002")) is Reason.INVALID_INPUT


def test_r18_second_payment_of_same_statement_is_refused(fin):
    fin.pay(request())
    assert reason_of(fin.pay, request(payment_key="p2")) is Reason.DUPLICATE_PAYMENT
    assert len(fin.payments()) == 1


def test_r18_retried_payment_returns_the_same_record(fin, clock):
    first = fin.pay(request())
    clock.advance(timedelta(minutes=5))
    again = fin.pay(request())
    assert again == first
    assert len(fin.payments()) == 1


def test_r18_payment_key_reused_for_another_request_is_refused(fin, transactions):
    fin.pay(request())
    transactions.put_statement(make_statement("s2"))
    assert reason_of(fin.pay, request(statement_id="s2")) is Reason.INVALID_INPUT
    assert fin.payment_for_statement("s2") is None


def test_r13_every_refused_attempt_is_recorded_with_its_reason(fin, transactions):
    attempts = [request(contract_code=""), request(budget_line=""), request(amount_rial=1)]
    for req in attempts:
        with pytest.raises(DomainError):
            fin.pay(req)
    transactions.set_stage("C-1400-0001", "signing")
    with pytest.raises(DomainError):
        fin.record_expense_document(expense())
    log = fin.refused_attempts()
    assert [(r.kind, r.reason) for r in log] == [
        ("payment", "NO_CONTRACT_CODE"), ("payment", "BUDGET_LINE_MISSING"),
        ("payment", "AMOUNT_OUT_OF_RANGE"), ("expense_document", "CONTRACT_NOT_FINAL")]
    assert log[2].amount_rial == 1 and log[2].detail
    assert [r.reason for r in fin.refused_attempts("C-1400-0001")] == [
        "BUDGET_LINE_MISSING", "AMOUNT_OUT_OF_RANGE", "CONTRACT_NOT_FINAL"]


def test_r13_expense_document_recorded_once_per_statement(fin):
    doc = fin.record_expense_document(expense())
    assert doc.amount_rial == PAYABLE and doc.budget_line == "BL-201-05"
    assert fin.record_expense_document(expense()) == doc
    assert reason_of(fin.record_expense_document, expense(document_key="e2")) is Reason.INVALID_INPUT


def test_r18_payments_are_unique_per_statement_in_the_schema(engine):
    uniques = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("ext_fin_payments")}
    assert ("statement_id",) in uniques and ("payment_key",) in uniques


def test_r18_unique_constraint_refuses_duplicate_when_precheck_misses(fin, monkeypatch):
    fin.pay(request())
    # Simulate the race window: the pre-check sees no payment yet, the insert must still fail.
    monkeypatch.setattr(FinancialSystemStub, "_existing_payment_for_statement", lambda self, s, sid: None)
    assert reason_of(fin.pay, request(payment_key="p2")) is Reason.DUPLICATE_PAYMENT
    assert [r.reason for r in fin.refused_attempts()] == ["DUPLICATE_PAYMENT"]


def test_r18_concurrent_payments_of_one_statement_pay_exactly_once(tmp_path, clock, engine):
    ts = Rendezvous()
    path = engine.url.database
    # Two engines on one file: two independent systems' connections, as two processes would have.
    stubs = [FinancialSystemStub(sqlite_engine(path), ts, clock) for _ in range(2)]
    outcomes = pay_concurrently(stubs)
    reasons = [o for o in outcomes if isinstance(o, Reason)]
    paid = [o for o in outcomes if not isinstance(o, Reason)]
    assert len(paid) == 1 and reasons == [Reason.DUPLICATE_PAYMENT]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExtPayment)) == 1
    assert [r.reason for r in stubs[0].refused_attempts()] == ["DUPLICATE_PAYMENT"]
