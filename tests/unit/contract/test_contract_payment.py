"""R13, R14, R20 (payment gate) and R17 (statement approval chain), with both scenarios' payments."""
from __future__ import annotations

from decimal import Decimal

import pytest
from contract_helpers import Ledger, load_scenario, national_id, policy_terms

from domain.contract.approval_chain import StatementApprovalChain
from domain.contract.code import make_contract_code
from domain.contract.payment import ContractView, StatementView, check_contract_usable, check_payment, payment_key
from domain.contract.roles import Act
from domain.contract.statement import (
    StatementInput,
    WasteTerms,
    compute_statement,
)
from domain.persian import parse_jalali_datetime as at
from domain.reasons import DomainError, Reason

CODE = make_contract_code("12", 1400, 1)
FINAL_CONTRACT = ContractView(CODE, "final")
OK_STATEMENT = StatementView("s1", "approved", True, True)


def refusal(**overrides):
    args = dict(contract=FINAL_CONTRACT, statement=OK_STATEMENT, budget_line="1400-12-30201-034",
                expense_factor="EF-12-ROAD", already_paid=False)
    args.update(overrides)
    with pytest.raises(DomainError) as err:
        check_payment(**args)
    return err.value.reason


def test_r13_payment_without_contract_code_is_refused():
    assert refusal(contract=ContractView("", "final")) is Reason.NO_CONTRACT_CODE
    assert refusal(contract=ContractView(None, "signing")) is Reason.NO_CONTRACT_CODE


def test_r13_payment_before_every_registration_stage_is_complete_is_refused():
    for stage in ("draft", "legal_review", "budget", "treasurer", "signing"):
        assert refusal(contract=ContractView(CODE, stage)) is Reason.CONTRACT_NOT_FINAL


def test_r14_statement_of_a_contract_not_at_the_end_of_its_workflow_is_refused_before_anything_else():
    # Nothing about the statement is even looked at for a contract without code or not final.
    bad_statement = StatementView("s9", "halted", False, False)
    assert refusal(contract=ContractView(" ", "draft"), statement=bad_statement, budget_line="",
                   expense_factor="", already_paid=True) is Reason.NO_CONTRACT_CODE
    assert refusal(contract=ContractView(CODE, "budget"), statement=bad_statement,
                   already_paid=True) is Reason.CONTRACT_NOT_FINAL


def test_r18_only_approved_and_treasurer_signed_statements_are_paid():
    assert refusal(statement=StatementView("s2", "halted", False, False)) is Reason.STATEMENT_NOT_APPROVED
    assert refusal(statement=StatementView("s2", "refused", True, True)) is Reason.STATEMENT_NOT_APPROVED
    assert refusal(statement=StatementView("s2", "approved", False, False)) is Reason.STATEMENT_NOT_SIGNED


def test_r17_contractor_and_treasurer_must_both_have_signed():
    assert refusal(statement=StatementView("s2", "approved", True, False)) is Reason.STATEMENT_NOT_SIGNED
    assert refusal(statement=StatementView("s2", "approved", False, True)) is Reason.STATEMENT_NOT_SIGNED


def test_r14_contract_part_of_the_gate_alone():
    check_contract_usable(CODE, "final")
    for code, stage, reason in ((None, "final", Reason.NO_CONTRACT_CODE), ("  ", "draft", Reason.NO_CONTRACT_CODE),
                                (CODE, "signing", Reason.CONTRACT_NOT_FINAL)):
        with pytest.raises(DomainError) as err:
            check_contract_usable(code, stage)
        assert err.value.reason is reason


def test_r20_budget_line_and_expense_factor_are_mandatory():
    assert refusal(budget_line="") is Reason.BUDGET_LINE_MISSING
    assert refusal(budget_line=None, expense_factor=None) is Reason.BUDGET_LINE_MISSING
    assert refusal(expense_factor="  ") is Reason.EXPENSE_FACTOR_MISSING


def test_r18_second_payment_of_a_statement_is_duplicate():
    check_payment(FINAL_CONTRACT, OK_STATEMENT, "1400-12-30201-034", "EF-12-ROAD", already_paid=False)
    assert refusal(already_paid=True) is Reason.DUPLICATE_PAYMENT


def test_r18_payment_key_collides_for_the_same_statement_only():
    assert payment_key(CODE, "s1") == payment_key(CODE.lower(), " s1 ")
    assert payment_key(CODE, "s1") != payment_key(CODE, "s2")
    assert payment_key(CODE, "s1") != payment_key(make_contract_code("12", 1400, 2), "s1")
    assert payment_key("A-1", "2") != payment_key("A", "1-2")
    assert len(payment_key(CODE, "s1")) == 64 and int(payment_key(CODE, "s1"), 16) >= 0


# --- R17: the approval chain --------------------------------------------------------------------------
UNIT = "district-12"
COMPANY = "84268465631"
CONTRACTOR = national_id("012345678")
SUPERVISOR = "5432319489"
REVIEWER = national_id("334455667")
DEPUTY = national_id("445566778")
TREASURER = national_id("223344556")


PEOPLE = {"contractor": (CONTRACTOR, COMPANY), "supervisor": (SUPERVISOR, UNIT),
          "employer_reviewer": (REVIEWER, UNIT), "deputy": (DEPUTY, UNIT), "treasurer": (TREASURER, UNIT)}


@pytest.fixture
def chain_roles(roles):
    for role, (nid, scope) in PEOPLE.items():
        roles.grant(nid, role, scope)
    return roles


def sign_all(chain, roles, day):
    for hour, role in enumerate(chain.path, start=8):
        nid, unit = PEOPLE[role]
        chain.sign(Act(nid, role, unit, at(f"{day} {hour:02d}:00"), f"sig-{chain.statement_id}-{role}"), roles)


def approved_result(**waste):
    terms = policy_terms(10_000_000, coefficient="1", waste=WasteTerms(2, 2, 10, 10) if waste else None)
    return compute_statement(StatementInput("s1", {"a": 10}, True, **waste), terms, {"a": 100_000})


def test_r17_chain_runs_in_order_and_ends_with_the_treasurer(chain_roles):
    chain = StatementApprovalChain.for_result(approved_result(), UNIT, COMPANY)
    assert chain.next_role == "contractor" and not chain.view().treasurer_signed
    with pytest.raises(DomainError) as early:
        chain.sign(Act(TREASURER, "treasurer", UNIT, at("1400/06/02 08:00"), "sig"), chain_roles)
    assert early.value.reason is Reason.WRONG_STAGE
    sign_all(chain, chain_roles, "1400/06/02")
    assert chain.complete and chain.view() == StatementView("s1", "approved", True, True)
    assert [s.role for s in chain.steps] == ["contractor", "supervisor", "employer_reviewer", "treasurer"]
    with pytest.raises(DomainError) as again:
        chain.sign(Act(TREASURER, "treasurer", UNIT, at("1400/06/03 08:00"), "sig"), chain_roles)
    assert again.value.reason is Reason.WRONG_STAGE


def test_r17_each_step_needs_the_role_and_an_electronic_signature(chain_roles):
    chain = StatementApprovalChain.for_result(approved_result(), UNIT, COMPANY)
    with pytest.raises(DomainError) as unsigned:
        chain.sign(Act(CONTRACTOR, "contractor", COMPANY, at("1400/06/02 08:00"), None), chain_roles)
    assert unsigned.value.reason is Reason.STATEMENT_NOT_SIGNED
    with pytest.raises(DomainError) as impostor:
        chain.sign(Act(REVIEWER, "contractor", COMPANY, at("1400/06/02 08:00"), "sig"), chain_roles)
    assert impostor.value.reason is Reason.SIGNER_NOT_IN_ROLE
    with pytest.raises(DomainError) as outsider_role:
        chain.sign(Act(REVIEWER, "mayor", UNIT, at("1400/06/02 08:00"), "sig"), chain_roles)
    assert outsider_role.value.reason is Reason.SIGNER_NOT_IN_ROLE
    assert chain.steps == []


def test_r18_stricter_path_needs_the_extra_approver(chain_roles):
    result = approved_result(vehicles=1, workers=2)
    assert result.penalty_rial == 10
    chain = StatementApprovalChain.for_result(result, UNIT, COMPANY)
    for role in ("contractor", "supervisor", "employer_reviewer"):
        nid, unit = PEOPLE[role]
        chain.sign(Act(nid, role, unit, at("1400/06/02 09:00"), "sig"), chain_roles)
    with pytest.raises(DomainError) as skipped:
        chain.sign(Act(TREASURER, "treasurer", UNIT, at("1400/06/02 10:00"), "sig"), chain_roles)
    assert skipped.value.reason is Reason.WRONG_STAGE
    assert chain.next_role == "deputy"


def test_r18_halted_statement_has_no_approval_chain():
    terms = policy_terms(10_000_000, coefficient="1", waste=WasteTerms(2, 2, 10, 10))
    halted = compute_statement(StatementInput("s2", {"a": 1}, True), terms, {"a": 1})
    with pytest.raises(DomainError) as err:
        StatementApprovalChain.for_result(halted, UNIT, COMPANY)
    assert err.value.reason is Reason.STATEMENT_NOT_APPROVED


# --- the scenarios' payments, end to end in the domain --------------------------------------------------
def run_payments(scn, terms, chain_roles, code):
    prices = {i["code"]: i["unit_price"] for i in scn["price_list"]["items"]}
    ledger = Ledger(terms, prices)
    views = {}
    for raw in scn["status_statements"]:
        r = ledger.submit(StatementInput(raw["id"], raw["items"], raw.get("signed_by_contractor", True),
                                         raw.get("vehicles"), raw.get("workers")))
        if r.result == "approved":
            chain = StatementApprovalChain.for_result(r, UNIT, COMPANY)
            sign_all(chain, chain_roles, raw["at"].split()[0])
            views[r.id] = chain.view()
        else:
            views[r.id] = StatementView(r.id, r.result, False, False)
    paid: set[str] = set()
    outcome = {}
    c = scn["contract"]
    for p in scn["payments"]:
        literal = p.get("contract_code", "from-award")
        contract = ContractView(code if literal == "from-award" else literal, "final")
        key = payment_key(contract.code or "", p["statement"])
        try:
            check_payment(contract, views[p["statement"]], c["budget_line"], c["expense_factor"], key in paid)
        except DomainError as exc:
            outcome[p["id"]] = ("refused", exc.reason.value)
        else:
            paid.add(key)
            outcome[p["id"]] = ("paid", None)
    return outcome


def test_r13_district12_payments(chain_roles):
    scn = load_scenario("district-12-asphalt.toml")
    terms = policy_terms(12_967_500_000, coefficient=Decimal("0.95"))
    assert run_payments(scn, terms, chain_roles, CODE) == {
        "p1": ("paid", None),
        "p2": ("refused", "DUPLICATE_PAYMENT"),     # s1 again
        "p3": ("refused", "NO_CONTRACT_CODE"),      # contract_code = ""
    }


def test_r18_district2_payments(chain_roles):
    scn = load_scenario("district-2-waste-two-stage.toml")
    c = scn["contract"]
    terms = policy_terms(24_402_000_000, coefficient=Decimal("0.98"),
                           waste=WasteTerms(c["min_vehicles"], c["min_workers"],
                                            c["penalty_per_missing_vehicle_rial"], c["penalty_per_missing_worker_rial"]))
    assert run_payments(scn, terms, chain_roles, make_contract_code("02", 1400, 1)) == {
        "p1": ("paid", None),
        "p2": ("refused", "STATEMENT_NOT_APPROVED"),  # s2 halted: no vehicles/workers reported
        "p3": ("paid", None),                         # s3 went down the stricter path, deputy included
    }


def test_r13_refusals_come_in_the_documented_order():
    # Start with every fault present; repair one at a time and watch the next reason surface.
    args = dict(contract=ContractView("", "signing"), statement=StatementView("s1", "halted", False, False),
                budget_line="", expense_factor="", already_paid=True)
    repairs = [("contract", ContractView(CODE, "signing")), ("contract", FINAL_CONTRACT),
               ("statement", StatementView("s1", "approved", False, False)), ("statement", OK_STATEMENT),
               ("budget_line", "1400-12-30201-034"), ("expense_factor", "EF-12-ROAD"), ("already_paid", False)]
    seen = []
    for key, value in repairs:
        with pytest.raises(DomainError) as err:
            check_payment(**args)
        seen.append(err.value.reason.value)
        args[key] = value
    check_payment(**args)
    assert seen == ["NO_CONTRACT_CODE", "CONTRACT_NOT_FINAL", "STATEMENT_NOT_APPROVED", "STATEMENT_NOT_SIGNED",
                    "BUDGET_LINE_MISSING", "EXPENSE_FACTOR_MISSING", "DUPLICATE_PAYMENT"]
