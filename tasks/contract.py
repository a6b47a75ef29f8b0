"""Thin Prefect tasks over services.contract; dependencies come from the process's container.

No task result caching: the store is the source of truth and every step is idempotent against
it, so a retry re-reads state instead of trusting a cached value."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from domain.contract.statement import APPROVED
from services import contract as contract_svc
from services.contract import statements as statements_svc
from services.deps import current


@task(name="open-contract", cache_policy=NO_CACHE)
def open_contract(tender_id: str, bidder: str) -> contract_svc.ContractState:
    """The contract as the award states it, with the terms supplied for the tender."""
    deps = current()
    terms = contract_svc.inputs_for(deps, tender_id).terms
    return contract_svc.open_contract(deps, tender_id, bidder, terms)


@task(name="approve-contract-stage", task_run_name="approve-{stage}", cache_policy=NO_CACHE)
def approve_stage(tender_id: str, stage: str) -> contract_svc.ContractState:
    """Every approval the stage still waits for."""
    return contract_svc.approve_stage(current(), tender_id, stage)


@task(name="publish-contract", cache_policy=NO_CACHE)
def publish_contract(tender_id: str) -> contract_svc.PublicationOutcome:
    """The final contract on the transparency site (R21)."""
    deps = current()
    if deps.publisher is None:
        return contract_svc.PublicationOutcome("not_configured")
    return contract_svc.publish_contract(deps, tender_id, deps.publisher)


@task(name="register-in-project-control", cache_policy=NO_CACHE)
def register_in_project_control(tender_id: str) -> contract_svc.ProjectControlOutcome:
    """Project control fetches the contract by its code (R14)."""
    deps = current()
    if deps.project_control is None:
        return contract_svc.ProjectControlOutcome(False)
    return contract_svc.register_in_project_control(deps, tender_id, deps.project_control)


@task(name="status-statement", task_run_name="statement-{ref}", cache_policy=NO_CACHE)
def review_statement(tender_id: str, ref: str) -> statements_svc.StatementOutcome:
    """The contractor's statement through its approval path."""
    return statements_svc.submit_statement(current(), tender_id, ref)


@task(name="payment-request", task_run_name="payment-{ref}", cache_policy=NO_CACHE)
def request_payment(tender_id: str, ref: str) -> statements_svc.PaymentOutcome:
    """The financial system's expense document and payment for one statement."""
    return statements_svc.request_payment(current(), tender_id, ref)


# --- the same steps when an event starts the flow (issue 13 part 3): from the store, ids only -----------
@task(name="contract-state", cache_policy=NO_CACHE)
def contract_state(tender_id: str) -> contract_svc.ContractState | None:
    """The contract of the tender as stored, or None while nobody opened it."""
    deps = current()
    with deps.uow() as uow:
        if uow.contracts.for_tender(tender_id) is None:
            return None
    return contract_svc.state(deps, tender_id)


@task(name="statement-state", task_run_name="statement-{ref}", cache_policy=NO_CACHE)
def statement_state(tender_id: str, ref: str) -> statements_svc.StatementOutcome | None:
    """Statement `ref` of the tender's contract as stored (in review until its path has signed), or
    None when there is no such contract or statement."""
    deps = current()
    with deps.uow() as uow:
        contract = uow.contracts.for_tender(tender_id)
        row = uow.statements.by_ref(contract.id, ref) if contract is not None else None
        return statements_svc.outcome_of(row) if row is not None else None


@task(name="statement-outcomes", cache_policy=NO_CACHE)
def statement_outcomes(tender_id: str) -> tuple[dict[str, dict], dict[str, dict]]:
    """Every stored statement (ref -> outcome) and payment attempt (ref -> outcome) of the tender's
    contract, in their order; both empty without a contract."""
    deps = current()
    with deps.uow() as uow:
        contract = uow.contracts.for_tender(tender_id)
        if contract is None:
            return {}, {}
        rows = list(uow.statements.for_contract(contract.id))
        by_id = {s.id: s for s in rows}
        statements = {s.ref: statements_svc.outcome_of(s).to_dict() for s in sorted(rows, key=lambda r: r.seq)}
        payments = {p.ref: statements_svc.PaymentOutcome(p.ref, p.result, p.reason, p.amount_rial).to_dict()
                    for p in uow.payments.for_statements(list(by_id))}
    return statements, payments


@task(name="pay-statement", task_run_name="pay-{ref}", cache_policy=NO_CACHE)
def pay_statement(tender_id: str, ref: str, payment_ref: str) -> tuple[statements_svc.PaymentOutcome | None, bool]:
    """Payment `payment_ref` of statement `ref`, asked of the financial system as the rehearsal asks it
    (`statements.request_payment`: the contract's code, budget line and expense factor, one payment
    key per statement, refusals recorded) once the statement is approved; None while it is not (in
    review, or no such statement: nothing is recorded, a later event asks again). A payment already
    attempted under `payment_ref`, or a statement already paid, is returned as stored: a second event
    never pays twice. Returns (the outcome or None, whether it was asked of the financial system now)."""
    from dataclasses import replace

    deps = current()
    with deps.uow() as uow:
        contract = uow.contracts.for_tender(tender_id)
        row = uow.statements.by_ref(contract.id, ref) if contract is not None else None
        if contract is None or row is None:
            return None, False
        done = uow.payments.attempt(payment_ref, [row.id])
        if done is None and uow.payments.paid(row.id):
            paid = next(p for p in uow.payments.for_statements([row.id]) if p.result == "paid")
            done = paid
        approved = row.result == APPROVED
    if done is not None:
        return statements_svc.PaymentOutcome(done.ref, done.result, done.reason, done.amount_rial), False
    if not approved:
        return None, False
    # The payment order is the event's (this statement, now, the contract's own code); the rest is the
    # rehearsal's path unchanged.
    order = contract_svc.PaymentOrder(payment_ref, ref, deps.clock.now())
    inputs = contract_svc.ContractInputs(contract_svc.ContractTerms("", "", ""), payments=(order,))
    return statements_svc.request_payment(replace(deps, contract_inputs=lambda _tender_id: inputs), tender_id,
                                          payment_ref), True
