"""The pilot's scripted answers to the decisions operators make in the Prefect UI."""
from __future__ import annotations

from datetime import datetime

from pilot.scenario import Scenario


class ScriptedDecisions:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> list[str]:
        absent = {e.who for e in self.scenario.events if e.kind == "absent" and e.at <= at}
        return [mid for mid in members if mid not in absent]

    def technical_scores(self, tender_id: str, bidders: list[str]) -> dict[str, int]:
        scores = {b.id: b.technical_score for b in self.scenario.bidders}
        for e in sorted(self.scenario.events, key=lambda e: e.at):
            if e.kind == "resubmit" and e.technical_score is not None:
                scores[e.who] = e.technical_score
        return {b: scores[b] for b in bidders if scores.get(b) is not None}

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> bool:
        return not any(e.kind == "decline_contract" and e.who == bidder for e in self.scenario.events)

    def confirm_minutes(self, tender_id: str, summary: str) -> bool:
        return True  # generated from approved price lists and formulas; the pilot confirms them
