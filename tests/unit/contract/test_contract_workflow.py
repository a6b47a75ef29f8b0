"""R12: registration with workflow as a state machine; R13: the code only after every stage; R20."""
from __future__ import annotations

import pytest
from contract_helpers import STAGES, memory_codes, national_id

from domain.contract.code import validate_contract_code
from domain.contract.roles import Act
from domain.contract.workflow import (
    CONTRACTOR_SIGNATORY,
    FINAL,
    ContractRegistration,
    StageDef,
    stages_from_policy,
)
from domain.persian import parse_jalali_datetime as at
from domain.reasons import DomainError, Reason

UNIT = "district-12"
COMPANY = "84268465631"
OFFICER = national_id("123456780")
LEGAL = "9960308243"
FINANCE = "0830166130"
TREASURER = national_id("223344556")
CHAIR = "5260181591"
CONTRACTOR_SIGNER = national_id("012345678")


@pytest.fixture
def people(roles):
    roles.grant(OFFICER, "contracts_officer", UNIT)
    roles.grant(LEGAL, "legal", UNIT)
    roles.grant(FINANCE, "finance", UNIT)
    roles.grant(TREASURER, "treasurer", UNIT)
    roles.grant(CHAIR, "chair", UNIT)
    roles.grant(CONTRACTOR_SIGNER, CONTRACTOR_SIGNATORY, COMPANY)
    return roles


@pytest.fixture
def codes():
    return memory_codes({UNIT: "12"})


@pytest.fixture
def contract(general_fields):
    return ContractRegistration.open("TRK-1400-0042", UNIT, "general", general_fields, STAGES)


def act(nid, role, when, unit=UNIT, sig=None):
    return Act(nid, role, unit, at(when), sig)


def run_to(reg, stop_before, roles, codes):
    """Approve the default stages in order until the contract is in stage stop_before."""
    steps = {
        "draft": [act(OFFICER, "contracts_officer", "1400/04/25 09:00")],
        "legal_review": [act(LEGAL, "legal", "1400/04/25 11:00")],
        "budget": [act(FINANCE, "finance", "1400/04/26 09:00")],
        "treasurer": [act(TREASURER, "treasurer", "1400/04/26 12:00", sig="sig-treasurer-1")],
        "signing": [act(CHAIR, "chair", "1400/04/27 10:00", sig="sig-chair-1"),
                    act(CONTRACTOR_SIGNER, CONTRACTOR_SIGNATORY, "1400/04/27 11:00", unit=COMPANY, sig="sig-ctr-1")],
    }
    while reg.stage != stop_before:
        for a in steps[reg.stage]:
            reg.approve(reg.stage, a, roles, codes)


def test_r12_default_stages_are_the_documented_order():
    assert [s.name for s in STAGES] == ["draft", "legal_review", "budget", "treasurer", "signing", "final"]
    signed = {s.name for s in STAGES if s.needs_token_signature}
    assert signed == {"treasurer", "signing"}
    assert next(s for s in STAGES if s.name == "budget").requires_fields == ("budget_line", "expense_factor")


def test_r12_contract_has_tracking_number_and_no_code_until_final(contract, people, codes):
    seen = []
    for stage in ["legal_review", "budget", "treasurer", "signing"]:
        run_to(contract, stage, people, codes)
        seen.append((contract.stage, contract.code))
    assert seen == [("legal_review", None), ("budget", None), ("treasurer", None), ("signing", None)]
    assert contract.tracking_number == "TRK-1400-0042"
    run_to(contract, FINAL, people, codes)
    assert contract.is_final
    # First code of district 12 (unit code "12") in Jalali 1400, check character valid.
    assert contract.code.startswith("12-1400-000001-")
    assert validate_contract_code(contract.code) == contract.code
    assert [e.stage for e in contract.history] == ["draft", "legal_review", "budget", "treasurer", "signing", "signing"]


def test_r12_each_approval_is_checked_against_the_role_registry(contract, people, codes):
    stranger = national_id("555666777")
    with pytest.raises(DomainError) as err:
        contract.approve("draft", act(stranger, "contracts_officer", "1400/04/25 09:00"), people, codes)
    assert err.value.reason is Reason.SIGNER_NOT_IN_ROLE
    assert people.calls[-1][:3] == (stranger, "contracts_officer", UNIT)
    assert contract.stage == "draft" and contract.history == []


def test_r12_role_held_in_another_unit_or_after_leaving_post_does_not_count(contract, roles, codes):
    roles.grant(OFFICER, "contracts_officer", "district-2")
    roles.grant(LEGAL, "contracts_officer", UNIT, start="1399/01/01", until="1400/04/01")
    with pytest.raises(DomainError) as other_unit:
        contract.approve("draft", act(OFFICER, "contracts_officer", "1400/04/25 09:00"), roles, codes)
    with pytest.raises(DomainError) as left_post:
        contract.approve("draft", act(LEGAL, "contracts_officer", "1400/04/25 09:00"), roles, codes)
    with pytest.raises(DomainError) as unit_mismatch:
        contract.approve("draft", act(OFFICER, "contracts_officer", "1400/04/25 09:00", unit="district-2"),
                         roles, codes)
    assert {other_unit.value.reason, left_post.value.reason, unit_mismatch.value.reason} == {Reason.SIGNER_NOT_IN_ROLE}


def test_r12_wrong_role_for_the_stage_is_refused(contract, people, codes):
    with pytest.raises(DomainError) as err:
        contract.approve("draft", act(LEGAL, "legal", "1400/04/25 09:00"), people, codes)
    assert err.value.reason is Reason.SIGNER_NOT_IN_ROLE


def test_r12_skipping_a_stage_is_wrong_stage(contract, people, codes):
    with pytest.raises(DomainError) as err:
        contract.approve("budget", act(FINANCE, "finance", "1400/04/25 09:00"), people, codes)
    assert err.value.reason is Reason.WRONG_STAGE
    run_to(contract, FINAL, people, codes)
    with pytest.raises(DomainError) as after:
        contract.approve(FINAL, act(OFFICER, "contracts_officer", "1400/04/28 09:00"), people, codes)
    assert after.value.reason is Reason.WRONG_STAGE


def test_r12_treasurer_and_signing_stages_need_a_signature_reference(contract, people, codes):
    run_to(contract, "treasurer", people, codes)
    with pytest.raises(DomainError) as err:
        contract.approve("treasurer", act(TREASURER, "treasurer", "1400/04/26 12:00"), people, codes)
    assert err.value.reason is Reason.SIGNATURE_INVALID
    contract.approve("treasurer", act(TREASURER, "treasurer", "1400/04/26 12:00", sig="sig-t"), people, codes)
    with pytest.raises(DomainError) as chair:
        contract.approve("signing", act(CHAIR, "chair", "1400/04/27 10:00", sig="  "), people, codes)
    assert chair.value.reason is Reason.SIGNATURE_INVALID


def test_r12_signing_needs_both_employer_and_contractor(contract, people, codes):
    run_to(contract, "signing", people, codes)
    contract.approve("signing", act(CHAIR, "chair", "1400/04/27 10:00", sig="sig-chair"), people, codes)
    assert contract.stage == "signing" and contract.code is None
    assert contract.pending_roles() == [CONTRACTOR_SIGNATORY]
    with pytest.raises(DomainError) as twice:
        contract.approve("signing", act(CHAIR, "chair", "1400/04/27 10:05", sig="sig-chair-2"), people, codes)
    assert twice.value.reason is Reason.WRONG_STAGE
    # The contractor's signatory acts for its company, not for the district.
    with pytest.raises(DomainError) as wrong_unit:
        contract.approve("signing", act(CONTRACTOR_SIGNER, CONTRACTOR_SIGNATORY, "1400/04/27 11:00", sig="s"),
                         people, codes)
    assert wrong_unit.value.reason is Reason.SIGNER_NOT_IN_ROLE
    contract.approve("signing", act(CONTRACTOR_SIGNER, CONTRACTOR_SIGNATORY, "1400/04/27 11:00", unit=COMPANY,
                                    sig="sig-ctr"), people, codes)
    assert contract.is_final and contract.code is not None


@pytest.mark.parametrize("field, reason", [("budget_line", Reason.BUDGET_LINE_MISSING),
                                           ("expense_factor", Reason.EXPENSE_FACTOR_MISSING)])
def test_r20_budget_stage_requires_budget_line_and_expense_factor(general_fields, people, codes, field, reason):
    general_fields[field] = ""
    reg = ContractRegistration.open("TRK-1", UNIT, "general", general_fields, STAGES)
    run_to(reg, "budget", people, codes)
    with pytest.raises(DomainError) as err:
        reg.approve("budget", act(FINANCE, "finance", "1400/04/26 09:00"), people, codes)
    assert err.value.reason is reason
    assert reg.stage == "budget"
    reg.update_fields({field: "filled-in"})
    reg.approve("budget", act(FINANCE, "finance", "1400/04/26 09:00"), people, codes)
    assert reg.stage == "treasurer"


def test_r21_final_refused_while_a_published_field_is_missing(general_fields, people, codes):
    general_fields["supervisor"] = None
    reg = ContractRegistration.open("TRK-2", UNIT, "general", general_fields, STAGES)
    run_to(reg, "signing", people, codes)
    reg.approve("signing", act(CHAIR, "chair", "1400/04/27 10:00", sig="sig-chair"), people, codes)
    with pytest.raises(DomainError) as err:
        reg.approve("signing", act(CONTRACTOR_SIGNER, CONTRACTOR_SIGNATORY, "1400/04/27 11:00", unit=COMPANY,
                                   sig="sig-ctr"), people, codes)
    assert err.value.reason is Reason.FIELD_MISSING and "supervisor" in err.value.detail
    assert reg.stage == "signing" and reg.code is None


def test_r12_fields_are_frozen_outside_the_stage_that_collects_them(contract, people, codes):
    contract.update_fields({"subject": "موضوع اصلاح‌شده"})  # draft: anything may be corrected
    run_to(contract, "legal_review", people, codes)
    with pytest.raises(DomainError) as err:
        contract.update_fields({"contract_amount_rial": 1})
    assert err.value.reason is Reason.WRONG_STAGE
    run_to(contract, FINAL, people, codes)
    with pytest.raises(DomainError) as final:
        contract.update_fields({"subject": "x"})
    assert final.value.reason is Reason.WRONG_STAGE


def test_r12_send_back_returns_to_an_earlier_stage_and_approvals_restart(contract, people, codes):
    contract.approve("draft", act(OFFICER, "contracts_officer", "1400/04/25 09:00"), people, codes)
    contract.send_back("draft", act(LEGAL, "legal", "1400/04/25 10:00"), people)
    assert contract.stage == "draft" and contract.pending_roles() == ["contracts_officer"]
    contract.update_fields({"subject": "موضوع اصلاح‌شده"})
    contract.approve("draft", act(OFFICER, "contracts_officer", "1400/04/25 12:00"), people, codes)
    assert contract.stage == "legal_review"
    with pytest.raises(DomainError) as forward:
        contract.send_back("budget", act(LEGAL, "legal", "1400/04/25 13:00"), people)
    assert forward.value.reason is Reason.WRONG_STAGE
    assert [e.kind for e in contract.history] == ["approved", "returned", "approved"]


def test_r12_approval_time_cannot_go_backwards(contract, people, codes):
    contract.approve("draft", act(OFFICER, "contracts_officer", "1400/04/25 09:00"), people, codes)
    with pytest.raises(DomainError) as err:
        contract.approve("legal_review", act(LEGAL, "legal", "1400/04/24 09:00"), people, codes)
    assert err.value.reason is Reason.INVALID_INPUT


def test_r12_registration_without_workflow_only_where_policy_allows(general_fields, people, codes):
    officer = act(OFFICER, "contracts_officer", "1397/05/01 09:00")
    with pytest.raises(DomainError) as err:
        ContractRegistration.register_without_workflow("TRK-9", UNIT, "general", general_fields, officer,
                                                       people, codes, allowed=False, stages=STAGES)
    assert err.value.reason is Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED
    people.grant(OFFICER, "contracts_officer", UNIT, start="1396/01/01")
    reg = ContractRegistration.register_without_workflow("TRK-9", UNIT, "general", general_fields, officer,
                                                         people, codes, allowed=True, stages=STAGES)
    assert reg.is_final and not reg.with_workflow
    assert reg.code.startswith("12-1397-000001-")
    incomplete = {**general_fields, "contract_amount_rial": None}
    with pytest.raises(DomainError) as missing:
        ContractRegistration.register_without_workflow("TRK-10", UNIT, "general", incomplete, officer,
                                                       people, codes, allowed=True, stages=STAGES)
    assert missing.value.reason is Reason.FIELD_MISSING


def test_r12_codes_follow_a_per_unit_per_year_sequence(general_fields, people, codes):
    made = []
    for n in range(3):
        reg = ContractRegistration.open(f"TRK-{n}", UNIT, "general", general_fields, STAGES)
        run_to(reg, FINAL, people, codes)
        made.append(reg.code[:-2])
    assert made == ["12-1400-000001", "12-1400-000002", "12-1400-000003"]


def test_r12_a_malformed_code_from_the_generator_is_not_issued(contract, people):
    run_to(contract, "signing", people, memory_codes({UNIT: "12"}))
    contract.approve("signing", act(CHAIR, "chair", "1400/04/27 10:00", sig="s1"), people, lambda u, t: "")
    with pytest.raises(DomainError) as err:
        contract.approve("signing", act(CONTRACTOR_SIGNER, CONTRACTOR_SIGNATORY, "1400/04/27 11:00",
                                        unit=COMPANY, sig="s2"), people, lambda u, t: "12-1400-000001-0")
    assert err.value.reason is Reason.INVALID_INPUT
    assert contract.code is None and contract.stage == "signing"


def test_r12_stages_are_configurable_per_unit_from_policy(general_fields, roles, codes):
    policy_entries = [
        {"stage": "draft", "role": "contracts_officer", "signature": False},
        {"stage": "budget", "role": "finance", "signature": False, "requires_fields": ["budget_line", "expense_factor"]},
        {"stage": "treasurer", "role": "treasurer", "signature": True},
        {"stage": "final", "role": "contracts_officer", "signature": False},
    ]
    stages = stages_from_policy(policy_entries)
    assert stages[1] == StageDef("budget", "finance", False, ("budget_line", "expense_factor"), False)
    roles.grant(OFFICER, "contracts_officer", UNIT)
    roles.grant(FINANCE, "finance", UNIT)
    roles.grant(TREASURER, "treasurer", UNIT)
    reg = ContractRegistration.open("TRK-5", UNIT, "general", general_fields, stages)
    reg.approve("draft", act(OFFICER, "contracts_officer", "1400/04/25 09:00"), roles, codes)
    reg.approve("budget", act(FINANCE, "finance", "1400/04/25 10:00"), roles, codes)
    reg.approve("treasurer", act(TREASURER, "treasurer", "1400/04/25 11:00", sig="sig"), roles, codes)
    assert reg.is_final and reg.code is not None


def test_r12_stages_from_the_shipped_policy_objects(general_fields):
    from pathlib import Path

    import config
    from config.policy import load_policy
    policy = load_policy(Path(config.__file__).parent / "policy" / "default.toml")
    stages = stages_from_policy(policy.stages(UNIT))
    assert [s.name for s in stages][-1] == FINAL
    assert {s.name for s in stages if s.needs_token_signature} == {"treasurer", "signing"}
    assert next(s for s in stages if s.name == "signing").contractor_signs


@pytest.mark.parametrize("entries", [
    [],
    [{"stage": "draft", "role": "contracts_officer"}],
    [{"stage": "draft", "role": "x"}, {"stage": "approved", "role": "y"}],
    [{"stage": "draft", "role": "x"}, {"stage": "draft", "role": "y"}, {"stage": "final", "role": "z"}],
    [{"stage": "draft", "role": ""}, {"stage": "final", "role": "z"}],
])
def test_r12_unusable_stage_policy_is_rejected(entries):
    with pytest.raises(DomainError) as err:
        stages_from_policy(entries)
    assert err.value.reason is Reason.POLICY_INVALID
