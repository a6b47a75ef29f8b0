"""The rehearsal's contract, status statements and payments as production runs them (issue 13 part 6):
every approval and signature is made by a simulated person at their own station (their own token
directory and PIN, pilot.world), over the API in-process (pilot.stations), on the simulated clock;
the engine signs nothing for anyone.

    register_contract(world, tender_id, bidder)   the contract from the award to its code:
        the contracts officer opens it and enters the scenario's terms at their station (a scenario
        whose terms the station cannot carry, a stop stage, deduction overrides or income terms, is
        opened by the engine with them), the budget stage's finance enters the budget-allocation
        code, each stage's approver signs at their station;
        then the contract-progress flow publishes it (R21) and registers it in project control (R14)
    statements_and_payments(world, tender_id)     the scenario's statements and payments in time order:
        the contractor submits and signs each statement at its station, each signer of its path signs
        in turn; each payment order is asked of the financial system as the payment flow asks it

Raises what the API, the stations and the services raise, except the refusals a scenario rehearses
(they are stored and audited by the services, and the report reads them from the store).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.contract.statement import CONTRACTOR
from domain.contract.workflow import CONTRACTOR_SIGNATORY
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from services.contract import registries as registries_svc, statements as statements_svc
from services.contract.document import data_of
from services.contract.inputs import ContractTerms, inputs_for
from services.contract.registration import open_contract, registration_of, state as contract_state
from services.contract.requests import WASTE_KEYS, TermsEntry
from services.signers import COMPANY_SIGNATORY
from stations import contracts as contract_station

if TYPE_CHECKING:
    from pilot.world import World

PILOT = "pilot"
BUDGET_ALLOCATION_PREFIX = "TA"  # the rehearsal's budget-allocation code: TA-<budget line>


def register_contract(world: World, tender_id: str, bidder: str) -> dict[str, Any]:
    """Open the contract of `tender_id` for `bidder` with the scenario's terms (at the officer's station
    when it can carry them), then every stage
    approved at its approver's station up to the scenario's stop (or the first refusal, which the API
    stores and audits); once `final`, the contract-progress flow publishes it and registers it in
    project control. Returns the flow's result (`ContractState.to_dict` with `publication` and
    `project_control` once final)."""
    from flows.contract_registration import contract_progress_flow

    deps = world.deps
    terms = inputs_for(deps, tender_id).terms
    _expense_factor_approved(world, terms.expense_factor)
    if _enterable_at_station(terms):
        _budget_line_registered(world, terms.budget_line)
        _open_at_officer_station(world, tender_id, bidder, terms)
        state = contract_state(deps, tender_id)
    else:
        state = open_contract(deps, tender_id, bidder, terms)
    for stage in state.stages[:-1]:
        if state.stopped_at is not None or not _approve(world, tender_id, stage):
            break
        state = contract_state(deps, tender_id)
        if state.stage == stage:
            break
    return contract_progress_flow(tender_id)


def _enterable_at_station(terms: ContractTerms) -> bool:
    """Whether the officer's station can enter `terms` as they are: a rehearsal's stop stage, deduction
    rates overriding the policy and income terms (R30) have no field in the officer's terms entry, so
    such a scenario's contract is opened by the engine with its terms (the rehearsal's stand-in)."""
    return terms.stop_at_stage is None and not terms.deductions and terms.income is None


def _open_at_officer_station(world: World, tender_id: str, bidder: str, terms: ContractTerms) -> None:
    """The contracts officer opens the contract from the final minutes and enters the scenario's terms
    at their station, each a document signed on their token (issue 13 part 1). Raises what the API
    raises (INVALID_INPUT for a code or person not in the registries, WRONG_STAGE)."""
    unit = world.scenario.tender.unit
    waste = None if terms.waste is None else {k: int(getattr(terms.waste, k)) for k in WASTE_KEYS}
    with world.stations.person(world.staff["contracts_officer"], _opening_role(world, tender_id), unit) as officer:
        contract_station.open_contract(officer, tender_id, bidder)
        contract_station.enter_terms(officer, tender_id, TermsEntry(
            budget_line=terms.budget_line, expense_factor=terms.expense_factor, supervisor=terms.supervisor,
            waste=waste))


def _opening_role(world: World, tender_id: str) -> str:
    """The role that opens the contract and enters its terms: the first stage's (services.contract.at_stations)."""
    from services.contract.at_stations import opening_roles

    return opening_roles(world.deps, tender_id)[0][0]


def _budget_line_registered(world: World, code: str) -> None:
    """The scenario's budget line in the unit's budget-line registry (R29: the officer chooses it from
    there), mapped to the same general code: the rehearsal's stand-in for the budget office's registry.
    Idempotent."""
    if code.strip():
        registries_svc.add_budget_line(world.deps, world.scenario.tender.unit, code, code, code, PILOT)


def _expense_factor_approved(world: World, code: str) -> None:
    """The expense factor of the scenario's terms in its registry, approved by the financial system's
    committee (R29: the treasurer approves only an approved factor). Idempotent."""
    if not code.strip():
        return
    registries_svc.add_expense_factor(world.deps, code, code, PILOT)
    registries_svc.approve_expense_factor(world.deps, code, f"committee:{code}", PILOT)


def _approve(world: World, tender_id: str, stage: str) -> bool:
    """Each role the stage still waits for approves at their station; the budget stage's finance first
    enters the budget-allocation code. Returns False when a refusal stops the contract here."""
    for _ in range(8):  # a stage waits for at most a few co-signers
        with world.deps.uow() as uow:
            row = uow.contracts.for_tender(tender_id)
        assert row is not None  # opened just before
        if row.stage != stage:
            return True
        with world.deps.uow() as uow:
            reg = registration_of(world.deps, row, list(uow.contracts.approvals(row.id)))
        pending = reg.pending_roles()
        if not pending:
            return True
        role = pending[0]
        fields = reg.fields
        try:
            with world.stations.person(*_approver(world, row, reg, role)) as station:
                if "expense_factor" in reg.current.requires_fields and \
                        not str(fields.get("budget_allocation_code") or "").strip():
                    contract_station.enter_terms(station, tender_id, TermsEntry(
                        budget_allocation=f"{BUDGET_ALLOCATION_PREFIX}-{row.budget_line or tender_id}"))
                contract_station.approve_stage(station, tender_id, stage)
        except DomainError as exc:
            if _infrastructure(exc):
                raise
            return False  # refused at receipt: stored and audited by the API
    return True


def _infrastructure(exc: DomainError) -> bool:
    """A failure of the store or of a token, not a refusal a scenario rehearses."""
    return exc.reason is Reason.STORE_UNREACHABLE or exc.reason.value.startswith("TOKEN_")


def _approver(world: World, row: Any, reg: Any, role: str) -> tuple[str, str, str]:
    """(national id, role to log in as, unit) of who approves `role` of the current stage: the
    contractor's signatory for its company, the employer signatory named on the contract at signing,
    else the role's holder in the unit today (a principal with a token in this world)."""
    fields = reg.fields
    if role == CONTRACTOR_SIGNATORY:
        return str(fields.get("contractor_ceo") or ""), COMPANY_SIGNATORY, row.contractor_id
    signatories = fields.get("employer_signatories")
    if reg.current.contractor_signs and role == reg.current.role and signatories:
        return str(signatories[0]), role, row.unit_id
    return _holder(world, row.unit_id, role), role, row.unit_id


def _holder(world: World, unit: str, role: str) -> str:
    day = to_tehran(world.clock.now()).date()
    with world.deps.uow() as uow:
        holders = uow.roles.holders(unit, day, [role])
    signers = world.deps.signers
    found = [h for h in holders if h.alternate_for is None and h.national_id in signers] or list(holders)
    if not found:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"هیچ‌کس در سمت «{role}» واحد «{unit}» نیست")
    return found[0].national_id


# --- status statements and payments ----------------------------------------------------------------------
def statements_and_payments(world: World, tender_id: str) -> None:
    """The scenario's statements and payment orders at their times (a statement before a payment at
    the same moment): each statement submitted and signed at the contractor's station and then by each
    signer of its path at theirs; each payment order asked of the financial system as the payment flow
    asks it (services.contract.statements.request_payment: exactly once, refusals stored). A statement
    the contractor did not sign (scenario `signed_by_contractor = false`) never leaves its station: the
    engine records it refused (STATEMENT_NOT_SIGNED) as before. Then the statement-progress flow shows
    them to the operators."""
    from flows.status_statement import statement_progress_flow

    deps = world.deps
    inputs = inputs_for(deps, tender_id)
    requests = {s.ref: s for s in inputs.statements}
    last = None
    for at, kind, ref in statements_svc.timeline(deps, tender_id):
        if world.clock.now() < at:
            world.clock.set(at)
        if kind == "payment":
            statements_svc.request_payment(deps, tender_id, ref)
            continue
        last = ref
        req = requests[ref]
        if not req.signed_by_contractor:
            statements_svc.submit_statement(deps, tender_id, ref)  # refused unsigned; nothing signed
            continue
        _submit_and_sign(world, tender_id, ref, req)
    if last is not None:
        statement_progress_flow(tender_id, last)


def _submit_and_sign(world: World, tender_id: str, ref: str, req: Any) -> None:
    with world.deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    assert row is not None
    fields = data_of(row)["fields"]
    contractor = str(fields.get("contractor_ceo") or "")
    try:
        with world.stations.person(contractor, COMPANY_SIGNATORY, row.contractor_id) as station:
            view = contract_station.submit_statement(station, tender_id, ref, req.items, req.vehicles, req.workers)
    except DomainError as exc:
        if _infrastructure(exc):
            raise
        return  # refused at receipt (no code, not final, an income contract): stored by the engine
    for _ in range(8):  # the path: supervisor, employer's reviewer, (deputy), treasurer
        role = view.get("next_role")
        if role is None or role == CONTRACTOR:
            return
        nid = str(fields.get("supervisor") or "") if role == "supervisor" else _holder(world, row.unit_id, role)
        try:
            with world.stations.person(nid, role, row.unit_id) as station:
                view = contract_station.sign_statement(station, tender_id, ref)
        except DomainError as exc:
            if _infrastructure(exc):
                raise
            return  # a signer refused at their station (revoked, out of role): the statement waits in review


__all__ = ["register_contract", "statements_and_payments"]
