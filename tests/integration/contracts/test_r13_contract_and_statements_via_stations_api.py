"""Issue 13 parts 1 and 2 (R12, R13, R14, R17, R18, R29): contract registration and status statements
with every person acting from their own station, through the API (pilot.stations: the API in-process,
each simulated person their own token directory and PIN); the engine signs nothing on anyone's behalf.

One district-12 world (renamed, with its own people) is run through the tender flow to the winner's
contract signature; from there the contract is opened, its terms entered and each stage approved at
the approvers' stations, and the contractor's statements are signed along their path at the stations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from contract_runs import DISTRICT_12, payable

from pilot.world import simulated_national_id

BUDGET_LINE, GENERAL_CODE = "1400-12-30201-034", "G-30201"
FACTOR, NEW_FACTOR = "EF-12-ROAD", "EF-12-NEW"
WASTE = {"min_vehicles": 3, "min_workers": 10, "penalty_per_missing_vehicle_rial": 2_000_000,
         "penalty_per_missing_worker_rial": 500_000}


def _variant_text() -> str:
    """District 12 with its own name and people (tokens are per person in this session's process)."""
    text = DISTRICT_12.read_text(encoding="utf-8").replace('name = "district-12-asphalt"',
                                                           'name = "district-12-stations"')
    for old in set(re.findall(r'national_id = "(\d{10})"', text)) | set(re.findall(r'supervisor = "(\d{10})"', text)):
        text = text.replace(f'"{old}"', f'"{simulated_national_id("stations13:" + old)}"')
    return text


@dataclass
class Contracted:
    world: object
    tender_id: str
    bidder: str
    company: str

    @property
    def unit(self) -> str:
        return self.world.unit

    def staff(self, role: str):
        w = self.world
        nid = w.staff.get(role) or next(m.national_id for m in w.scenario.commission if m.role == role)
        return w.stations.person(nid, role, self.unit)

    def contractor(self):
        return self.world.stations.person(self.world.bidder_signatory[self.bidder], "company_signatory", self.company)


@pytest.fixture(scope="module")
def contracted(prefect_server, softhsm_dir, tmp_path_factory) -> Contracted:
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from flows.tender import tender_flow
    from pilot import runner
    from pilot.contract_world import attach
    from pilot.scenario import load_scenario, tender_id_of
    from pilot.world import build_world
    from services.contract import registries
    from services.deps import use

    workdir = tmp_path_factory.mktemp("r13-stations")
    path = workdir / "district-12-stations.toml"
    path.write_text(_variant_text(), encoding="utf-8")
    scenario = load_scenario(path)
    world = build_world(scenario, workdir / "world", load_policy(BUNDLED_POLICY))
    attach(world)
    tender_id = tender_id_of(scenario)
    with use(world.deps):
        runner.announce(world)
        for step in runner.timeline(scenario):
            if step.kind == "submit":
                runner.submit(world, step.who, step.at)
        result = tender_flow(tender_id)
    bidder = result["contract_bidder"]
    company = next(b.national_id for b in scenario.bidders if b.id == bidder)
    registries.add_budget_line(world.deps, world.unit, BUDGET_LINE, GENERAL_CODE, "آسفالت معابر", "test")
    registries.add_expense_factor(world.deps, FACTOR, "نگهداری معابر", "test")
    registries.approve_expense_factor(world.deps, FACTOR, "COM-1400-07", "test")
    registries.add_expense_factor(world.deps, NEW_FACTOR, "عامل تازه", "test")
    return Contracted(world, tender_id, bidder, company)


def _refused(call, reason: str) -> None:
    from domain.reasons import DomainError

    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.reason.value == reason, caught.value


def test_r13_contract_stages_and_statements_signed_at_each_persons_station(contracted):
    from domain.xmlsafe import parse_untrusted
    from services.contract import registries
    from services.contract.award import award_for
    from services.contract.read import statement_by_id
    from services.contract.requests import TermsEntry
    from stations import contracts as st
    from stations.client import XML

    c, tid = contracted, contracted.tender_id
    w = c.world

    # Part 1: the contracts officer opens the contract from the final minutes and enters its terms.
    with c.staff("contracts_officer") as officer:
        _refused(lambda: st.show_contract(officer, tid), "NOT_FOUND")
        opened = st.open_contract(officer, tid)
        assert opened["bidder"] == c.bidder and opened["code"] is None and opened["stage"] == "draft"
        assert st.open_contract(officer, tid)["tracking_number"] == opened["tracking_number"]  # idempotent
        _refused(lambda: st.enter_terms(officer, tid, TermsEntry(budget_line="NO-SUCH-LINE")), "INVALID_INPUT")
        _refused(lambda: st.enter_terms(officer, tid, TermsEntry(expense_factor="NO-SUCH")), "INVALID_INPUT")
        _refused(lambda: st.enter_terms(officer, tid, TermsEntry(supervisor=w.staff["deputy"])), "INVALID_INPUT")
        shown = st.enter_terms(officer, tid, TermsEntry(
            budget_line=BUDGET_LINE, expense_factor=FACTOR, supervisor=w.staff["supervisor"], waste=WASTE))
        assert shown["budget_line"] == BUDGET_LINE and shown["budget_general_code"] == GENERAL_CODE
        assert shown["expense_factor_approved"] is True and shown["waiting_for"] == [["contracts_officer", c.unit]]
        _refused(lambda: st.approve_stage(officer, tid, expected_sha256="0" * 64), "INVALID_INPUT")
        assert st.approve_stage(officer, tid, expected_sha256=shown["contract_sha256"])["stage"] == "legal_review"
        _refused(lambda: st.approve_stage(officer, tid, stage="draft"), "WRONG_STAGE")  # a stale stage
    with c.staff("treasurer") as treasurer:
        _refused(lambda: st.approve_stage(treasurer, tid), "NOT_AUTHORISED")  # not the stage's person
    with c.staff("legal") as legal:
        assert st.approve_stage(legal, tid)["stage"] == "budget"
    with c.staff("finance") as finance:
        _refused(lambda: st.approve_stage(finance, tid), "FIELD_MISSING")  # no budget-allocation code yet
        _refused(lambda: st.enter_terms(finance, tid, TermsEntry(kind="barter")), "WRONG_STAGE")
        _refused(lambda: st.enter_terms(finance, tid, TermsEntry(supervisor=w.staff["supervisor"])), "WRONG_STAGE")
        st.enter_terms(finance, tid, TermsEntry(budget_allocation="TA-1400-118", expense_factor=NEW_FACTOR))
        assert st.approve_stage(finance, tid)["stage"] == "treasurer"

    # The treasurer's inbox (R29): the contract and the expense factor awaiting the committee.
    with c.staff("treasurer") as treasurer:
        box = st.inbox(treasurer)
        assert [x["tracking_number"] for x in box["contracts"]] == [opened["tracking_number"]]
        assert box["contracts"][0]["budget_allocation_code"] == "TA-1400-118"
        assert NEW_FACTOR in [f["code"] for f in box["expense_factors_awaiting_committee"]]
        _refused(lambda: st.approve_stage(treasurer, tid), "EXPENSE_FACTOR_MISSING")
        registries.approve_expense_factor(w.deps, NEW_FACTOR, "COM-1400-09", "committee")
        assert st.approve_stage(treasurer, tid)["stage"] == "signing"
        assert st.inbox(treasurer)["contracts"] == []

    # A statement before the contract is final is refused (R13, R14) and recorded as refused.
    with c.contractor() as contractor:
        _refused(lambda: st.submit_statement(contractor, tid, "s0", [("010101", Decimal(1))], 3, 10),
                 "NO_CONTRACT_CODE")
    chair = next(m for m in w.scenario.commission if m.role == "chair")
    with w.stations.person(chair.national_id, "chair", c.unit) as employer:
        assert st.approve_stage(employer, tid)["stage"] == "signing"  # waits for the contractor too
    with c.contractor() as contractor:
        waiting = st.inbox(contractor)  # the contractor's station lists what waits for its signature
        assert [(x["tender_id"], x["stage"]) for x in waiting["contracts"]] == [(tid, "signing")], waiting
        final = st.approve_stage(contractor, tid)
        assert st.inbox(contractor)["contracts"] == []
    assert final["stage"] == "final" and final["code"], final
    code = final["code"]
    with w.deps.uow() as uow:
        approvals = {(a.stage, a.role): a for a in uow.contracts.approvals(uow.contracts.by_code(code).id)}
    assert set(approvals) == {("draft", "contracts_officer"), ("legal_review", "legal"), ("budget", "finance"),
                              ("treasurer", "treasurer"), ("signing", "chair"),
                              ("signing/contractor_signatory", "contractor_signatory")}
    assert all(a.signature_ref and a.signature_ref.startswith("contract-stage:") for a in approvals.values())
    assert approvals[("signing/contractor_signatory", "contractor_signatory")].approver_national_id \
        == w.bidder_signatory[c.bidder]

    # Part 2: the contractor's cumulative statement, signed along its path at each person's station.
    prices = {i.code: i.unit_price for i in w.scenario.price_list.items}
    coefficient = award_for(w.deps, tid, c.bidder).coefficient
    items = [("010101", Decimal(3000)), ("020305", Decimal(1500))]
    with c.contractor() as contractor:
        s1 = st.submit_statement(contractor, tid, "s1", items, 3, 10)
    assert s1["sent"] is True and s1["contract_code"] == code and s1["next_role"] == "supervisor"
    expected = int((sum(q * prices[k] for k, q in items) * coefficient).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert s1["cumulative_rial"] == expected and s1["payable_rial"] == payable(expected)
    assert s1["path"] == ["contractor", "supervisor", "employer_reviewer", "treasurer"]
    with c.staff("treasurer") as treasurer:  # not the treasurer's turn yet
        xml, _ = st.show_statement(treasurer, tid, "s1")
        assert st.sign_statement(treasurer, tid, "s1")["sent"] is False
        _refused(lambda: treasurer.request("POST", f"/v1/tenders/{tid}/contract/statements/s1/signatures",
                                           content=treasurer.sign(parse_untrusted(xml)), headers=XML),
                 "WRONG_STAGE")
    with c.staff("supervisor") as supervisor:
        assert [x["ref"] for x in st.inbox(supervisor)["statements"]] == ["s1"]
        assert st.sign_statement(supervisor, tid, "s1")["next_role"] == "employer_reviewer"
    with c.staff("employer_reviewer") as reviewer:
        assert st.sign_statement(reviewer, tid, "s1")["next_role"] == "treasurer"
    with c.staff("treasurer") as treasurer:
        assert [x["ref"] for x in st.inbox(treasurer)["statements"]] == ["s1"]
        done = st.sign_statement(treasurer, tid, "s1")
    assert done["result"] == "approved" and done["next_role"] is None and len(done["signed"]) == 4
    record = statement_by_id(w.deps, done["id"])
    assert record.info.signed_by_contractor and record.info.signed_by_treasurer
    assert record.info.contract_code == code and record.info.payable_rial == payable(expected)

    # Waste terms: no figures halt it (RESOURCES_NOT_REPORTED); too few vehicles: a penalty and the
    # stricter path through the deputy (R18).
    with c.contractor() as contractor:
        s2 = st.submit_statement(contractor, tid, "s2", [("010101", Decimal(4000)), ("020305", Decimal(2000))])
    assert s2["result"] == "halted" and s2["reason"] == "RESOURCES_NOT_REPORTED", s2
    with c.contractor() as contractor:
        s3 = st.submit_statement(contractor, tid, "s3", [("010101", Decimal(4000)), ("020305", Decimal(2000))], 2, 10)
    assert s3["path"] == ["contractor", "supervisor", "employer_reviewer", "deputy", "treasurer"], s3
    assert s3["penalty_rial"] == WASTE["penalty_per_missing_vehicle_rial"]
    for role in ("supervisor", "employer_reviewer"):
        with c.staff(role) as person:
            st.sign_statement(person, tid, "s3")
    with c.staff("treasurer") as treasurer:
        assert st.sign_statement(treasurer, tid, "s3")["sent"] is False  # the deputy's turn first
    for role in ("deputy", "treasurer"):
        with c.staff(role) as person:
            last = st.sign_statement(person, tid, "s3")
    assert last["result"] == "approved" and last["gross_rial"] == last["cumulative_rial"] - expected
    assert last["payable_rial"] == payable(last["gross_rial"], WASTE["penalty_per_missing_vehicle_rial"])
    # The engine signed nothing: every signature on the statements is a person's.
    with w.deps.uow() as uow:
        signers = {s.signer_national_id for s in uow.minutes.signatures("status_statement", done["id"])}
    assert w.staff["transactions_system"] not in signers and len(signers) == 4


def test_r13_requests_round_trip():
    from services.contract import requests as rq

    root = rq.build_terms("TRK-1", "T-1", rq.TermsEntry(budget_line="L", expense_factor="E", budget_allocation="A",
                                                        supervisor="0012345678",
                                                        employer_signatories=("0012345679",), kind="general",
                                                        waste=WASTE, fields={"subject": "x"}))
    tracking, tender, terms = rq.read_terms(root)
    assert (tracking, tender) == ("TRK-1", "T-1")
    assert terms.waste == WASTE and terms.fields == {"subject": "x"} and terms.employer_signatories == ("0012345679",)
    root = rq.build_submission("TRK-1", "T-1", "s1", [("010101", Decimal("3000")), ("020305", Decimal("1.5"))], 3, 10)
    assert rq.read_submission(root) == ("TRK-1", "T-1", "s1", (("010101", Decimal("3000")), ("020305", Decimal("1.5"))),
                                        3, 10)
    assert rq.read_stage(rq.build_stage("TRK-1", "T-1", "budget", "finance", "ab" * 32)) == (
        "TRK-1", "T-1", "budget", "finance", "ab" * 32)

