"""R17: contractors sign their statements electronically; the standard chain approves them."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from contract_runs import cumulative, payable

from domain.persian import parse_jalali_datetime
from services import contract as contract_svc
from services.contract import PaymentOrder, StatementRequest, statements as statements_svc
from services.signers import trust_store
from signing.verify import verify_document


def _rows(run):
    with run.world.deps.uow() as uow:
        contract = uow.contracts.for_tender(run.tender_id)
        return contract, {s.ref: s for s in uow.statements.for_contract(contract.id)}


def test_r17_district12_statements_are_cumulative_with_deductions(district12):
    sc = district12.world.scenario
    s1, s2 = sc.status_statements
    c1 = cumulative(sc, s1, Decimal("0.95"))
    c2 = cumulative(sc, s2, Decimal("0.95"))
    assert c1 == (3000 * 1_250_000 + 1500 * 480_000) * 95 // 100
    assert district12.report["status_statements"] == {
        "s1": {"result": "approved", "payable_rial": payable(c1), "reason": None},
        "s2": {"result": "approved", "payable_rial": payable(c2 - c1), "reason": None},
    }
    _, rows = _rows(district12)
    assert (rows["s1"].cumulative_rial, rows["s1"].gross_rial) == (c1, c1)
    assert (rows["s2"].cumulative_rial, rows["s2"].gross_rial) == (c2, c2 - c1)


def test_r17_contractor_signs_first_then_the_standard_chain(district12):
    world = district12.world
    contract, rows = _rows(district12)
    trust = trust_store(world.deps.ca_cert, world.deps.sessions)
    checks = verify_document(rows["s1"].xml, trust, world.deps.role_check)
    assert all(c.valid for c in checks)
    assert [c.role for c in checks] == ["company_signatory", "supervisor", "employer_reviewer", "treasurer"]
    assert [c.national_id for c in checks] == [world.bidder_signatory["b3"], world.scenario.contract.supervisor,
                                               world.staff["employer_reviewer"], world.staff["treasurer"]]
    assert checks[0].unit == contract.contractor_id


def test_r17_statement_beyond_contract_plus_allowed_change_is_refused(district12):
    world = district12.world
    base = contract_svc.inputs_for(world.deps, district12.tender_id)
    at = parse_jalali_datetime("1400/07/20 10:00")
    big = StatementRequest("s9", at, (("010101", Decimal(20000)),))
    unsigned = StatementRequest("s10", at + timedelta(hours=1), (("010101", Decimal(7000)),),
                                signed_by_contractor=False)
    pay = PaymentOrder("p9", "s9", at + timedelta(days=1))
    extended = replace(world.deps, contract_inputs=lambda tid: replace(base, statements=base.statements + (big, unsigned),
                                                       payments=base.payments + (pay,)))
    contract, _ = _rows(district12)
    assert 20000 * 1_250_000 * Decimal("0.95") > contract.amount_rial * Decimal("1.25")
    world.clock.set(at)
    outcome = statements_svc.submit_statement(extended, district12.tender_id, "s9")
    assert (outcome.result, outcome.reason, outcome.payable_rial) == ("refused", "STATEMENT_EXCEEDS_CONTRACT", None)
    assert outcome.signers == ("contractor",)  # the contractor signed; nobody approved
    world.clock.set(at + timedelta(hours=1))
    unsigned_outcome = statements_svc.submit_statement(extended, district12.tender_id, "s10")
    assert (unsigned_outcome.result, unsigned_outcome.reason) == ("refused", "STATEMENT_NOT_SIGNED")
    world.clock.set(at + timedelta(days=1))
    paid = statements_svc.request_payment(extended, district12.tender_id, "p9")
    assert (paid.result, paid.reason) == ("refused", "STATEMENT_NOT_APPROVED")
