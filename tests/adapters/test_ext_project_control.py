from __future__ import annotations

from datetime import date

import pytest
from ext_factories import make_contract, make_statement, reason_of

from domain.reasons import Reason
from integrations.project_control import ProjectDefinition
from integrations.stubs.project_control import ProjectControlStub

BRIDGE = ProjectDefinition("P-12-007", "پل عابر پیاده بزرگراه یادگار امام", "district-12",
                           date(2021, 3, 21), date(2022, 3, 20), 5_000_000_000)


@pytest.fixture
def pc(engine, transactions, clock) -> ProjectControlStub:
    return ProjectControlStub(engine, transactions, clock)


@pytest.mark.parametrize("code", ["", "C-NOT-IN-TRANSACTIONS"])
def test_r14_contract_unknown_to_the_transactions_system_is_not_registered(pc, code):
    assert reason_of(pc.register_contract, code) is Reason.NO_CONTRACT_CODE
    assert pc.contract(code) is None


@pytest.mark.parametrize("stage", ["draft", "legal_review", "budget", "treasurer", "signing"])
def test_r14_contract_before_final_is_not_registered(pc, transactions, stage):
    transactions.set_stage("C-1400-0001", stage)
    assert reason_of(pc.register_contract, "C-1400-0001") is Reason.CONTRACT_NOT_FINAL
    assert pc.contract("C-1400-0001") is None


def test_r14_registration_takes_its_data_from_the_transactions_system(pc, transactions):
    registered = pc.register_contract("C-1400-0001")
    source = transactions.contract_by_code("C-1400-0001")
    assert (registered.amount_rial, registered.budget_line, registered.expense_factor,
            registered.contractor_company_id, registered.unit) == (
        source.amount_rial, source.budget_line, source.expense_factor, source.contractor_company_id, source.unit)
    assert pc.register_contract("C-1400-0001") == registered  # idempotent


def test_r14_statement_of_a_contract_before_final_is_not_recorded(pc, transactions):
    transactions.set_stage("C-1400-0001", "signing")
    assert reason_of(pc.record_statement, "s1") is Reason.CONTRACT_NOT_FINAL
    transactions.put_statement(make_statement("s9", contract_code=""))
    assert reason_of(pc.record_statement, "s9") is Reason.NO_CONTRACT_CODE
    assert reason_of(pc.record_statement, "s-unknown") is Reason.INVALID_INPUT


def test_r14_statement_of_a_final_contract_is_recorded_from_system_data(pc):
    recorded = pc.record_statement("s1")
    assert recorded.payable_rial == make_statement().payable_rial and recorded.result == "approved"
    assert pc.contract("C-1400-0001") is not None


def test_r14_contract_cannot_join_an_undefined_project_or_move_between_projects(pc):
    assert reason_of(pc.register_contract, "C-1400-0001", "P-NONE") is Reason.INVALID_INPUT
    pc.define_project(BRIDGE)
    pc.define_project(ProjectDefinition("P-12-008", "دیگر", "district-12", date(2021, 3, 21),
                                        date(2022, 3, 20), 1))
    pc.register_contract("C-1400-0001", "P-12-007")
    assert reason_of(pc.register_contract, "C-1400-0001", "P-12-008") is Reason.INVALID_INPUT


def test_r24_project_definition_and_progress_are_checked(pc):
    assert reason_of(pc.define_project, ProjectDefinition("P-1", "", "d", date(2021, 1, 1),
                                                          date(2021, 2, 1), 1)) is Reason.FIELD_MISSING
    assert reason_of(pc.define_project, ProjectDefinition("P-1", "t", "d", date(2021, 2, 1),
                                                          date(2021, 1, 1), 1)) is Reason.INVALID_INPUT
    pc.define_project(BRIDGE)
    assert reason_of(pc.define_project, BRIDGE) is Reason.INVALID_INPUT
    assert reason_of(pc.report_progress, "P-12-007", "101", "50", date(2021, 9, 1)) is Reason.INVALID_INPUT
    assert reason_of(pc.report_progress, "P-12-007", "-1", "50", date(2021, 9, 1)) is Reason.INVALID_INPUT


def test_r24_project_figures_sum_contracts_statements_and_costs(pc, transactions):
    pc.define_project(BRIDGE)
    pc.define_project(ProjectDefinition("P-22-001", "بوستان", "district-22", date(2021, 3, 21),
                                        date(2022, 3, 20), 900_000_000))
    second = transactions.put_contract(make_contract("C-1400-0002", amount_rial=600_000_000))
    transactions.put_statement(make_statement("s2", contract_code=second.code, payable_rial=90_000_000))
    transactions.put_statement(make_statement("s3", contract_code=second.code, result="halted",
                                              payable_rial=55_000_000))
    pc.register_contract("C-1400-0001", "P-12-007")
    pc.register_contract("C-1400-0002", "P-12-007")
    for sid in ("s1", "s2", "s3"):
        pc.record_statement(sid)
    pc.report_progress("P-12-007", "37.5", 40, date(2021, 9, 1))
    pc.record_cost("P-12-007", 12_000_000, "نظارت کارگاهی")
    pc.record_cost("P-12-007", 3_000_000, "آزمایشگاه")

    [bridge] = pc.project_figures(unit="district-12")
    assert bridge["project_code"] == "P-12-007" and bridge["title"] == BRIDGE.title
    assert (bridge["physical_progress_pct"], bridge["planned_progress_pct"]) == ("37.50", "40.00")
    assert bridge["credits_rial"] == BRIDGE.credits_rial
    assert bridge["commitments_rial"] == make_contract().amount_rial + second.amount_rial
    assert bridge["statements_total_rial"] == make_statement().payable_rial + 90_000_000  # halted s3 excluded
    assert bridge["statements_count"] == 2
    assert bridge["costs_rial"] == 15_000_000
    assert bridge["start_date_jalali"] == "1400/01/01"
    assert [c["contract_code"] for c in bridge["contracts"]] == ["C-1400-0001", "C-1400-0002"]
    assert [p["project_code"] for p in pc.project_figures()] == ["P-12-007", "P-22-001"]
