"""Issue 13 part 4 in-process (R14, R21, R28, R29): each outside system's HTTP client against its
service's app (starlette's test transport, no network), the R28/R29 checks, and the wiring of
EPROC_INTEGRATIONS=http. The separate-process test is tests/e2e/test_r28_financial_service_fetches_by_code.py."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest
from ext_factories import make_contract, make_contract_data, make_statement
from starlette.testclient import TestClient

from domain.contract.payment_data import RegistrationView, check_payment_data, check_registration_complete
from domain.reasons import DomainError, Reason
from integrations.financial import PaymentRequest
from integrations.http.financial import HttpFinancialSystem
from integrations.http.project_control import HttpProjectControlSystem
from integrations.http.transparency import HttpTransparencyPublisher
from integrations.services import financial as fin_service, project_control as pc_service, transparency as tp_service
from integrations.stubs.project_control import ProjectControlStub
from integrations.stubs.transparency import TransparencyPublisherStub

COMPLETE = RegistrationView(code="C-1400-0001", stage="final", budget_line="BL-201-05", budget_general_code="G-201",
                            expense_factor="EF-12-03", expense_factor_approved=True, budget_allocation_code="TA-1")


def _transport(app):
    return TestClient(app, raise_server_exceptions=False)._transport


def _reason(call) -> Reason:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.reason


@pytest.mark.parametrize("change, reason", [
    ({"code": None, "stage": "treasurer"}, Reason.NO_CONTRACT_CODE),
    ({"stage": "treasurer"}, Reason.CONTRACT_NOT_FINAL),
    ({"budget_line": ""}, Reason.BUDGET_LINE_MISSING),
    ({"budget_general_code": ""}, Reason.BUDGET_LINE_MISSING),
    ({"expense_factor": ""}, Reason.EXPENSE_FACTOR_MISSING),
    ({"expense_factor_approved": False}, Reason.EXPENSE_FACTOR_MISSING),
    ({"budget_allocation_code": " "}, Reason.FIELD_MISSING),
])
def test_r28_incomplete_registration_is_refused_with_its_code(change, reason):
    check_registration_complete(COMPLETE)
    assert _reason(lambda: check_registration_complete(replace(COMPLETE, **change))) is reason


def test_r29_payment_class_and_allocation_code():
    check_payment_data(COMPLETE, "advance", None)
    assert _reason(lambda: check_payment_data(COMPLETE, "", None)) is Reason.FIELD_MISSING
    assert _reason(lambda: check_payment_data(COMPLETE, "whenever", None)) is Reason.INVALID_INPUT
    assert _reason(lambda: check_payment_data(COMPLETE, "after_expense", "TA-2")) is Reason.INVALID_INPUT


class _Reader:
    """The transactions system as the financial service reads it, with registrations by code."""

    def __init__(self, transactions, registrations: dict[str, RegistrationView]) -> None:
        self._t, self._r = transactions, registrations

    def contract_by_code(self, code):
        return self._t.contract_by_code(code)

    def statement(self, sid):
        return self._t.statement(sid)

    def registration(self, code):
        return self._r.get(code)


def test_r29_financial_service_classes_and_exemptions(engine, clock, transactions):
    transactions.put_contract(make_contract("C-2", budget_line=""))
    reader = _Reader(transactions, {"C-1400-0001": COMPLETE,
                                    "C-2": replace(COMPLETE, code="C-2", budget_line="", budget_general_code="")})
    app = fin_service.create_app(fin_service.FinancialService(engine, reader, clock))  # type: ignore[arg-type]
    fin = HttpFinancialSystem("http://financial", transport=_transport(app))
    charge = dict(contract_code="C-1400-0001", statement_id="s1", budget_line="BL-201-05", expense_factor="EF-12-03",
                  amount_rial=312_750_000)
    paid = fin.pay(PaymentRequest(payment_key="k1", **charge))
    assert fin.pay(PaymentRequest(payment_key="k1", **charge)) == paid
    assert fin.payment_for_statement("s1") == paid and fin.payment_for_statement("s9") is None
    assert _reason(lambda: fin.pay(PaymentRequest(payment_key="k2", **charge))) is Reason.DUPLICATE_PAYMENT
    # Each exemption passes for a contract without budget line; anything else is not an exemption.
    for i, exemption in enumerate(("initial_petty_cash", "deposit_refund", "fee_refund")):
        out = fin.pay_exempt(f"x{i}", exemption, 1_000_000, payee="10101234565",
                             contract_code="C-2" if exemption == "deposit_refund" else "")
        assert out["exemption"] == exemption and out["amount_rial"] == 1_000_000
    assert _reason(lambda: fin.pay_exempt("x0", "initial_petty_cash", 2, payee="p")) is Reason.INVALID_INPUT
    assert _reason(lambda: fin.pay_exempt("x9", "deposit_refund", 0, payee="p")) is Reason.AMOUNT_OUT_OF_RANGE
    assert _reason(lambda: fin.pay_exempt("x8", "deposit_refund", 5, payee="p", contract_code="NOPE")) \
        is Reason.INVALID_INPUT
    assert _reason(lambda: fin.contract_notified("C-2")) is Reason.BUDGET_LINE_MISSING
    assert {r.reason for r in fin.refused_attempts()} >= {"DUPLICATE_PAYMENT", "BUDGET_LINE_MISSING", "INVALID_INPUT"}


def test_r14_project_control_over_http_fetches_by_code(engine, clock, transactions):
    transactions.put_contract(make_contract("C-9", stage="treasurer"))
    stub = ProjectControlStub(engine, transactions, clock)
    pc = HttpProjectControlSystem("http://pc", transport=_transport(pc_service.create_app(stub)))
    from integrations.project_control import ProjectDefinition

    pc.define_project(ProjectDefinition("P-1", "بزرگراه", "district-12", date(2021, 1, 1), date(2022, 1, 1), 10**10))
    pc.report_progress("P-1", "12.5", 20, date(2021, 6, 1))
    pc.record_cost("P-1", 5_000_000, "نظارت")
    registered = pc.register_contract("C-1400-0001", "P-1")
    assert registered.amount_rial == 1_395_000_000 and registered.project_code == "P-1"
    assert pc.record_statement("s1").payable_rial == make_statement().payable_rial
    assert _reason(lambda: pc.register_contract("")) is Reason.NO_CONTRACT_CODE
    assert _reason(lambda: pc.register_contract("C-9")) is Reason.CONTRACT_NOT_FINAL
    figures = pc.project_figures("district-12")
    assert figures[0]["physical_progress_pct"] == "12.50" and figures[0]["costs_rial"] == 5_000_000


def test_r21_transparency_over_http(engine, clock, tmp_path):
    stub = TransparencyPublisherStub(engine, clock, publication_cutoff=date(2017, 8, 23), publisher_name="شهرداری تهران")
    tp = HttpTransparencyPublisher("http://tp", transport=_transport(tp_service.create_app(stub, source=None)))  # type: ignore[arg-type]
    result = tp.publish(make_contract_data())
    assert result.status == "published" and result.release_id
    assert tp.publish(make_contract_data()).already_published
    assert [r["id"] for r in tp.releases()] == [result.release_id]
    assert tp.export_package(tmp_path / "p.json") == 1
    assert _reason(lambda: tp.publish(make_contract_data(title=""))) is Reason.FIELD_MISSING


def test_wiring_http_uses_the_clients_and_needs_their_urls(tmp_path):
    from config.settings import Settings
    from eproc.wiring import _attach_http
    from store.stub_tables import sqlite_engine

    engine = sqlite_engine(tmp_path / "app.db")
    deps = SimpleNamespace()
    settings = Settings(integrations="http", financial_url="http://127.0.0.1:1", project_control_url="http://127.0.0.1:2",
                        transparency_url="http://127.0.0.1:3")
    _attach_http(deps, engine, None, settings)  # type: ignore[arg-type]
    assert isinstance(deps.financial, HttpFinancialSystem)
    assert isinstance(deps.project_control, HttpProjectControlSystem)
    assert isinstance(deps.publisher, HttpTransparencyPublisher)
    # Nothing listens there: the refusal is STORE_UNREACHABLE, not a traceback.
    assert _reason(lambda: deps.financial.payment_for_statement("s1")) is Reason.STORE_UNREACHABLE
    missing = Settings(integrations="http", financial_url="http://127.0.0.1:1")
    assert _reason(lambda: _attach_http(SimpleNamespace(), engine, None, missing)) is Reason.INVALID_INPUT  # type: ignore[arg-type]
