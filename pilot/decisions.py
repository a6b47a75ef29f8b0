"""The pilot's scripted answers to the decisions operators make in the Prefect UI: the chair (by
national ID) answers attendance, the deputy's representative the minutes, as the scenario says."""
from __future__ import annotations

from datetime import datetime

from pilot.scenario import Scenario
from services.ports import Attendance, Confirmation, Scores

SCRIPT = "pilot-script"


class ScriptedDecisions:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

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
