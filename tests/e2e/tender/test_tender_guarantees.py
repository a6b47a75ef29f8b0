"""What the engine guarantees beyond the happy path: no early opening, nothing readable in the
database before the session, and a killed process that resumes with the same minutes."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pilot_harness import eproc_pilot, world_with_bids


def test_r08_opening_before_the_scheduled_time_is_refused(tmp_path):
    from domain.reasons import DomainError, Reason
    from services import tender as svc

    world, scenario = world_with_bids(tmp_path)
    world.clock.set(scenario.tender.opening_at - __import__("datetime").timedelta(hours=1))
    with pytest.raises(DomainError) as exc:
        svc.opening_session(world.deps, scenario.scenario.name, [m.id for m in scenario.commission])
    assert exc.value.reason is Reason.OPENING_TOO_EARLY
    with world.deps.uow() as uow:
        assert uow.session.query(__import__("store.models", fromlist=["Session"]).Session).count() == 0


def test_r08_database_access_alone_reveals_no_bid_content(tmp_path):
    from pilot.bidders import envelope_contents

    world, scenario = world_with_bids(tmp_path)
    secrets = []
    for b in scenario.bidders:
        contents = envelope_contents(b.guarantee, b.documents, b.grade, b.technical_score, b.price)
        secrets += [contents["A"], contents["B"], contents["C"], f'"{b.price.coefficient}"'.encode()]
    db = world.base_dir / "eproc.db"
    conn = sqlite3.connect(db)
    dump = b""
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            for value in row:
                dump += value if isinstance(value, bytes) else str(value).encode("utf-8")
    conn.close()
    assert len(dump) > 10_000  # the sealed bids are there ...
    for secret in secrets:
        assert secret not in dump  # ... but no envelope's plaintext, and no offered coefficient


@pytest.mark.slow
def test_r10_killed_during_the_session_resumes_with_the_same_minutes(prefect_server, tmp_path):
    work = tmp_path / "crashed"
    crashed = eproc_pilot(prefect_server, work, crash_at="article13.signed#2")
    assert crashed.returncode == 137, crashed.stderr[-2000:]
    conn = sqlite3.connect(work / "eproc.db")
    assert conn.execute("SELECT final FROM minutes WHERE kind='article13'").fetchall() == [(0,)]
    conn.close()
    resumed = eproc_pilot(prefect_server, work)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    clean = eproc_pilot(prefect_server, tmp_path / "clean")
    assert json.loads(resumed.stdout) == json.loads(clean.stdout)

    def counts(db: Path) -> dict:
        c = sqlite3.connect(db)
        out = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
               for t in ("bids", "sessions", "minutes", "signatures", "envelopes")}
        out["opened"] = c.execute("SELECT count(*) FROM audit_log WHERE action='envelope.opened'").fetchone()[0]
        out["signed"] = c.execute("SELECT count(*) FROM audit_log WHERE action='article13.signed'").fetchone()[0]
        body = c.execute("SELECT xml FROM minutes WHERE kind='article13'").fetchone()[0]
        c.close()
        return out, body

    (after, body_after), (reference, body_ref) = counts(work / "eproc.db"), counts(tmp_path / "clean" / "eproc.db")
    assert after == reference  # no duplicate bid, session, minutes, signature or opening
    from domain.documents.minutes import canonical_bytes
    from domain.xmlsafe import parse_untrusted
    from signing.xmldsig import signed_document_root

    body = lambda xml: canonical_bytes(signed_document_root(parse_untrusted(xml)))  # noqa: E731
    assert body(body_after) == body(body_ref)  # the same minutes, byte for byte
