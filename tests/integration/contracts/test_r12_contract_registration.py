"""R12: every contract is registered with workflow and gets its code only at the end of it."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from contract_runs import scenario_estimate, use_world
from sqlalchemy import func, select

from domain.contract.code import parse_contract_code
from domain.money import apply_rate
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from services import contract as contract_svc
from services.signers import trust_store
from signing.verify import verify_document
from store import models as m
from store.audit import iter_entries, verify_chain


def _contract(run):
    with run.world.deps.uow() as uow:
        row = uow.contracts.for_tender(run.tender_id)
        return row, list(uow.contracts.approvals(row.id))


def test_r12_contract_amount_is_the_signed_bidders_price_from_the_minutes(district12):
    sc = district12.world.scenario
    winner = next(b for b in sc.bidders if b.id == district12.report["contract"]["bidder"])
    expected = apply_rate(scenario_estimate(sc), winner.price.coefficient)
    assert district12.report["contract"]["bidder"] == "b3" == district12.report["winner"]
    assert district12.report["contract"]["amount_rial"] == expected == 12_967_500_000
    row, _ = _contract(district12)
    assert Decimal(json.loads(row.data_json)["price"]["coefficient"]) == Decimal("0.95")
    assert row.threshold_class == "large"  # above the 1400 medium maximum of 10 billion rials


def test_r12_each_policy_stage_is_approved_by_the_role_holder_and_the_code_comes_at_final(district12):
    world = district12.world
    row, approvals = _contract(district12)
    members = {mm.role: mm.national_id for mm in world.scenario.commission}
    expected = [("draft", "contracts_officer", world.staff["contracts_officer"]),
                ("legal_review", "legal", members["legal"]),
                ("budget", "finance", members["finance"]),
                ("treasurer", "treasurer", world.staff["treasurer"]),
                ("signing", "chair", members["chair"]),
                ("signing/contractor_signatory", "contractor_signatory", world.bidder_signatory["b3"])]
    assert [(a.stage, a.role, a.approver_national_id) for a in approvals] == expected
    # every stage approved at its holder's station, each a signed stage document (issue 13 part 6)
    assert all(a.signature_ref and a.signature_ref.startswith("contract-stage:") for a in approvals), approvals
    assert row.stage == "final" and district12.report["contract"]["status"] == "final"
    unit_code, year, seq = parse_contract_code(district12.report["contract"]["code"])
    assert (unit_code, year, seq) == ("12", 1400, 1)
    with world.deps.uow() as uow:
        final_at = [e.at for e in uow.session.scalars(select(m.AuditEntry).where(
            m.AuditEntry.entity_id == row.tracking_number, m.AuditEntry.action == "contract.final"))]
    assert final_at == [row.concluded_at]
    assert to_tehran(row.concluded_at) >= to_tehran(approvals[-2].approved_at)


def test_r12_contract_document_carries_verified_token_signatures(district12):
    """Each approval is a document signed at the approver's station over the SHA-256 of the contract's
    exact bytes as that approver saw them; every one verifies (chain, CRL, the role in the unit or
    company) and names those bytes."""
    import base64
    import hashlib

    from domain.documents.xmlcommon import body_digest
    from domain.xmlsafe import parse_untrusted

    world = district12.world
    row, _ = _contract(district12)
    stages = json.loads(row.data_json)["stage_documents"]
    chair = next(mm.national_id for mm in world.scenario.commission if mm.role == "chair")
    members = {mm.role: mm.national_id for mm in world.scenario.commission}
    signed = []
    for stage in stages:
        xml = base64.b64decode(stage["xml_b64"])
        [check] = verify_document(xml, trust_store(world.deps.ca_cert, world.deps.sessions), world.deps.role_check)
        assert check.valid and hashlib.sha256(xml).hexdigest() == stage["sha256"]
        approved = parse_untrusted(base64.b64decode(stage["contract_b64"]))  # the text this approver saw
        assert f'sha256="{body_digest(approved)}"'.encode() in xml  # its canonical body's SHA-256
        signed.append((check.role, check.unit, check.national_id))
    assert signed == [("contracts_officer", "district-12", world.staff["contracts_officer"]),
                      ("legal", "district-12", members["legal"]), ("finance", "district-12", members["finance"]),
                      ("treasurer", "district-12", world.staff["treasurer"]), ("chair", "district-12", chair),
                      ("company_signatory", row.contractor_id, world.bidder_signatory["b3"])]


def test_r12_stop_at_stage_leaves_the_contract_without_a_code(stopped):
    report = stopped.report
    assert report["contract"]["status"] == "treasurer" and report["contract"]["code"] is None
    row, approvals = _contract(stopped)
    assert row.code is None and [a.stage for a in approvals] == ["draft", "legal_review", "budget"]
    assert report["publication"] is None
    assert {s["reason"] for s in report["status_statements"].values()} == {"NO_CONTRACT_CODE"}
    assert report["payments"] == {p.id: {"result": "refused", "reason": "NO_CONTRACT_CODE"}
                                  for p in stopped.world.scenario.payments}


def test_r12_registration_without_workflow_is_refused_where_the_calendar_disables_it(district12):
    world = district12.world
    day = to_tehran(world.clock.now()).date()
    assert world.policy.rule("registration_without_workflow_disabled", "district-12", day)
    from pilot.contract_world import inputs_from_scenario as inputs_of

    with pytest.raises(DomainError) as err:
        contract_svc.register_without_workflow(world.deps, district12.tender_id, "b3",
                                               inputs_of(world.scenario).terms)
    assert err.value.reason is Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED
    with world.deps.uow() as uow:
        refusals = uow.session.scalars(select(m.AuditEntry).where(
            m.AuditEntry.action == "contract.registration_refused")).all()
    assert [r.reason for r in refusals] == ["REGISTRATION_WITHOUT_WORKFLOW_DISABLED"]


def test_r12_rerunning_the_flows_neither_approves_nor_pays_twice(district12):
    from flows.contract_registration import contract_registration_flow
    from flows.status_statement import statements_and_payments_flow

    world = district12.world

    def counts():
        with world.deps.uow() as uow:
            return (uow.session.scalar(select(func.count()).select_from(m.ContractApproval)),
                    uow.session.scalar(select(func.count()).select_from(m.Contract).where(m.Contract.code.is_not(None))),
                    uow.session.scalar(select(func.count()).select_from(m.SignatureRow)),
                    uow.session.scalar(select(func.count()).select_from(m.Payment)),
                    uow.session.scalar(select(func.count()).select_from(m.AuditEntry).where(
                        m.AuditEntry.action.in_(["contract.approved", "statement.signed", "payment.paid"]))))

    before = counts()
    paid_before = world.stubs["financial"].payments()
    with use_world(district12):
        state = contract_registration_flow(district12.tender_id, "b3")
        again = statements_and_payments_flow(district12.tender_id)
    assert state["code"] == district12.report["contract"]["code"] and state["stage"] == "final"
    assert counts() == before
    assert world.stubs["financial"].payments() == paid_before
    assert {k: v["result"] for k, v in again["payments"].items()} == \
        {k: v["result"] for k, v in district12.report["payments"].items()}
    with world.deps.uow() as uow:
        chain = verify_chain(iter_entries(uow.session))
    assert chain.ok and chain.entries > 0


def test_r12_each_rehearsal_takes_contract_inputs_and_stubs_from_its_own_world(district12, district2):
    from services.deps import current, use

    deps, other = district12.world.deps, district2.world.deps
    assert contract_svc.inputs_for(deps, district12.tender_id).terms.budget_line == \
        district12.world.scenario.contract.budget_line
    # Same database: the wired financial system sees what this world's run paid.
    assert [p.amount_rial for p in deps.financial.payments()] == \
        [p.amount_rial for p in district12.world.stubs["financial"].payments()]
    with pytest.raises(DomainError):
        contract_svc.inputs_for(deps, district2.tender_id)
    assert other is not deps and other.financial is not deps.financial
    assert contract_svc.inputs_for(other, district2.tender_id).terms.waste.min_vehicles == 14
    with use(deps):
        with use(other):
            assert current() is other
        assert current() is deps
