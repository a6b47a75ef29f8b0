"""R27: rules switch on per unit by date or by event, every change to the calendar is a versioned,
approved and audited record in the store, and a change switching a rule back needs an explicit
approval (RULE_CHANGE_NOT_APPROVED). `eproc policy show` says why each rule is in force."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from config.policy import Policy, load_policy
from config.settings import BUNDLED_POLICY
from domain.clock import SimulatedClock
from domain.persian import TEHRAN, parse_jalali_date as j
from domain.policy.calendar import WITH_WORKFLOW, WITHOUT_WORKFLOW
from domain.reasons import DomainError, Reason
from services import rules_calendar as rc
from services.legacy.write import ensure_units
from store import models as m
from store.uow import UnitOfWork

PROPOSER, APPROVER, OUTSIDER = "0012345679", "0023456787", "0034567895"


@dataclass
class Store:
    policy: Policy
    clock: SimulatedClock
    sessions: sessionmaker

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)


def tehran(jalali: str, hour: int = 10, minute: int = 0) -> datetime:
    day = j(jalali)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TEHRAN)


@pytest.fixture
def store(sessions):
    policy = load_policy(BUNDLED_POLICY)
    clock = SimulatedClock(tehran("1400/04/20"))
    ensure_units(sessions, policy, clock, "test")
    with UnitOfWork(sessions) as uow:
        for nid, name in ((PROPOSER, "پیشنهاددهنده"), (APPROVER, "معاون"), (OUTSIDER, "بیرونی")):
            uow.people.add(nid, name)
        uow.roles.assign(PROPOSER, "contracts_officer", "municipality", j("1397/01/01"))
        uow.roles.assign(APPROVER, "deputy", "municipality", j("1397/01/01"))
        uow.roles.assign(OUTSIDER, "deputy", "district-12", j("1397/01/01"))
        uow.commit()
    return Store(policy, clock, sessions)


def audit(store: Store, action: str, entity_id: str) -> list[dict]:
    with store.uow() as uow:
        return uow.audit.payloads(action, entity_id)


def refused(reason: Reason, fn, *args, **kw) -> DomainError:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kw)
    assert exc.value.reason is reason, exc.value
    return exc.value


def test_r27_a_rule_switches_on_by_date_per_unit(store):
    before = rc.decision(store, "electronic_envelope_b", "district-5", j("1400/08/30"))
    after = rc.decision(store, "electronic_envelope_b", "district-5", j("1400/09/01"))
    pilot = rc.decision(store, "electronic_envelope_b", "district-12", j("1400/08/30"))
    assert (before.in_force, after.in_force, pilot.in_force) == (False, True, True)
    assert after.source.kind == "calendar" and after.source.ref == "calendar[4]@1400.1"
    assert after.source.since == j("1400/09/01")
    assert pilot.source.ref == "calendar[3]@1400.1"  # the pilot districts' own entry
    assert before.source.kind == "none"
    # Without a store, the TOML alone answers the same (rehearsals and the notice keep their output).
    assert store.policy.rule("electronic_envelope_b", "district-5", j("1400/09/01")) is True


def test_r27_without_workflow_switches_off_for_a_unit_after_its_first_contract_with_workflow(store):
    # 1398/05/01: by date, registration without workflow is still open everywhere (off from 1398/10/01).
    store.clock.set(tehran("1398/05/01", 9))
    morning = tehran("1398/05/01", 9)
    rc.require_registration_mode(store, "district-7", morning, WITHOUT_WORKFLOW)
    first = tehran("1398/05/01", 11)
    assert rc.record_event(store, "district-7", rc.FIRST_CONTRACT_WITH_WORKFLOW, first, "07-1398-000001-K")
    assert not rc.record_event(store, "district-7", rc.FIRST_CONTRACT_WITH_WORKFLOW, first + timedelta(days=3), "x")

    afternoon = tehran("1398/05/01", 15)
    error = refused(Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED, rc.require_registration_mode, store,
                    "district-7", afternoon, WITHOUT_WORKFLOW)
    assert "district-7" in error.detail
    rc.require_registration_mode(store, "district-7", afternoon, WITH_WORKFLOW)
    # The event switches it for that unit only, from its own time, whatever the dated calendar says.
    rc.require_registration_mode(store, "district-8", afternoon, WITHOUT_WORKFLOW)
    rc.require_registration_mode(store, "district-7", morning, WITHOUT_WORKFLOW)
    why = rc.decision(store, "registration_without_workflow_disabled", "district-7", j("1398/06/01"))
    assert why.in_force and why.source.kind == "event"
    assert why.source.ref == "event:first_contract_with_workflow:07-1398-000001-K"
    assert store.policy.rule("registration_without_workflow_disabled", "district-7", j("1398/06/01")) is False
    # Audited once: the first contract is the event.
    (entry,) = audit(store, "calendar.event", "event:district-7:first_contract_with_workflow")
    assert entry["ref"] == "07-1398-000001-K"
    # Agile registration is a mode of its own, closed until a change opens it.
    refused(Reason.REGISTRATION_MODE_NOT_ALLOWED, rc.require_registration_mode, store, "district-7", afternoon, "agile")


def test_r27_a_change_is_in_force_only_once_approved_and_each_step_is_audited(store):
    info = rc.propose_change(store, PROPOSER, "electronic_envelope_b", ["district-5"], j("1400/05/01"), None, True,
                             "صورتجلسهٔ ۱۲۸: پاکت ب منطقهٔ ۵ الکترونیکی")
    assert (info.version, info.status, info.slide_backs) == (1, "proposed", ())
    assert not rc.in_force(store, "electronic_envelope_b", "district-5", tehran("1400/05/02"))

    refused(Reason.NOT_AUTHORISED, rc.approve_change, store, 1, PROPOSER)       # four eyes
    refused(Reason.NOT_AUTHORISED, rc.approve_change, store, 1, OUTSIDER)       # deputy of a district only
    refused(Reason.NOT_AUTHORISED, rc.propose_change, store, OUTSIDER, "pilot", ["district-5"], j("1400/05/01"),
            None, True, "x")
    refused(Reason.INVALID_INPUT, rc.propose_change, store, PROPOSER, "pilot", ["district-5"], j("1400/04/19"),
            None, True, "retroactive")

    store.clock.advance(timedelta(hours=2))
    approved = rc.approve_change(store, 1, APPROVER)
    assert (approved.status, approved.approved_by, approved.approver_role, approved.slide_back) == (
        "approved", APPROVER, "deputy", False)
    on = rc.decision(store, "electronic_envelope_b", "district-5", j("1400/05/02"))
    assert on.in_force and on.source.kind == "change" and on.source.ref == "change:1" and on.source.by == APPROVER
    assert not rc.in_force(store, "electronic_envelope_b", "district-5", tehran("1400/04/30"))
    assert not rc.in_force(store, "electronic_envelope_b", "district-6", tehran("1400/05/02"))

    (proposed,) = audit(store, "calendar.change_proposed", "change:1")
    (approval,) = audit(store, "calendar.change_approved", "change:1")
    assert proposed["role"] == "contracts_officer" and proposed["unit"] == "municipality"
    assert approval["role"] == "deputy" and approval["proposed_by"] == PROPOSER
    assert approval["content_sha256"] == proposed["content_sha256"] == info.content_sha256
    assert approval["slide_back"] is False and approval["value"] is True
    with store.uow() as uow:
        actors = {e.action: e.actor for e in uow.audit.entries() if e.entity_id == "change:1"}
    assert actors == {"calendar.change_proposed": PROPOSER, "calendar.change_approved": APPROVER}


def test_r27_a_slide_back_without_explicit_approval_is_refused(store):
    # Envelope B has been electronic in district-12 (a pilot district) since 1400/01/01.
    info = rc.propose_change(store, PROPOSER, "electronic_envelope_b", ["district-12"], j("1400/05/01"), None, False,
                             "بازگشت به پاکت کاغذی")
    assert [(s["unit"], s["was"]["ref"]) for s in info.slide_backs] == [("district-12", "calendar[3]@1400.1")]
    error = refused(Reason.RULE_CHANGE_NOT_APPROVED, rc.approve_change, store, 1, APPROVER)
    assert "district-12" in error.detail
    assert [c.status for c in rc.changes(store)] == ["proposed"]
    assert rc.in_force(store, "electronic_envelope_b", "district-12", tehran("1400/05/02"))
    (entry,) = audit(store, "calendar.change_refused", "change:1")
    with store.uow() as uow:
        last = uow.audit.last("calendar.change_refused", "change:1")
    assert last is not None and last.reason == "RULE_CHANGE_NOT_APPROVED" and last.actor == APPROVER
    assert entry["role"] == "deputy"


def test_r27_a_rule_switched_on_by_an_event_cannot_be_switched_back_silently(store):
    store.clock.set(tehran("1398/05/01", 12))
    rc.record_event(store, "district-7", rc.FIRST_CONTRACT_WITH_WORKFLOW, tehran("1398/05/01", 11), "07-1398-000001-K")
    info = rc.propose_change(store, PROPOSER, "registration_without_workflow_disabled", ["district-7"],
                             j("1398/05/02"), j("1398/06/01"), False, "ثبت بدون گردش دوباره")
    assert [s["was"]["kind"] for s in info.slide_backs] == ["event"]
    refused(Reason.RULE_CHANGE_NOT_APPROVED, rc.approve_change, store, 1, APPROVER)


def test_r27_an_explicitly_approved_slide_back_is_in_force_and_audited_as_one(store):
    rc.propose_change(store, PROPOSER, "electronic_envelope_b", ["district-12"], j("1400/05/01"), j("1400/06/01"),
                      False, "قطعی شبکه: موقت")
    approved = rc.approve_change(store, 1, APPROVER, slide_back_approved=True)
    assert approved.status == "approved" and approved.slide_back
    back = rc.decision(store, "electronic_envelope_b", "district-12", j("1400/05/10"))
    assert not back.in_force and back.source.ref == "change:1"
    assert rc.in_force(store, "electronic_envelope_b", "district-12", tehran("1400/04/30"))
    assert rc.in_force(store, "electronic_envelope_b", "district-12", tehran("1400/06/01"))  # window over
    assert rc.in_force(store, "electronic_envelope_b", "district-2", tehran("1400/05/10"))
    (approval,) = audit(store, "calendar.change_approved", "change:1")
    assert approval["slide_back"] is True and approval["slide_backs"][0]["unit"] == "district-12"


def test_r27_an_approved_change_edited_in_the_database_is_store_tampered(store, sessions):
    rc.propose_change(store, PROPOSER, "electronic_envelope_b", ["district-5"], j("1400/05/01"), None, True, "پیش")
    rc.approve_change(store, 1, APPROVER)
    with sessions() as s:  # a database administrator switches it back without any approval
        s.execute(update(m.RulesCalendarChange).values(value=False))
        s.commit()
    refused(Reason.STORE_TAMPERED, rc.decision, store, "electronic_envelope_b", "district-5", j("1400/05/02"))


def test_r27_policy_show_says_why_and_the_cli_proposes_and_approves(store, monkeypatch, tmp_path):
    from eproc.cli import app
    from eproc.commands import policy as policy_cmd

    class Ctx:
        def __init__(self) -> None:
            self.policy, self.clock, self.sessions = store.policy, store.clock, store.sessions
            self.settings = type("S", (), {"persian": False})()

        def uow(self) -> UnitOfWork:
            return store.uow()

        def migrate(self) -> None:  # the fixture's database is migrated
            pass

    monkeypatch.setattr(policy_cmd, "app_context", Ctx)
    runner = CliRunner()

    def cli(*args: str) -> dict:
        result = runner.invoke(app, ["policy", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    proposed = cli("propose", "--rule", "electronic_envelope_b", "--unit", "district-12", "--from", "1400/05/01",
                   "--value", "off", "--nid", PROPOSER, "--note", "آزمایش")
    assert proposed["status"] == "proposed" and proposed["slide_backs"]
    refusal = runner.invoke(app, ["policy", "approve", "1", "--nid", APPROVER, "--json"])
    assert refusal.exit_code == 2 and json.loads(refusal.output)["error"]["reason"] == "RULE_CHANGE_NOT_APPROVED"
    assert cli("approve", "1", "--nid", APPROVER, "--approve-slide-back")["slide_back"] is True

    shown = cli("show", "--unit", "district-12", "--date", "1400/05/10")
    assert {"policy_version", "unit", "unit_name", "date", "rules", "workflow"} <= set(shown)
    envelope_b = shown["rules"]["electronic_envelope_b"]
    assert envelope_b["in_force"] is False and envelope_b["label"]
    assert envelope_b["source"] == {"kind": "change", "ref": "change:1", "since": "1400/05/01", "by": APPROVER,
                                    "at": store.clock.now().isoformat()}
    minutes = shown["rules"]["electronic_minutes_mandatory"]
    assert minutes["in_force"] is True and minutes["source"]["ref"] == "calendar[0]@1400.1"
    assert shown["calendar_version"] == "1400.1+1" and shown["pending_changes"] == []
    assert shown["registration_modes"] == ["with_workflow"]
    assert shown["notice_wording"] == "physical_and_electronic_required"
    assert [c["version"] for c in cli("changes")] == [1]
    text = runner.invoke(app, ["policy", "show", "--unit", "district-12", "--date", "1400/05/10"])
    assert text.exit_code == 0 and "change:1" in text.output
