"""R13: no expense entry or payment for a contract without a code or before its workflow ends."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.contract.code import make_contract_code
from domain.contract.payment import payment_key
from domain.reasons import DomainError, Reason
from integrations.financial import PaymentRequest
from services.transactions_view import statement_key
from store import models as m


def _refusals(run, action="payment.refused"):
    with run.world.deps.uow() as uow:
        return [(e.entity_id.rsplit("/", 1)[-1], e.reason) for e in uow.session.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == action).order_by(m.AuditEntry.seq))]


def test_r13_district12_payments_paid_once_then_refused(district12):
    assert district12.report["payments"] == {
        "p1": {"result": "paid", "reason": None},
        "p2": {"result": "refused", "reason": "DUPLICATE_PAYMENT"},
        "p3": {"result": "refused", "reason": "NO_CONTRACT_CODE"},
    }
    assert _refusals(district12) == [("p2", "DUPLICATE_PAYMENT"), ("p3", "NO_CONTRACT_CODE")]
    financial = district12.world.stubs["financial"]
    paid = financial.payments()
    assert [p.statement_id.rsplit("/", 1)[-1] for p in paid] == ["s1"]
    assert paid[0].contract_code == district12.report["contract"]["code"]
    # The financial system itself refused the attempt without a code, and kept the refusal.
    assert [(r.kind, r.reason) for r in financial.refused_attempts()] == [("expense_document", "NO_CONTRACT_CODE")]


def test_r13_a_paid_statement_keeps_one_payment_key(district12):
    with district12.world.deps.uow() as uow:
        contract = uow.contracts.for_tender(district12.tender_id)
        paid = uow.session.scalars(select(m.Payment).where(m.Payment.result == "paid")).all()
    assert [p.payment_key for p in paid] == [payment_key(contract.code, statement_key(contract.tracking_number, "s1"))]


def test_r13_financial_system_refuses_a_code_whose_workflow_is_not_final(stopped):
    """A code the store holds for a contract still at `treasurer` (as legacy imports carry them)."""
    world = stopped.world
    with world.deps.uow() as uow:
        row = uow.contracts.for_tender(stopped.tender_id)
        assert row.stage == "treasurer" and row.code is None
        row.code = make_contract_code("12", 1400, 9)
        code, tracking = row.code, row.tracking_number
        uow.commit()
    try:
        key = statement_key(tracking, "s1")
        with pytest.raises(DomainError) as err:
            world.stubs["financial"].pay(PaymentRequest(
                payment_key=payment_key(code, key), contract_code=code, statement_id=key,
                budget_line=row.budget_line, expense_factor=row.expense_factor, amount_rial=1_000_000))
        assert err.value.reason is Reason.CONTRACT_NOT_FINAL
        with pytest.raises(DomainError) as pc:
            world.stubs["project_control"].register_contract(code)
        assert pc.value.reason is Reason.CONTRACT_NOT_FINAL
    finally:
        with world.deps.uow() as uow:
            uow.contracts.for_tender(stopped.tender_id).code = None
            uow.commit()
    assert [r.reason for r in world.stubs["financial"].refused_attempts(code)] == ["CONTRACT_NOT_FINAL"]


def test_r13_stopped_contract_payments_are_refused_and_audited(stopped):
    assert _refusals(stopped) == [(p.id, "NO_CONTRACT_CODE") for p in stopped.world.scenario.payments]
    assert stopped.world.stubs["financial"].payments() == []


def test_r13_refused_payments_report_lists_each_refusal_once(district12):
    from services.reports import refused_payments_report

    report = refused_payments_report(district12.world.deps.sessions)
    assert sorted((r["ref"], r["reason"]) for r in report.rows if r["ref"] in ("p1", "p2", "p3")) == [("p2", "DUPLICATE_PAYMENT"),
                                                                     ("p3", "NO_CONTRACT_CODE")]
