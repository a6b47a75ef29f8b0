"""R24: the project report shows each contract's subject as the engine stores it (a contract
registered with workflow keeps it among its fields; a legacy import keeps it flat)."""
from __future__ import annotations

import json

from services.reports import projects_report


def test_r24_project_report_shows_the_subject_of_a_contract_registered_by_the_engine(district12):
    world = district12.world
    report = projects_report(world.deps.sessions, unit=world.unit)
    rows = {r["project_code"]: r for r in report.rows}
    code = district12.report["contract"]["code"]
    assert rows[code]["title"] == world.scenario.tender.title != ""
    with world.deps.uow() as uow:
        stored = json.loads(uow.contracts.by_code(code).data_json)
    assert "subject" not in stored and stored["fields"]["subject"] == world.scenario.tender.title
