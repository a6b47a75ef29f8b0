"""The commission's members acting as themselves on the stack (issue 12): each a `stations.client.Station`
over real HTTP to the stack's transactions API (`eproc serve`), on their own token (the world's shared
token directory, their own label, pilot.world.SHARED_PIN) and the system clock. The engine holds none
of their tokens: its flow waits until they release their parts and sign.

    members = Members(stack.transactions_url, world)
    members.release("UI-1")             # once the flow opened the sitting: each seated member joins
    members.sign("UI-1", "article13")   # once the minutes exist: each required member signs
    members.sign("UI-1", "article18")   # once the notification exists: the chair signs
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from domain.reasons import DomainError, Reason
from pilot.world import SHARED_PIN, World, token_label
from services.tender.minutes import ToSign
from stations.client import Api, Station
from stations.commission import Joined, join, sitting_path
from stations.minutes import show_minutes, sign_minutes

POLL = 0.5  # seconds between two looks at the API while waiting for the flow
T = TypeVar("T")


class Members:
    """The commission of `world`'s scenario at their stations, reaching the API at `server`."""

    def __init__(self, server: str, world: World, timeout: float = 180.0) -> None:
        self.server = server
        self.world = world
        self.unit = world.scenario.tender.unit
        self.commission = list(world.scenario.commission)
        self.timeout = timeout

    @contextmanager
    def station(self, national_id: str, role: str) -> Iterator[Station]:
        """The member's own station, logged in as `role` in the tender's unit."""
        st = Station(self.server, token_label(self.world, national_id), pin=SHARED_PIN)
        try:
            yield st.login(role, self.unit)
        finally:
            st.close()

    def _wait(self, what: Callable[[], T | None], message: str) -> T:
        deadline = time.monotonic() + self.timeout
        while True:
            found = what()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {self.timeout:.0f}s: {message}")
            time.sleep(POLL)

    def release(self, tender_id: str, session: str = "opening", present: Iterable[str] | None = None) -> list[Joined]:
        """Wait until the flow opened the sitting (GET .../sessions/{session}: "open"), then every present
        member (default: all) holding a seat of the bids' keys joins at their station and releases their
        parts (stations.commission.join). Returns the engine's receipts, in commission order."""
        with Api(self.server) as public:
            def opened() -> dict | None:
                try:
                    state = public.get(sitting_path(tender_id, session)).json()
                except DomainError as exc:
                    if exc.reason is Reason.NOT_FOUND:
                        return None
                    raise
                return state if state["open"] else None

            state = self._wait(opened, f"the sitting {tender_id}/{session} opening")
            ca_pem = public.ca_pem()
        seated = {mid for ids in state["seats"].values() for mid in ids}
        came = {mm.id for mm in self.commission} if present is None else set(present)
        joined = []
        for mm in self.commission:
            if mm.id in seated and mm.id in came:
                with self.station(mm.national_id, mm.role) as st:
                    joined.append(join(st, tender_id, session, ca_pem))
        return joined

    def sign(self, tender_id: str, kind: str) -> list[str]:
        """Wait until the tender's document `kind` awaits signatures (generated; for a notification, the
        minutes final), then every required member who has not signed signs it at their station
        (stations.minutes.sign_minutes). Returns the ids of those who signed now."""
        chair = next(mm for mm in self.commission if mm.role == "chair")
        with self.station(chair.national_id, chair.role) as reader:
            def awaiting() -> ToSign | None:
                try:
                    return show_minutes(reader, tender_id, kind)
                except DomainError as exc:
                    if exc.reason is Reason.WRONG_STAGE:  # not generated yet
                        return None
                    raise

            shown = self._wait(awaiting, f"{kind} of {tender_id} awaiting signatures")
        signed = []
        for mm in shown.required:
            if mm.id in shown.signed:
                continue
            with self.station(mm.national_id, getattr(mm.role, "value", mm.role)) as st:
                if sign_minutes(st, tender_id, kind)["sent"]:
                    signed.append(mm.id)
        return signed
