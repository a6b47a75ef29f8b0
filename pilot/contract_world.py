"""The contract side of a pilot world: the scenario's contract inputs and the outside systems
(financial, project control, transparency publisher) on the world's database, each fetching from
the store-backed transactions system. Wired into the world's dependency container; calling
`attach` again is harmless."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.contract.statement import WasteTerms
from domain.reasons import DomainError, Reason
from pilot.scenario import Scenario
from services.contract import ContractInputs, ContractTerms, PaymentOrder, StatementRequest
from services.deps import Deps


def inputs_from_scenario(scenario: Scenario) -> ContractInputs:
    """A rehearsal scenario's [contract], [[status_statements]] and [[payments]] (pilot.scenario.Scenario)."""
    c = scenario.contract
    if c is None:
        raise DomainError(Reason.INVALID_INPUT, f"سناریوی «{scenario.scenario.name}» بخش [contract] ندارد")
    deductions = {}
    if c.deductions is not None:
        deductions = {k: Decimal(str(v)) for k, v in c.deductions.model_dump().items() if v is not None}
    waste = None
    if c.service == "waste":
        if c.min_vehicles is None or c.min_workers is None:
            raise DomainError(Reason.INVALID_INPUT, "قرارداد پسماند min_vehicles و min_workers لازم دارد")
        waste = WasteTerms(c.min_vehicles, c.min_workers, c.penalty_per_missing_vehicle_rial,
                           c.penalty_per_missing_worker_rial)
    terms = ContractTerms(budget_line=c.budget_line, expense_factor=c.expense_factor, supervisor=c.supervisor,
                          stop_at_stage=c.stop_at_stage, deductions=deductions, waste=waste)
    statements = tuple(StatementRequest(s.id, s.at, tuple((i.code, i.quantity) for i in s.items), s.vehicles,
                                        s.workers, s.signed_by_contractor) for s in scenario.status_statements)
    payments = tuple(PaymentOrder(p.id, p.statement, p.at, p.contract_code) for p in scenario.payments)
    return ContractInputs(terms, statements, payments)



def attach_stubs(deps: Deps, scenario: Scenario, stubs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wire the rule-enforcing stubs on the application database (created once, kept in `stubs`) and
    the scenario's contract inputs (its name is the tender id) into `deps`. Returns `stubs`."""
    from integrations.stubs.financial import FinancialSystemStub
    from integrations.stubs.project_control import ProjectControlStub
    from integrations.stubs.transparency import TransparencyPublisherStub
    from services.transactions_view import StoreTransactionsSystem
    from store.stub_tables import create_stub_tables

    stubs = {} if stubs is None else stubs
    if "financial" not in stubs:
        engine = deps.sessions.kw["bind"]
        create_stub_tables(engine)
        transactions = StoreTransactionsSystem(deps.sessions)
        stubs["transactions"] = transactions
        stubs["financial"] = FinancialSystemStub(engine, transactions, deps.clock)
        stubs["project_control"] = ProjectControlStub(engine, transactions, deps.clock)
        stubs["publisher"] = TransparencyPublisherStub(engine, deps.clock,
                                                       publication_cutoff=deps.policy.publication.cutoff,
                                                       publisher_name=deps.policy.publication.publisher)
    tender_id = scenario.scenario.name

    def inputs(requested: str) -> ContractInputs:
        if requested != tender_id:
            raise DomainError(Reason.INVALID_INPUT, f"ورودی‌های قرارداد مناقصهٔ «{requested}» در این آزمایش نیست")
        return inputs_from_scenario(scenario)

    deps.contract_inputs = inputs if scenario.contract is not None else None
    deps.financial, deps.project_control = stubs["financial"], stubs["project_control"]
    deps.publisher = stubs["publisher"]
    return stubs


def attach(world: Any) -> None:
    """Create the stubs on the world's engine (once) and point the contract flows at this world."""
    attach_stubs(world.deps, world.scenario, world.stubs)
