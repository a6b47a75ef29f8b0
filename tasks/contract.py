"""Thin Prefect tasks over services.contract; dependencies come from the process's container.

No task result caching: the store is the source of truth and every step is idempotent against
it, so a retry re-reads state instead of trusting a cached value."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

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
