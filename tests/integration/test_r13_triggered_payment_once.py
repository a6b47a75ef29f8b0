"""Issue 13 part 3: a payment started by an event pays an approved statement once; a second event for
the same statement (the same or another payment ref) pays nothing more, and a statement not yet
approved is left for a later event with nothing recorded. On a copy of a whole district-12 rehearsal:
s1 was paid by p1 (p2 refused as paid twice), s2 was approved but its only order (p3) named no code."""
from __future__ import annotations

import dataclasses
import importlib
import sys
from types import ModuleType

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.xdist_group("api-district12")


def _ocds_api_tests() -> ModuleType:
    """tests/api/test_r21_ocds_api, whose `district12_world` rehearses once per process: the module
    pytest collected, if it did. pytest imports it by its file's name (`test_r21_ocds_api`: tests/api is
    no package); importing it by its dotted name as well would make a second module with a second cache,
    and so a second whole rehearsal in this worker (25 s alone, over 8 minutes in the loaded suite)."""
    return sys.modules.get("test_r21_ocds_api") or importlib.import_module("tests.api.test_r21_ocds_api")


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory, prefect_server):
    return _ocds_api_tests().district12_world(tmp_path_factory)


@pytest.fixture
def deps(rehearsed, tmp_path):
    from integrations.stubs.financial import FinancialSystemStub
    from services.transactions_view import StoreTransactionsSystem

    world, _report = rehearsed
    copy = _ocds_api_tests().copy_of_world_deps(world, tmp_path)
    engine = copy.sessions.kw["bind"]
    financial = FinancialSystemStub(engine, StoreTransactionsSystem(copy.sessions), copy.clock)
    return dataclasses.replace(copy, financial=financial, contract_inputs=None)  # as in production


def _paid(deps, statement_ref: str) -> tuple[int, int]:
    """(payments recorded as paid for the statement, payments the financial system made for it)."""
    from store.stub_tables import ExtPayment

    with deps.uow() as uow:
        contract = uow.contracts.for_tender("district-12-asphalt")
        row = uow.statements.by_ref(contract.id, statement_ref)
        ours = sum(1 for p in uow.payments.for_statements([row.id]) if p.result == "paid")
        theirs = uow.session.scalar(select(func.count()).select_from(ExtPayment)
                                    .where(ExtPayment.statement_id == f"{contract.tracking_number}/{statement_ref}"))
    return ours, int(theirs or 0)


def test_r13_a_second_event_never_pays_twice(deps):
    from services.deps import use
    from tasks.contract import pay_statement, statement_state

    tid = "district-12-asphalt"
    with use(deps):
        assert _paid(deps, "s1") == (1, 1)
        # s1 again, by the statement-approved event (default ref) and by a request naming p1: stored, not paid
        for ref in (None, "p1"):
            outcome, asked = pay_statement.fn(tid, "s1", ref or "s1-pay")
            assert outcome is not None and (outcome.result, asked) == ("paid", False)
        assert _paid(deps, "s1") == (1, 1)
        # s2 is approved and unpaid: the event pays it, once
        assert statement_state.fn(tid, "s2").result == "approved"
        outcome, asked = pay_statement.fn(tid, "s2", "s2-pay")
        assert outcome is not None and (outcome.result, outcome.reason, asked) == ("paid", None, True)
        again, asked = pay_statement.fn(tid, "s2", "s2-pay")
        assert again == outcome and not asked
        other, asked = pay_statement.fn(tid, "s2", "p7")
        assert other is not None and other.result == "paid" and not asked
        assert _paid(deps, "s2") == (1, 1)
        # a statement nobody submitted: nothing to pay, nothing recorded
        assert pay_statement.fn(tid, "s9", "s9-pay") == (None, False)
        assert statement_state.fn(tid, "s9") is None


def test_r13_a_statement_in_review_is_left_for_a_later_event(deps):
    from services.deps import use
    from store import models as m
    from tasks.contract import pay_statement

    with deps.uow() as uow:
        contract = uow.contracts.for_tender("district-12-asphalt")
        row = uow.statements.by_ref(contract.id, "s2")
        row.result = "in_review"
        uow.commit()
    with use(deps):
        assert pay_statement.fn("district-12-asphalt", "s2", "s2-pay") == (None, False)
    with deps.uow() as uow:
        attempts = uow.session.scalar(select(func.count()).select_from(m.Payment).where(m.Payment.ref == "s2-pay"))
    assert attempts == 0
