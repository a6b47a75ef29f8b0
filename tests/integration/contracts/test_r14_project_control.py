"""R14: project control takes a contract only by fetching its code, and statements only of final contracts."""
from __future__ import annotations

from sqlalchemy import select

from services.transactions_view import statement_key
from store import models as m


def test_r14_project_control_holds_the_contract_as_the_store_has_it(district12):
    world = district12.world
    with world.deps.uow() as uow:
        row = uow.contracts.for_tender(district12.tender_id)
        statements = list(uow.statements.for_contract(row.id))
    registered = world.stubs["project_control"].contract(row.code)
    assert registered is not None
    assert (registered.tracking_number, registered.amount_rial, registered.budget_line, registered.expense_factor,
            registered.contractor_company_id) == (row.tracking_number, row.amount_rial, "1400-12-30201-034",
                                                  "EF-12-ROAD", row.contractor_id)
    recorded = world.stubs["transactions"].statement(statement_key(row.tracking_number, "s1"))
    assert recorded.contract_code == row.code and recorded.signed_by_contractor and recorded.signed_by_treasurer
    assert recorded.payable_rial == statements[0].payable_rial


def test_r14_statements_of_a_contract_without_code_are_refused_everywhere(stopped):
    world = stopped.world
    assert world.stubs["transactions"].contract_by_code("") is None
    with world.deps.uow() as uow:
        refused = [(e.entity_id.rsplit("/", 1)[-1], e.reason) for e in uow.session.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == "project_control.refused").order_by(m.AuditEntry.seq))]
    assert refused == [(s.id, "NO_CONTRACT_CODE") for s in world.scenario.status_statements]
    assert stopped.report["status_statements"] == {s.id: {"result": "refused", "payable_rial": None,
                                                          "reason": "NO_CONTRACT_CODE"}
                                                   for s in world.scenario.status_statements}
