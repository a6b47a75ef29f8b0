"""Issue 13 part 3: the events that start the contract flows carry ids only, the Orchestrator port
puts them on Prefect's bus as resource labels, and prefect.yaml's triggers render each run's
parameters from labels the event carries (services.contract.events, eproc.stack.orchestrator)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import jinja2
import jinja2.sandbox
import pytest
import yaml

from services.contract import events

ROOT = Path(__file__).resolve().parents[2]
TRIGGERED = {"contract-registration", "status-statements", "payments"}

ALL = [events.tender_contracted("UI-1", "b2"),
       events.stage_approved("UI-1", "TRK-12-1400-00001", "budget", None),
       events.stage_approved("UI-1", "TRK-12-1400-00001", "signing", "12-1400-0001"),
       events.statement_submitted("UI-1", "TRK-12-1400-00001", "12-1400-0001", "s1"),
       events.statement_approved("UI-1", "TRK-12-1400-00001", "12-1400-0001", "s1"),
       events.payment_requested("UI-1", "TRK-12-1400-00001", "12-1400-0001", "s1", "p1"),
       events.receipt_recorded("UI-1", "TRK-12-1400-00001", "12-1400-0001", "s1", "p1")]


def test_r13_every_event_carries_ids_only():
    assert {e.event for e in ALL} == set(events.EVENTS)
    for e in ALL:
        assert set(e.ids) <= set(events.ID_LABELS), e
        assert e.ids["tender-id"] == "UI-1"
        assert all(re.fullmatch(r"[\w\-/.:]{1,120}", v) for v in e.ids.values()), e
        assert re.fullmatch(r"eproc\.(tender|contract|statement)\.[\w\-/.:]+", e.resource_id), e
    assert ALL[4].ids["statement-id"] == "TRK-12-1400-00001/s1"  # the municipality-wide statement id
    assert "contract-code" not in ALL[1].ids  # no code before `final`: nothing invented


@pytest.mark.parametrize("value", ["-----BEGIN PRIVATE KEY-----\nMIIE", "<Statement>1</Statement>", "pin 1357 x",
                                   "a" * 200, ""])
def test_r13_an_event_refuses_anything_but_an_id(value):
    if value == "":
        assert "bidder" not in events.tender_contracted("UI-1", value).ids  # an empty id is left out
        return
    with pytest.raises(ValueError):
        events.tender_contracted("UI-1", value)


class _Recording:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []
        self.fail = fail

    def emit(self, event: str, resource_id: str, ids: dict[str, str]) -> None:
        if self.fail:
            raise ConnectionError("prefect down")
        self.sent.append((event, resource_id, ids))


def test_r13_emit_goes_through_the_orchestrator_port_and_never_fails_the_step():
    from types import SimpleNamespace

    rehearsal = cast(Any, SimpleNamespace(orchestrator=None))
    events.emit(rehearsal, ALL[0])  # without an orchestrator nothing is emitted (and nothing breaks)
    port = _Recording()
    events.emit(cast(Any, SimpleNamespace(orchestrator=port)), ALL[3])
    assert port.sent == [(events.STATEMENT_SUBMITTED, ALL[3].resource_id, ALL[3].ids)]
    events.emit(cast(Any, SimpleNamespace(orchestrator=_Recording(fail=True))), ALL[3])  # logged, not raised


def _prefect_events(monkeypatch) -> list[Any]:
    """PrefectOrchestrator.emit with Prefect's emit_event captured: the Event objects it would send."""
    import prefect.events
    from prefect.events import Event

    sent: list[Any] = []

    def capture(event: str, resource: dict[str, str], payload: dict[str, Any] | None = None, **_: Any) -> Any:
        sent.append(Event(event=event, resource=resource, payload=payload or {}))
        return sent[-1]

    monkeypatch.setattr(prefect.events, "emit_event", capture)
    from eproc.stack.orchestrator import PrefectOrchestrator

    port = PrefectOrchestrator(cast(Any, None), "http://127.0.0.1:1/api")
    for e in ALL:
        port.emit(e.event, e.resource_id, e.ids)
    return sent


def test_r13_the_prefect_event_holds_the_ids_as_labels_and_payload(monkeypatch):
    sent = _prefect_events(monkeypatch)
    assert [e.event for e in sent] == [e.event for e in ALL]
    for got, ours in zip(sent, ALL, strict=True):
        labels = dict(got.resource.root)
        assert labels.pop("prefect.resource.id") == ours.resource_id
        assert labels == {f"eproc.{k}": v for k, v in ours.ids.items()}
        assert got.payload == ours.ids


def _deployments() -> dict[str, dict]:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in spec["deployments"]}


def test_r13_triggers_render_each_run_from_the_ids_its_event_carries(monkeypatch):
    """Each triggered deployment expects our events only; each parameter template, rendered against
    every event it expects (as Prefect's automation renders it), gives that event's id; the
    deployment's entrypoint takes exactly those parameters."""
    import importlib
    import inspect

    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    sent = {e.event: e for e in _prefect_events(monkeypatch)}
    deployments = _deployments()
    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    started_by: dict[str, set[str]] = {}
    for name, dep in deployments.items():
        triggers = dep.get("triggers") or []
        assert bool(triggers) == (name in TRIGGERED), name
        module, fn = dep["entrypoint"].split(":")
        params = set(inspect.signature(getattr(importlib.import_module(module.replace("/", ".")[:-3]), fn).fn)
                     .parameters)
        for spec in triggers:
            trigger = DeploymentEventTrigger.model_validate(spec)
            assert trigger.expect and trigger.expect <= set(events.EVENTS), trigger.expect
            assert set(trigger.parameters or {}) <= params, (name, trigger.parameters)
            for ev_name in trigger.expect:
                started_by.setdefault(ev_name, set()).add(name)
                event = sent[ev_name]
                pattern = trigger.match.root["prefect.resource.id"]
                assert re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), event.resource.id), pattern
                for param, template in (trigger.parameters or {}).items():
                    rendered = env.from_string(template).render(event=event)
                    assert rendered == event.payload[{"tender_id": "tender-id", "ref": "statement-ref",
                                                      "bidder": "bidder", "payment_ref": "payment-ref"}[param]]
    assert started_by == {events.TENDER_CONTRACTED: {"contract-registration"},
                          events.STAGE_APPROVED: {"contract-registration"},
                          events.STATEMENT_SUBMITTED: {"status-statements"},
                          events.STATEMENT_APPROVED: {"status-statements"},  # its payment-requested pays
                          events.PAYMENT_REQUESTED: {"payments"},
                          events.RECEIPT_RECORDED: {"status-statements"}}
    # scheduled flows stay as they are
    assert deployments["monthly-reports"]["schedules"] and deployments["audit-checkpoint"]["schedules"]
    assert deployments["payments"]["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
