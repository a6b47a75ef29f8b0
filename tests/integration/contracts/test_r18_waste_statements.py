"""R18: statements are paid only from this system's data; waste statements halt without
resources and take a penalty and a stricter path below the minimums."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from contract_runs import cumulative, payable, scenario_estimate

from domain.money import apply_rate
from services.signers import trust_store
from signing.verify import verify_document


def test_r18_district2_report(district2):
    sc = district2.world.scenario
    assert district2.report["winner"] == "b1" == district2.report["contract"]["bidder"]
    assert district2.report["contract"]["amount_rial"] == apply_rate(scenario_estimate(sc), Decimal("0.98"))
    s1, s2, s3 = sc.status_statements
    c1, c3 = cumulative(sc, s1, Decimal("0.98")), cumulative(sc, s3, Decimal("0.98"))
    penalty = (14 - 12) * 15_000_000 + (60 - 55) * 4_000_000
    assert district2.report["status_statements"] == {
        "s1": {"result": "approved", "payable_rial": payable(c1), "reason": None},
        "s2": {"result": "halted", "payable_rial": None, "reason": "RESOURCES_NOT_REPORTED"},
        "s3": {"result": "approved", "payable_rial": payable(c3 - c1, penalty), "reason": None},
    }
    assert district2.report["payments"] == {"p1": {"result": "paid", "reason": None},
                                            "p2": {"result": "refused", "reason": "STATEMENT_NOT_APPROVED"},
                                            "p3": {"result": "paid", "reason": None}}


def test_r18_below_minimums_takes_the_stricter_path(district2):
    world = district2.world
    with world.deps.uow() as uow:
        contract = uow.contracts.for_tender(district2.tender_id)
        rows = {s.ref: s for s in uow.statements.for_contract(contract.id)}
    trust = trust_store(world.deps.ca_cert, world.deps.sessions)
    roles = {ref: [c.role for c in verify_document(r.xml, trust, world.deps.role_check) if c.valid]
             for ref, r in rows.items()}
    assert roles["s1"] == ["company_signatory", "supervisor", "employer_reviewer", "treasurer"]
    assert roles["s2"] == ["company_signatory"]  # halted after the contractor signed
    assert roles["s3"] == ["company_signatory", "supervisor", "employer_reviewer", "deputy", "treasurer"]
    assert rows["s3"].penalty_rial == 50_000_000 and rows["s1"].penalty_rial == 0


def test_r18_payments_are_the_signed_statements_amounts(district2):
    world = district2.world
    with world.deps.uow() as uow:
        contract = uow.contracts.for_tender(district2.tender_id)
        rows = {s.ref: s for s in uow.statements.for_contract(contract.id)}
    paid = {p.statement_id.rsplit("/", 1)[-1]: p for p in world.stubs["financial"].payments()}
    assert sorted(paid) == ["s1", "s3"]
    for ref, p in paid.items():
        assert p.amount_rial == rows[ref].payable_rial
        assert p.statement_xml_sha256 == hashlib.sha256(rows[ref].xml).hexdigest()
