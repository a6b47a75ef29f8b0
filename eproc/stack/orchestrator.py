"""The workflow engine the transactions system talks to: Prefect (services.ports.Orchestrator).

The API schedules a tender's run when its notice is published, refreshes the operators' view as
members release and sign at their stations, and resumes the suspended run when what it waits for is
complete; a waiting run schedules its own wake-up at its deadline (deployment `tender-wake`). Only
ids and times reach Prefect."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from services.deps import Deps

TENDER_DEPLOYMENT = "tender/tender"
WAKE_DEPLOYMENT = "tender-wake/tender-wake"
SUSPENDED = "Suspended"
# A run seen running when its wait completes is about to suspend (it checked the store a moment
# before the last member acted): the wake-up waits this long for it to do so.
SETTLE_SECONDS = 20.0
log = logging.getLogger(__name__)


class PrefectOrchestrator:
    """`services.ports.Orchestrator` on the Prefect API at `api_url`. `deps`: the container whose store
    the operators' view is read from."""

    def __init__(self, deps: Deps, api_url: str) -> None:
        self.deps, self.api_url = deps, api_url

    @contextmanager
    def _api(self) -> Iterator[None]:
        # Per call and per thread (Prefect's settings context is a context variable): no process-wide
        # setting changes.
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api_url}):
            yield

    def schedule_tender(self, tender_id: str, unit: str, opening_at: datetime, kind: str = "tender") -> dict[str, Any]:
        """One run per tender, at the opening time, tagged with the tender's unit and kind (`schedule_run`)."""
        with self._api():
            return schedule_run(tender_id, unit, opening_at, kind=kind)

    def progress(self, tender_id: str, session: str | None, kind: str | None, ready: bool) -> None:
        """Refresh the sitting's seats or the document's signatures artifact; when `ready`, resume the
        tender's suspended run. Done in the background: the member's request is answered at once, and
        the workflow engine being down costs only the refresh (the run's own wake-up still comes)."""
        threading.Thread(target=self._progress, args=(tender_id, session, kind, ready), daemon=True,
                         name=f"progress-{tender_id}").start()

    def _progress(self, tender_id: str, session: str | None, kind: str | None, ready: bool) -> None:
        from flows.runtime import publish_signatures, publish_sitting

        try:
            with self._api():
                runs = self._runs(tender_id)
                run_id = runs[0].id if runs else None  # the view belongs to the waiting run
                if run_id is not None and session is not None:
                    publish_sitting(tender_id, session, self.deps, run_id)
                if run_id is not None and kind is not None:
                    publish_signatures(tender_id, kind, self.deps, run_id)
            if ready:
                self.wake(tender_id, f"release-{session}" if session is not None else f"sign-{kind}")
        except Exception as exc:  # noqa: BLE001 - logged; the run's scheduled wake-up still resumes it
            log.warning("tender %s: the workflow engine was not told of progress: %s", tender_id, type(exc).__name__)

    def emit(self, event: str, resource_id: str, ids: dict[str, str]) -> None:
        """An id-only Prefect event about `resource_id`: each id a resource label `eproc.<name>` and the
        payload too, so the deployments whose triggers expect it start a run (issue 13 part 3)."""
        from prefect.events import emit_event

        with self._api():
            emit_event(event=event, resource={"prefect.resource.id": resource_id,
                                              **{f"eproc.{name}": value for name, value in ids.items()}},
                       payload=dict(ids))

    def wake_at(self, tender_id: str, when: datetime) -> None:
        """A `tender-wake` run at `when` (one per tender and moment: idempotency key)."""
        from prefect.deployments import run_deployment

        with self._api():
            run_deployment(WAKE_DEPLOYMENT, parameters={"tender_id": tender_id}, scheduled_time=when, timeout=0,
                           flow_run_name=f"wake-{tender_id}", tags=["tender-wake"],
                           idempotency_key=f"wake:{tender_id}:{when.isoformat()}", as_subflow=False)

    def wake(self, tender_id: str, waiting_for: str | None = None) -> None:
        """Resume the tender's suspended run, once: the one suspended waiting for `waiting_for` (the
        wait's name: `release-<session>`, `sign-<kind>`; None: whatever it waits for). A run still
        running is given `SETTLE_SECONDS` to suspend; a run suspended for another wait is left alone
        (the last signature on the minutes must not resume the wait for the notification after it)."""
        from prefect.flow_runs import resume_flow_run

        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            with self._api():
                runs = self._runs(tender_id)
                waiting = [r for r in runs if r.state is not None and r.state.name == SUSPENDED
                           and (waiting_for is None
                                or str(r.state.state_details.pause_key or "").rpartition("-")[0] == waiting_for)]
                for run in waiting:
                    resume_flow_run(run.id)
            if waiting or not any(r.state is not None and r.state.is_running() for r in runs) \
                    or time.monotonic() > deadline:
                return
            time.sleep(1.0)

    def _runs(self, tender_id: str) -> list[Any]:
        from prefect import get_client
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterName,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType

        with get_client(sync_client=True) as client:
            return list(client.read_flow_runs(flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[f"tender-{tender_id}"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED, StateType.RUNNING])))))


def schedule_run(tender_id: str, unit: str, opening_at: datetime, deployment: str = TENDER_DEPLOYMENT,
                 job_variables: dict[str, Any] | None = None, kind: str = "tender") -> dict[str, Any]:
    """The tender's run of `deployment` scheduled at `opening_at` (UTC): one per tender (idempotency
    key; scheduling again returns the same run), tagged `tender`, the unit and the transaction `kind` so
    operators filter a district's tenders in the UI; its only parameter is the tender id.

    Returns `{"id", "name", "scheduled_for" (ISO, UTC), "tags"}`. Raises: Prefect's errors when its API
    cannot be reached or the deployment does not exist."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    run = cast(FlowRun, run_deployment(deployment, parameters={"tender_id": tender_id}, scheduled_time=opening_at,
                                       timeout=0, flow_run_name=f"tender-{tender_id}",
                                       tags=sorted({"tender", unit, kind}),
                                       idempotency_key=f"tender:{tender_id}",
                                       job_variables=job_variables or None, as_subflow=False))
    return {"id": str(run.id), "name": run.name, "scheduled_for": opening_at.isoformat(), "tags": sorted(run.tags)}
