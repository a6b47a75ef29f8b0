"""Issue 13 part 3 on the stack (`eproc up`): the contract-registration, status-statements and payments
deployments carry event triggers (prefect.yaml), and each starts a run by itself when its event comes,
with the run's parameters rendered from the event's ids. The tender's run emits
`eproc.tender.contracted` when the winner signed; the statement and payment events are emitted here as
the API emits them (services.contract.events through the Orchestrator port, `PrefectOrchestrator.emit`).
Every event Prefect stored carries ids only."""
from __future__ import annotations

from typing import Any, cast

import pytest

from services.contract import events

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack-2")]  # tests/e2e/stack/test_stack.py
TID = "EV-1"
TRACKING = "TRK-EV-1"  # no contract is opened on the stack here: the flows find none and say so


def _deployment_id(api, name: str) -> str:
    found = [d for d in api.http.post("/deployments/filter", json={}).json() if d["name"] == name]
    assert found, name
    return cast(str, found[0]["id"])


def _triggered_run(api, deployment: str, parameters: dict[str, Any], timeout: float = 120) -> dict:
    """The run of `deployment` with exactly `parameters`, once it has finished."""
    dep = _deployment_id(api, deployment)
    run = api.wait(lambda: next((r for r in api.runs(deployment_id={"any_": [dep]})
                                 if r["parameters"] == parameters), None),
                   timeout, f"a run of {deployment} with {parameters}")
    return cast(dict, api.wait_state(run["id"], {"COMPLETED", "FAILED", "CRASHED"}, timeout=timeout))


def _started_by_its_trigger(api, run: dict, deployment: str) -> None:
    assert run["state_type"] == "COMPLETED", run["state"]
    assert run["created_by"] is not None and run["created_by"]["type"] == "AUTOMATION", run["created_by"]
    assert not run["auto_scheduled"] and run["idempotency_key"]  # not from a schedule: from the automation
    automation = api.http.get(f"/automations/{run['created_by']['id']}").json()
    assert automation["actions"][0]["type"] == "run-deployment"
    assert automation["actions"][0]["deployment_id"] == _deployment_id(api, deployment)


def test_r13_each_contract_flow_starts_from_its_event(stack, world, api, schedule):
    from eproc.stack.orchestrator import PrefectOrchestrator
    from services.deps import Deps

    deployments = {d["name"]: d for d in api.http.post("/deployments/filter", json={}).json()}
    assert {"contract-registration", "status-statements", "payments"} <= set(deployments)
    assert not any(deployments[n]["schedules"] for n in ("contract-registration", "status-statements", "payments"))
    assert deployments["monthly-reports"]["schedules"]  # scheduled flows stay scheduled

    # 1. the tender's run (the deployment, scripted answers) ends with the winner's signature: its
    # `eproc.tender.contracted` starts the contract's registration, which finds no contract opened yet
    world([TID])
    tender = schedule(TID, scripted=True)
    done = api.wait_state(tender["id"], {"COMPLETED", "FAILED", "CRASHED"}, timeout=300)
    assert done["state_type"] == "COMPLETED", done["state"]
    dep = _deployment_id(api, "contract-registration")
    contract_run = api.wait(lambda: next(iter(api.runs(deployment_id={"any_": [dep]}, name={"any_": [f"contract-{TID}"]})),
                                         None), 120, "the contract registration's run")
    contract_run = api.wait_state(contract_run["id"], {"COMPLETED", "FAILED", "CRASHED"}, timeout=120)
    assert contract_run["parameters"]["tender_id"] == TID and contract_run["parameters"]["bidder"]
    _started_by_its_trigger(api, contract_run, "contract-registration")

    # 2. the API's events, as the Orchestrator port emits them
    port = PrefectOrchestrator(cast(Deps, None), stack.api_url)
    for ev in (events.stage_approved(TID, TRACKING, "legal_review", None),
               events.statement_submitted(TID, TRACKING, None, "s1"),
               events.payment_requested(TID, TRACKING, None, "s1", "p9")):
        port.emit(ev.event, ev.resource_id, ev.ids)
    stage_run = api.wait(lambda: next((r for r in api.runs(deployment_id={"any_": [dep]})
                                       if r["parameters"] == {"tender_id": TID} or
                                       r["parameters"] == {"tender_id": TID, "bidder": None}), None),
                         120, "the run started by the stage approval")
    _started_by_its_trigger(api, api.wait_state(stage_run["id"], {"COMPLETED", "FAILED", "CRASHED"}, 120),
                            "contract-registration")
    statement_run = _triggered_run(api, "status-statements", {"tender_id": TID, "ref": "s1"})
    _started_by_its_trigger(api, statement_run, "status-statements")
    payment_run = _triggered_run(api, "payments", {"tender_id": TID, "ref": "s1", "payment_ref": "p9"})
    _started_by_its_trigger(api, payment_run, "payments")

    # 3. every event of ours that Prefect holds names ids only
    got = api.http.post("/events/filter", json={"filter": {"event": {"prefix": ["eproc."]}}, "limit": 50}).json()
    seen = {e["event"] for e in got["events"]}
    assert {events.TENDER_CONTRACTED, events.STAGE_APPROVED, events.STATEMENT_SUBMITTED,
            events.PAYMENT_REQUESTED} <= seen, seen
    allowed = {f"eproc.{label}" for label in events.ID_LABELS} | {"prefect.resource.id"}
    for e in got["events"]:
        assert set(e["resource"]) <= allowed, e["resource"]
        assert set(e["payload"]) <= set(events.ID_LABELS), e["payload"]
        assert e["resource"]["eproc.tender-id"] == TID
