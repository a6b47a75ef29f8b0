"""Issue 13 parts 4 and 5 (R25, R28, R29): the engine tells the financial system when a contract is
notified to the contractor and asks it again until it accepts; a payment carries the contract's
registered terms (budget line, expense factor, budget-allocation code, payment class); exempt
payments go without a statement; the blacklist is consulted at award and at payment.

On the district-12 rehearsal (read-only), or on a copy of its database with the in-process financial
stub reading registrations from the store (as the financial service reads them over HTTP)."""
from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from store.stub_tables import ExtExpenseDocument
from tests.api.test_r21_ocds_api import copy_of_world_deps

ALLOCATION, GENERAL = "TA-1400-12-0077", "G-30201"


def _contract(deps):
    with deps.uow() as uow:
        return uow.contracts.for_tender("district-12-asphalt")


def _audit(deps, action: str) -> list[tuple[str, str | None, dict]]:
    from store import models as m

    with deps.uow() as uow:
        return [(e.entity_id, e.reason, json.loads(e.payload_json or "{}"))
                for e in uow.session.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action)
                                             .order_by(m.AuditEntry.seq))]


class Recording:
    """The financial system, keeping every request the engine sends it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.paid: list[Any] = []
        self.notified: list[str] = []

    def contract_notified(self, code: str) -> dict:
        self.notified.append(code)
        return self.inner.contract_notified(code)

    def record_expense_document(self, req):
        return self.inner.record_expense_document(req)

    def pay(self, req):
        self.paid.append(req)
        return self.inner.pay(req)

    def payment_for_statement(self, sid):
        return self.inner.payment_for_statement(sid)

    def refused_attempts(self, code=None):
        return self.inner.refused_attempts(code)


@pytest.fixture
def deps(district12, tmp_path):
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    copy = copy_of_world_deps(district12.world, tmp_path)
    _budget_line_unregistered(copy)
    transactions = StoreTransactionsSystem(copy.sessions)
    stub = FinancialSystemStub(copy.sessions.kw["bind"], transactions, copy.clock, registrations=transactions)
    yield dataclasses.replace(copy, financial=Recording(stub), contract_inputs=None)  # as in production
    copy.sessions.kw["bind"].dispose()


def _budget_line_unregistered(deps) -> None:
    """The copy's budget line taken out of the unit's registry (the rehearsal's officer chose it from
    there at their station): the registration is incomplete until a test completes it."""
    from sqlalchemy import delete

    from store import models as m

    row = _contract(deps)
    with deps.uow() as uow:
        uow.session.execute(delete(m.BudgetLine).where(m.BudgetLine.unit_id == row.unit_id,
                                                       m.BudgetLine.code == row.budget_line))
        uow.commit()


def _forget_notification(deps) -> None:
    from services.contract.registration import FINANCIAL_NOTIFICATION

    with deps.uow() as uow:
        row = uow.contracts.for_tender("district-12-asphalt")
        data = json.loads(row.data_json)
        data.pop(FINANCIAL_NOTIFICATION, None)
        row.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        uow.commit()


def _complete_registration(deps, allocation: str | None = ALLOCATION) -> None:
    """The budget line in the unit's registry, the expense factor approved, the allocation code entered."""
    from services.contract import registries

    row = _contract(deps)
    registries.add_budget_line(deps, row.unit_id, row.budget_line, GENERAL, "آسفالت معابر", "test")
    registries.add_expense_factor(deps, row.expense_factor, "نگهداری معابر", "test")
    registries.approve_expense_factor(deps, row.expense_factor, "COM-1400-07", "test")
    with deps.uow() as uow:
        row = uow.contracts.for_tender("district-12-asphalt")
        data = json.loads(row.data_json)
        data["fields"]["budget_allocation_code"] = allocation
        row.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        uow.commit()


def _pay(deps, ref: str, payment_ref: str):
    from services.deps import use
    from tasks.contract import pay_statement

    with use(deps):
        return pay_statement.fn("district-12-asphalt", ref, payment_ref)[0]


# --- R28: at notification ---------------------------------------------------------------------------------
def test_r28_the_code_issued_at_final_is_notified_to_the_financial_system(district12):
    from services.contract.registration import FINANCIAL_NOTIFICATION

    deps = district12.world.deps
    row = _contract(deps)
    assert row.code == district12.report["contract"]["code"]
    notified = [(tracking, reason) for tracking, reason, _ in _audit(deps, "contract.financial_notified")]
    assert notified == [(row.tracking_number, None)]
    assert json.loads(row.data_json)[FINANCIAL_NOTIFICATION]["result"] == "complete"


def test_r28_a_refused_notification_is_recorded_and_asked_again_until_accepted(deps):
    from services.contract.registration import FINANCIAL_NOTIFICATION, notify_financial

    _forget_notification(deps)
    row = _contract(deps)
    before = len(_audit(deps, "contract.financial_notified"))
    # The budget line is not in the unit's registry: refused with its code, kept on both sides.
    assert notify_financial(deps, row.tracking_number) == "BUDGET_LINE_MISSING"
    assert [(t, r) for t, r, _ in _audit(deps, "contract.financial_notification_refused")] == \
        [(row.tracking_number, "BUDGET_LINE_MISSING")]
    assert [(r.kind, r.reason) for r in deps.financial.refused_attempts(row.code) if r.kind == "notification"] == \
        [("notification", "BUDGET_LINE_MISSING")]
    assert FINANCIAL_NOTIFICATION not in json.loads(_contract(deps).data_json)
    # Without the budget-allocation code: FIELD_MISSING (the same domain rule as the HTTP service's).
    _complete_registration(deps, allocation="")
    assert notify_financial(deps, row.tracking_number) == "FIELD_MISSING"
    # Completed: accepted, stored, audited once; asking again asks nothing.
    _complete_registration(deps)
    assert notify_financial(deps, row.tracking_number) == "complete"
    kept = json.loads(_contract(deps).data_json)[FINANCIAL_NOTIFICATION]
    assert kept["registration"]["budget_allocation_code"] == ALLOCATION
    assert kept["registration"]["budget_general_code"] == GENERAL
    asked = len(deps.financial.notified)
    assert notify_financial(deps, row.tracking_number) == "complete"
    assert len(deps.financial.notified) == asked == 3
    assert len(_audit(deps, "contract.financial_notified")) == before + 1


# --- R28 + R29: at every payment, from the registered terms ------------------------------------------------
def test_r29_payment_carries_the_contracts_registered_terms_and_is_made_once(deps):
    _forget_notification(deps)
    row = _contract(deps)
    # Registration incomplete: the financial system refuses the payment; the engine records it.
    refused = _pay(deps, "s2", "s2-pay")
    assert (refused.result, refused.reason) == ("refused", "BUDGET_LINE_MISSING")
    assert deps.financial.inner.payment_for_statement(f"{row.tracking_number}/s2") is None
    with deps.uow() as uow:  # nor an expense document (R13: only once the registration is complete)
        assert uow.session.scalar(select(ExtExpenseDocument.id).where(
            ExtExpenseDocument.statement_id == f"{row.tracking_number}/s2")) is None
    # Completed: a new request is paid, the notification refused before is asked again first.
    _complete_registration(deps)
    paid = _pay(deps, "s2", "s2-retry")
    assert (paid.result, paid.reason) == ("paid", None)
    req = deps.financial.paid[-1]
    assert (req.contract_code, req.budget_line, req.expense_factor, req.budget_allocation_code, req.payment_class) \
        == (row.code, row.budget_line, row.expense_factor, ALLOCATION, "after_expense")
    assert deps.financial.notified[-1] == row.code
    assert "financial_notification" in json.loads(_contract(deps).data_json)
    # Exactly once: another event or order for the same statement pays nothing more.
    asked = len(deps.financial.paid)
    assert _pay(deps, "s2", "s2-again").result == "paid"
    assert len(deps.financial.paid) == asked
    assert [p.statement_id for p in deps.financial.inner.payments(row.code)] == \
        [f"{row.tracking_number}/s1", f"{row.tracking_number}/s2"]


def test_r29_another_allocation_code_or_class_is_refused_by_the_financial_system(deps):
    from domain.contract.payment import payment_key
    from domain.reasons import DomainError
    from integrations.financial import PaymentRequest

    _complete_registration(deps)
    row = _contract(deps)
    statement = f"{row.tracking_number}/s2"
    stub = deps.financial.inner
    payable = stub._transactions.statement(statement).payable_rial

    def request(**changes: Any) -> PaymentRequest:
        base = dict(payment_key=payment_key(row.code, statement), contract_code=row.code, statement_id=statement,
                    budget_line=row.budget_line, expense_factor=row.expense_factor, amount_rial=payable,
                    budget_allocation_code=ALLOCATION)
        return PaymentRequest(**{**base, **changes})

    for changes, reason in (({"budget_allocation_code": "TA-OTHER"}, "INVALID_INPUT"),
                            ({"payment_class": ""}, "FIELD_MISSING"), ({"payment_class": "gift"}, "INVALID_INPUT")):
        with pytest.raises(DomainError) as caught:
            stub.pay(request(**changes))
        assert caught.value.reason.value == reason
    assert stub.payment_for_statement(statement) is None
    assert stub.pay(request()).amount_rial == payable


def test_r29_exempt_payments_go_without_a_statement_once_per_key(deps, tmp_path):
    from starlette.testclient import TestClient

    from domain.clock import SimulatedClock
    from domain.reasons import DomainError
    from integrations.http.financial import HttpFinancialSystem
    from integrations.services import financial as fin_service
    from services.contract.statements import pay_exemption
    from services.transactions_view import StoreTransactionsSystem
    from store.stub_tables import sqlite_engine

    row = _contract(deps)
    service = fin_service.FinancialService(sqlite_engine(tmp_path / "fin.sqlite"),
                                           StoreTransactionsSystem(deps.sessions),  # type: ignore[arg-type]
                                           SimulatedClock(deps.clock.now()))
    transport = TestClient(fin_service.create_app(service), raise_server_exceptions=False)._transport
    http = dataclasses.replace(deps, financial=HttpFinancialSystem("http://financial", transport=transport))
    refund = pay_exemption(http, "x-1", "deposit_refund", 40_000_000, payee=row.contractor_id,
                           reference="سپردهٔ حسن انجام کار", contract_code=row.code)
    assert (refund["exemption"], refund["amount_rial"], refund["contract_code"]) == ("deposit_refund", 40_000_000,
                                                                                     row.code)
    assert pay_exemption(http, "x-1", "deposit_refund", 40_000_000, payee=row.contractor_id,
                         reference="سپردهٔ حسن انجام کار", contract_code=row.code) == refund
    assert len(service.exempt_payments()) == 1
    for engine_deps, exemption in ((http, "gift"), (deps, "fee_refund")):  # unknown; a system taking none
        with pytest.raises(DomainError) as caught:
            pay_exemption(engine_deps, "x-2", exemption, 1, payee=row.contractor_id)
        assert caught.value.reason.value == "INVALID_INPUT"
    assert [r for _, r, _ in _audit(deps, "payment.exempt_refused")] == ["INVALID_INPUT", "INVALID_INPUT"]
    assert len(_audit(deps, "payment.exempt_paid")) == 2


# --- R25: the blacklist at payment and at award ----------------------------------------------------------
def _blacklist(deps, start: date, end: date | None) -> str:
    from integrations.contractor_registry import BlacklistEntry, Company
    from services.contract.blacklist import contractor_registry

    row = _contract(deps)
    with deps.uow() as uow:
        company = uow.companies.get(row.contractor_id)
        ceo = uow.people.get(company.ceo_national_id)
    registry = contractor_registry(deps)
    registry.register_company(Company(company.national_id, company.name, company.economic_code, company.grade,
                                      company.ceo_national_id, ceo.full_name if ceo is not None else "مدیرعامل"))
    registry.add_to_blacklist(BlacklistEntry(company.national_id, start, end, "عدم انجام تعهدات قرارداد",
                                             f"حکم-{start.isoformat()}"))
    return company.national_id


def test_r25_a_payment_to_a_blacklisted_contractor_is_refused_and_recorded(deps):
    from services.contract.blacklist import tehran_day

    _complete_registration(deps)
    row = _contract(deps)
    today = tehran_day(deps.clock.now())
    _blacklist(deps, today - timedelta(days=30), today - timedelta(days=1))  # lapsed yesterday: no effect
    company = _blacklist(deps, today, None)
    refused = _pay(deps, "s2", "s2-pay")
    assert (refused.result, refused.reason) == ("refused", "BLACKLISTED")
    assert deps.financial.paid == []  # never asked of the financial system
    assert deps.financial.inner.payment_for_statement(f"{row.tracking_number}/s2") is None
    assert [(t, r) for t, r, _ in _audit(deps, "payment.refused")][-1] == \
        (f"{row.tracking_number}/s2-pay", "BLACKLISTED")
    assert company == row.contractor_id


def test_r25_no_contract_is_taken_from_the_award_for_a_blacklisted_winner(deps):
    from domain.reasons import DomainError
    from services.contract.award import award_for
    from services.contract.blacklist import tehran_day

    tid = "district-12-asphalt"
    assert award_for(deps, tid, "b3").company_id == _contract(deps).contractor_id
    company = _blacklist(deps, tehran_day(deps.clock.now()) - timedelta(days=2), None)
    with pytest.raises(DomainError) as caught:
        award_for(deps, tid, "b3")
    assert caught.value.reason.value == "BLACKLISTED"
    assert [(t, r) for t, r, _ in _audit(deps, "contract.award_refused")] == [(tid, "BLACKLISTED")]
    assert award_for(deps, tid, "b4").company_id != company  # the runner-up is not on the list


def test_r25_the_blacklist_holds_from_its_start_to_its_end_inclusive():
    from domain.contract.blacklist import blacklisting, check_not_blacklisted
    from domain.reasons import DomainError
    from integrations.contractor_registry import BlacklistEntry

    entry = BlacklistEntry("10100000016", date(2021, 6, 1), date(2021, 12, 1), "تأخیر مکرر", "ر-۱")
    open_ended = BlacklistEntry("10100000017", date(2021, 6, 1), None, "تخلف", "ر-۲")
    assert blacklisting([entry], "10100000016", date(2021, 5, 31)) is None
    assert blacklisting([entry], "۱۰۱۰۰۰۰۰۰۱۶", date(2021, 6, 1)) == entry  # Persian digits read the same
    assert blacklisting([entry], "10100000016", date(2021, 12, 1)) == entry
    assert blacklisting([entry], "10100000016", date(2021, 12, 2)) is None
    assert blacklisting([entry, open_ended], "10100000017", date(2030, 1, 1)) == open_ended
    with pytest.raises(DomainError) as caught:
        check_not_blacklisted([entry, open_ended], "10100000017", date(2022, 1, 1), "پرداخت p1")
    assert caught.value.reason.value == "BLACKLISTED" and "تخلف" in caught.value.detail
