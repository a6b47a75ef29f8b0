"""Thin Prefect tasks over services.contract and services.statements.

No task result caching: the store is the source of truth and every step is idempotent against
it, so a retry re-reads state instead of trusting a cached value."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from services import bootstrap, contract as contract_svc, statements as statements_svc


@task(name="open-contract", cache_policy=NO_CACHE)
def open_contract(tender_id: str, bidder: str) -> dict:
    terms = contract_svc.context().inputs(tender_id).terms
    return contract_svc.open_contract(bootstrap.current(), tender_id, bidder, terms).to_dict()


@task(name="approve-contract-stage", task_run_name="approve-{stage}", cache_policy=NO_CACHE)
def approve_stage(tender_id: str, stage: str) -> dict:
    return contract_svc.approve_stage(bootstrap.current(), tender_id, stage).to_dict()


@task(name="publish-contract", cache_policy=NO_CACHE)
def publish_contract(tender_id: str) -> dict:
    return contract_svc.publish_contract(bootstrap.current(), tender_id, contract_svc.context().publisher)


@task(name="register-in-project-control", cache_policy=NO_CACHE)
def register_in_project_control(tender_id: str) -> dict:
    return contract_svc.register_in_project_control(bootstrap.current(), tender_id,
                                                    contract_svc.context().project_control)


@task(name="status-statement", task_run_name="statement-{ref}", cache_policy=NO_CACHE)
def review_statement(tender_id: str, ref: str) -> dict:
    return statements_svc.submit_statement(bootstrap.current(), contract_svc.context(), tender_id, ref).to_dict()


@task(name="payment-request", task_run_name="payment-{ref}", cache_policy=NO_CACHE)
def request_payment(tender_id: str, ref: str) -> dict:
    return statements_svc.request_payment(bootstrap.current(), contract_svc.context(), tender_id, ref).to_dict()
