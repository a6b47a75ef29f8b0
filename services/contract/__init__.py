"""Contracts as the transactions system runs them, one module per step:

- `inputs`: terms, status statements and payment orders supplied for a tender's contract;
- `award`: what the final Article 13 minutes award (amount, contractor, commission);
- `registration`: the workflow from `draft` to `final`, where the contract code is issued (R12, R13);
- `document`: the canonical contract XML and its token signatures;
- `publication`: the transparency site (R21) and project control (R14), fetching by code;
- `at_stations`, `requests`, `registries`: the same steps with every person at their own station
  (issue 13): signed requests verified at receipt, the budget-line and expense-factor registries (R29).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from domain.contract.workflow import FINAL
from services.lazy import lazy_exports

if TYPE_CHECKING:
    from services.contract.award import Award, award_for, coefficient_from_prices
    from services.contract.document import DOC_KIND, NS, contract_document, data_of, signed_xml
    from services.contract.inputs import ContractInputs, ContractTerms, PaymentOrder, StatementRequest, inputs_for
    from services.contract.publication import (
        Approval,
        ProjectControlOutcome,
        PublicationOutcome,
        approvals,
        publication_data,
        publish_contract,
        register_in_project_control,
    )
    from services.contract.registration import (
        ContractState,
        approval_key,
        approve_stage,
        contract_role_check,
        next_contract_code,
        open_contract,
        register_without_workflow,
        registration_of,
        stages_for,
        state,
    )

_HOMES = {
    "award": ("Award", "award_for", "coefficient_from_prices"),
    "document": ("DOC_KIND", "NS", "contract_document", "data_of", "signed_xml"),
    "inputs": ("ContractInputs", "ContractTerms", "PaymentOrder", "StatementRequest", "inputs_for"),
    "publication": (
        "Approval", "ProjectControlOutcome", "PublicationOutcome", "approvals", "publication_data",
        "publish_contract", "register_in_project_control",
    ),
    "registration": (
        "ContractState", "approval_key", "approve_stage", "contract_role_check", "next_contract_code",
        "open_contract", "register_without_workflow", "registration_of", "stages_for", "state",
    ),
}
lazy_exports(__name__, _HOMES)

__all__ = [
    "DOC_KIND", "FINAL", "NS", "Approval", "Award", "ProjectControlOutcome", "PublicationOutcome", "ContractInputs", "ContractState", "ContractTerms", "PaymentOrder",
    "StatementRequest", "approval_key", "approvals", "approve_stage", "award_for", "coefficient_from_prices",
    "contract_document", "contract_role_check", "data_of", "inputs_for", "next_contract_code", "open_contract",
    "publication_data", "publish_contract", "register_in_project_control", "register_without_workflow",
    "registration_of", "signed_xml", "stages_for", "state",
]
