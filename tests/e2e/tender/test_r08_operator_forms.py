"""R08: operator forms mean what they say. Nothing that is a decision is filled in advance, the
chair's confirmation is required, and who answered is on record."""
from __future__ import annotations

import pytest
from pilot_harness import world_with_bids


def test_r08_attendance_form_prefills_no_decision_and_asks_who_answers():
    from flows.decisions import PDI, RLI, ContractSignatureForm, MinutesConfirmationForm, attendance_form

    form = attendance_form({"m1": "علی رضایی — رئیس کمیسیون", "m2": "مریم احمدی — مدیر مالی"},
                           ["علی رضایی — رئیس کمیسیون", "زهرا کریمی — جانشین رئیس کمیسیون"])
    schema = form.model_json_schema()
    props = schema["properties"]
    # Persian labels are isolated right-to-left (issue 12 part 4), member by name and role.
    assert [props[f"member_{i}"]["title"] for i in range(2)] == [f"{RLI}علی رضایی — رئیس کمیسیون{PDI}",
                                                                 f"{RLI}مریم احمدی — مدیر مالی{PDI}"]
    assert all(props[f"member_{i}"]["default"] is False for i in range(2))  # nobody marked present in advance
    assert props["confirmed"]["default"] is False
    # Who answers is chosen from the chair and the chair's alternates (a switch each), never typed, and
    # nobody is preselected.
    assert [props[f"answered_by_{i}"]["title"] for i in range(2)] == [
        f"{RLI}پاسخ‌دهنده: علی رضایی — رئیس کمیسیون{PDI}", f"{RLI}پاسخ‌دهنده: زهرا کریمی — جانشین رئیس کمیسیون{PDI}"]
    assert all(props[f"answered_by_{i}"]["default"] is False for i in range(2))
    assert not [k for k, v in props.items() if v.get("type") == "string"]  # nothing to type
    assert all(t.startswith(RLI) and t.endswith(PDI) for t in (props["confirmed"]["title"],
                                                              props["confirmed"]["description"]))
    for static in (MinutesConfirmationForm, ContractSignatureForm):
        s = static.model_json_schema()
        decision = next(k for k in s["properties"] if k in ("confirmed", "signed"))
        assert s["properties"][decision]["default"] is False and "answered_by" in s["required"]


def _view(tmp_path):
    from services import tender as svc

    world, scenario = world_with_bids(tmp_path)
    world.clock.set(scenario.tender.opening_at)
    return world, scenario, svc.load(world.deps, scenario.scenario.name)


def test_r08_attendance_needs_the_chairs_confirmation_and_records_who_answered(tmp_path):
    from domain.reasons import DomainError, Reason
    from services import tender as svc
    from services.ports import Attendance

    world, scenario, view = _view(tmp_path)
    everyone = [m.id for m in scenario.commission]
    chair = next(m.national_id for m in scenario.commission if m.role == "chair")
    finance = next(m.national_id for m in scenario.commission if m.role == "finance")
    with pytest.raises(DomainError) as unconfirmed:
        svc.accept_attendance(world.deps, view, "opening", Attendance(everyone, False, chair))
    assert unconfirmed.value.reason is Reason.QUORUM_NOT_MET
    with pytest.raises(DomainError) as not_chair:
        svc.accept_attendance(world.deps, view, "opening", Attendance(everyone, True, finance))
    assert not_chair.value.reason is Reason.NOT_AUTHORISED
    assert svc.accept_attendance(world.deps, view, "opening", Attendance(everyone, True, chair)) == everyone
    with world.deps.uow() as uow:
        entries = [e for e in uow.audit.entries() if e.action == "session.attendance"]
    assert [(e.actor, e.reason) for e in entries] == [(chair, "QUORUM_NOT_MET"), (finance, "NOT_AUTHORISED"),
                                                      (chair, None)]
