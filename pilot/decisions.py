"""The pilot's scripted answers to the decisions operators make in the Prefect UI: the chair (by
national ID) answers attendance, the deputy's representative the minutes, as the scenario says; and
the members' signatures, each made at the member's own station (their own token and PIN) over the
same API as in production (issue 12 part 3): the engine never signs for them."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Protocol

import httpx

from api.app import create_app
from config.settings import Settings
from domain.reasons import DomainError, Reason
from pilot.scenario import Scenario
from pilot.stations import SERVER, InProcessTransport
from services.deps import Deps, current
from services.ports import Attendance, Confirmation, Scores
from stations.client import Station
from stations.minutes import sign_minutes

SCRIPT = "pilot-script"
NOT_LET_IN = frozenset({Reason.CERT_REVOKED, Reason.CERT_EXPIRED, Reason.NOT_AUTHENTICATED, Reason.NOT_AUTHORISED})


class PeopleStations(Protocol):
    """Where the simulated people's stations come from (pilot.stations.PilotStations)."""

    def person(self, national_id: str, role: str, unit: str) -> AbstractContextManager[Station]:
        ...


class ScriptedDecisions:
    """Answers from `scenario`. `stations`: gives the world's people's stations (called when first
    needed: the world makes them after its decisions); without it (a scripted rehearsal on the stack,
    whose worker holds the simulated people's tokens) an in-process API over the current container."""

    def __init__(self, scenario: Scenario, stations: Callable[[], PeopleStations] | None = None) -> None:
        self.scenario = scenario
        self.stations = stations

    def _chair(self) -> str:
        return next((m.national_id for m in self.scenario.commission if m.role == "chair"), SCRIPT)

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> Attendance:
        absent = {e.who for e in self.scenario.events if e.kind == "absent" and e.at <= at}
        return Attendance([mid for mid in members if mid not in absent], True, self._chair())

    def technical_scores(self, tender_id: str, bidders: list[str]) -> Scores:
        scores = {b.id: b.technical_score for b in self.scenario.bidders}
        for e in sorted(self.scenario.events, key=lambda e: e.at):
            if e.kind == "resubmit" and e.technical_score is not None:
                scores[e.who] = e.technical_score
        return Scores({b: s for b in bidders if (s := scores.get(b)) is not None}, self._chair())

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> Confirmation:
        declined = any(e.kind == "decline_contract" and e.who == bidder for e in self.scenario.events)
        return Confirmation(not declined, SCRIPT)

    def confirm_minutes(self, tender_id: str, summary: str) -> Confirmation:
        # Generated from approved price lists and formulas; the rehearsal's deputy confirms them.
        return Confirmation(True, SCRIPT)

    def release_parts(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> None:
        """Every member present (attendance: absent ones do not come) releases their parts at their own
        station, logged in as their role in the scenario's unit (stations.commission.join: a member who
        released already sends nothing again). Members without parts (the legal member) stay out.
        Raises: what the stations raise."""
        from stations.commission import join

        seated = {m.id: m for m in self.scenario.commission if m.role != "legal"}
        present = self.attendance(tender_id, session, members, at).present
        people = self.stations() if self.stations is not None else InProcessStations(current())
        for member_id in present:
            member = seated.get(member_id)
            if member is None:
                continue
            try:
                with people.person(member.national_id, member.role, self.scenario.tender.unit) as station:
                    join(station, tender_id, session, station.ca_pem())
            except DomainError as exc:
                # A member whose certificate was revoked (or who lost the role) cannot log in: their seat
                # passes to the alternate, who releases too (R05, R08).
                if exc.reason not in NOT_LET_IN:
                    raise

    def minutes_signed(self, tender_id: str, kind: str, signers: list[str]) -> None:
        """Each member in `signers` (in that order) signs at their own station, logged in as their
        role in the scenario's unit (stations.minutes.sign_minutes: nothing is sent by one who has
        signed already). Raises: what the stations raise."""
        members = {m.id: m for m in self.scenario.commission}
        people = self.stations() if self.stations is not None else InProcessStations(current())
        for member_id in signers:
            member = members[member_id]
            with people.person(member.national_id, member.role, self.scenario.tender.unit) as station:
                sign_minutes(station, tender_id, kind)


class InProcessStations:
    """The API of `deps` in-process (no socket) and, for a person, a station on the token the
    container's signers know for them: the stack's scripted rehearsal, whose worker holds the
    simulated people's tokens (pilot.world `shared_tokens`)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.app = create_app(deps, settings=Settings(api_secret=secrets.token_urlsafe(48)))

    @contextmanager
    def person(self, national_id: str, role: str, unit: str) -> Iterator[Station]:
        signer = self.deps.signers.get(national_id)
        client = httpx.Client(base_url=SERVER, transport=InProcessTransport(self.app), timeout=120.0)
        station = Station(SERVER, signer.token_label, signer.key_label, pin=signer.pin, clock=self.deps.clock,
                          client=client)
        with station:
            yield station.login(role, unit)
