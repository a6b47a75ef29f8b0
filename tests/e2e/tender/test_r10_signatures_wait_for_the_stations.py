"""Issue 12 part 3 through the real tender flow: the flow waits for the members to sign the minutes at
their stations (the Decisions port), never signs for them, and blocks the tender with QUORUM_NOT_MET
when the signatures do not come; the chair's Article 18 notification likewise. A rerun continues
from what was signed."""
from __future__ import annotations

from pilot_harness import world_with_bids


def test_r10_unsigned_minutes_and_notification_block_the_tender_and_a_rerun_completes(prefect_server, tmp_path):
    from flows.tender import tender_flow
    from pilot.decisions import ScriptedDecisions
    from services.deps import use

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name

    class Signing(ScriptedDecisions):
        """Members sign only the kinds listed (a wait that timed out for the others)."""

        def __init__(self, kinds: set[str]) -> None:
            super().__init__(scenario, lambda: world.stations)
            self.kinds = kinds

        def minutes_signed(self, tender_id: str, kind: str, signers: list[str]) -> None:
            if kind in self.kinds:
                super().minutes_signed(tender_id, kind, signers)

    def run(kinds: set[str]) -> dict:
        world.deps.decisions = Signing(kinds)
        with use(world.deps):
            return tender_flow(tender_id)

    def stored(kind: str):
        with world.deps.uow() as uow:
            row = uow.minutes.latest(tender_id, kind)
            status = uow.tenders.get(tender_id).status
            signatures = list(uow.minutes.signatures(kind, tender_id))
        return row, status, signatures

    assert run(set()) == {"status": "blocked", "reason": "QUORUM_NOT_MET"}
    minutes, status, signatures = stored("article13")
    assert minutes is not None and not minutes.final and b"Signature" not in minutes.xml  # nobody signed for them
    assert status == "blocked" and signatures == []

    assert run({"article13"}) == {"status": "blocked", "reason": "QUORUM_NOT_MET"}
    minutes, status, signatures = stored("article13")
    assert minutes.final and len(signatures) == 5
    notification, status, _ = stored("article18")
    assert notification is not None and not notification.final and status == "blocked"

    result = run({"article13", "article18"})
    assert result["status"] == "awarded" and result["contract_bidder"] == "b3"
    notification, status, signatures = stored("article18")
    assert notification.final and status == "contracted"
    assert [s.signer_national_id for s in signatures] == [world.member_nid["m1"]]
