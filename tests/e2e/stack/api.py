"""The few Prefect REST calls the stack tests make (plain HTTP: no client settings in the test process)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

POLL = 0.5  # seconds between two looks at the Prefect API while waiting


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def runs(self, **flt: Any) -> list[dict]:
        r = self.http.post("/flow_runs/filter", json={"flow_runs": flt, "limit": 200})
        r.raise_for_status()
        return r.json()

    def run(self, run_id: str) -> dict:
        r = self.http.get(f"/flow_runs/{run_id}")
        r.raise_for_status()
        return r.json()

    def subflows(self, parent_id: str) -> list[dict]:
        task_runs = self.http.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [parent_id]}}}).json()
        ids = [t["id"] for t in task_runs]
        if not ids:
            return []
        return self.runs(parent_task_run_id={"any_": ids})

    def resume(self, run_id: str, run_input: dict) -> None:
        for _ in range(5):  # a busy test server answers 503 now and then: what an operator retries too
            r = self.http.post(f"/flow_runs/{run_id}/resume", json={"run_input": run_input})
            if r.status_code != 503:
                break
            time.sleep(2)
        r.raise_for_status()
        assert r.json()["status"] == "ACCEPT", r.json()

    def set_state(self, run_id: str, state_type: str) -> None:
        r = self.http.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type}, "force": True})
        r.raise_for_status()

    def wait(self, what: Callable[[], Any], timeout: float, message: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = what()
            if found:
                return found
            time.sleep(POLL)
        raise AssertionError(f"timed out after {timeout:.0f}s: {message}")

    def wait_state(self, run_id: str, types: set[str], timeout: float) -> dict:
        return self.wait(lambda: (r := self.run(run_id))["state_type"] in types and r, timeout,
                         f"run {run_id} reaching {types} (now {self.run(run_id)['state_type']})")

    def pause_key(self, run_id: str) -> str | None:
        """The key of the form the run is paused on (state "Paused"); None otherwise, and for a run
        suspended while members act at their stations (state "Suspended": no form to answer)."""
        r = self.run(run_id)
        paused = r["state_type"] == "PAUSED" and r["state"]["name"] == "Paused"
        return r["state"]["state_details"].get("pause_key") if paused else None

    def suspended(self, run_id: str, waiting_for: str | None = None) -> dict | None:
        """The run while it is suspended (holding no worker), else None; with `waiting_for`, only while
        suspended for that wait (`release-<session>`, `sign-<kind>`: its suspension key less `-<hex>`)."""
        r = self.run(run_id)
        if r["state_type"] != "PAUSED" or r["state"]["name"] != "Suspended":
            return None
        key = str(r["state"]["state_details"].get("pause_key") or "")
        return r if waiting_for is None or key.rpartition("-")[0] == waiting_for else None

    def answer(self, run_id: str, run_input: dict, timeout: float = 120, after: str | None = None) -> str:
        """Wait for the run to pause (on a pause other than `after`), answer its form; return the key."""
        key = self.wait(lambda: (k := self.pause_key(run_id)) and k != after and k, timeout,
                        f"run {run_id} pausing for a form")
        self.wait(lambda: self.form_saved(run_id, key), 30, f"the form of run {run_id}")
        self.resume(run_id, run_input)
        return key

    def form_saved(self, run_id: str, key: str) -> bool:
        """The paused form's schema is stored (just after the run paused): a resume before it is refused."""
        return self.http.get(f"/flow_runs/{run_id}/input/paused-{key}-schema").status_code == 200

    def finish_tender(self, run_id: str, attendance_key: str, sign: Callable[[str], Any]) -> None:
        """After attendance: confirm the generated minutes, which the members then sign at their
        stations (`sign("article13")`), the chair the Article 18 notification (`sign("article18")`),
        then the winner's contract signature. The run suspends while it waits for the signatures."""
        self.answer(run_id, {"confirmed": True, "note": "", "answered_by": "deputy-representative"},
                    after=attendance_key)
        sign("article13")
        sign("article18")
        self.answer(run_id, {"signed": True, "answered_by": "contracts-officer"}, timeout=180)
        self.wait_state(run_id, {"COMPLETED"}, timeout=120)

    def paused_session(self, run_id: str, timeout: float) -> dict:
        """The tender's run once it is paused on a form (the sitting runs inside it, not as a subflow)."""
        return self.wait(lambda: self.pause_key(run_id) and self.run(run_id), timeout,
                         f"the run {run_id} paused on a form")
