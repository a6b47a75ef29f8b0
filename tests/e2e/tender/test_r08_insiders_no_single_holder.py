"""Issue 12 "Done when": no single key holder, attacked the way an insider would (raw SQL and files on
the engine's side, then the normal flow).

Before issue 12 the engine generated each tender's opening key, kept the plan in its database and its
worker unwrapped every member's share with PINs from its environment; bidders (in a rehearsal) took
the key from that database. Each test below fails on that code:

- the database administrator swaps the published encryption material: the bidder's station refuses
  the notice (its signatures break), so no bid is ever sealed to the insider's material;
- the engine operator holds the engine's database, token and PIN (all the worker has): no bid's key
  can be rebuilt, nor any part unwrapped, before the sitting;
- at the sitting, a quorum that released without the security representative opens nothing, and the
  engine with every released part in hand still cannot rebuild a key;
- after a whole tender, Prefect's database holds no part, key, PIN or envelope plaintext.
"""
from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import pytest
from pilot_harness import DISTRICT_12, world_with_bids

from domain.reasons import DomainError, Reason
from sealing.envelopes import SealedBid
from sealing.opening_key import rebuild_private_key

pytestmark = pytest.mark.slow


def _db(world) -> sqlite3.Connection:
    return sqlite3.connect(world.base_dir / "eproc.db")


def _bids(world, tender_id: str) -> list[SealedBid]:
    with _db(world) as db:
        rows = db.execute("SELECT sealed FROM bids WHERE tender_id=? AND refused_reason IS NULL", (tender_id,))
        return [SealedBid.from_bytes(r[0]) for r in rows.fetchall()]


def test_r08_insider_dba_swaps_the_published_encryption_material(tmp_path):
    """The administrator puts their own certificate in the stored notice in place of the security
    representative's (and the seats row with it): the bidder's station, which takes the material from
    the signed notice only, refuses it."""
    from lxml import etree

    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from pilot import runner
    from pilot.scenario import load_scenario, tender_id_of
    from pilot.world import build_world

    scenario = load_scenario(DISTRICT_12)
    world = build_world(scenario, tmp_path / "world", load_policy(BUNDLED_POLICY))
    runner.announce(world)
    tender_id = tender_id_of(scenario)
    insider = world.signer(world.staff["contracts_officer"]).cert  # an insider with a certificate of their own
    from cryptography.hazmat.primitives.serialization import Encoding

    der = insider.public_bytes(Encoding.DER)
    with _db(world) as db:
        (xml,) = db.execute("SELECT xml FROM tender_notices WHERE tender_id=?", (tender_id,)).fetchone()
        root = etree.fromstring(xml)
        member = next(m for m in root.iter("{urn:tehran:eproc:notice:1}Member") if m.get("role") == "security")
        member.set("certificate", base64.b64encode(der).decode())
        import hashlib

        member.set("certificate_sha256", hashlib.sha256(der).hexdigest())
        swapped = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        db.execute("UPDATE tender_notices SET xml=? WHERE tender_id=?", (swapped, tender_id))
    first = scenario.bidders[0]
    with pytest.raises(DomainError) as refused:
        runner.submit(world, first.id, first.submit_at)
    assert refused.value.reason is Reason.SIGNATURE_INVALID
    assert _bids(world, tender_id) == []  # nothing sealed to the insider's material


def test_r08_insider_engine_operator_cannot_read_a_bid_before_the_session(tmp_path):
    """Everything the engine's side holds (its database, its token and PIN: the worker's files and
    environment) opens no bid before the sitting: the bids' keys never existed there and every part is
    wrapped to a member's certificate."""
    world, scenario = world_with_bids(tmp_path)
    from pilot.scenario import tender_id_of

    tender_id = tender_id_of(scenario)
    bids = _bids(world, tender_id)
    assert bids, "the scenario's bids were received"
    engine = world.deps.engine()
    with _db(world) as db:
        for table, column in (("tenders", "opening_plan_json"), ("tender_drafts", "opening_plan_json")):
            for (text,) in db.execute(f"SELECT {column} FROM {table}").fetchall():
                assert "public_key_b64" not in (text or "") and "shares" not in (text or "")  # seats only
        assert db.execute("SELECT count(*) FROM parts_releases").fetchone() == (0,)
    for bid in bids:
        assert bid.key_plan is not None
        opened = []
        for share in bid.key_plan.shares:
            try:
                opened.append(engine.unwrap(share.wrapped))
            except DomainError as exc:
                assert exc.reason in (Reason.INVALID_INPUT, Reason.TOKEN_NOT_FOUND)
        assert opened == []
        with pytest.raises(DomainError) as nothing:
            rebuild_private_key(bid.key_plan, {})
        assert nothing.value.reason is Reason.SECURITY_REP_ABSENT


def test_r08_insider_a_bid_is_not_read_before_the_security_representative_releases(tmp_path):
    """At the sitting the chair, finance and technical members release from their stations; the
    security representative does not. The sitting does not open, no envelope is decrypted, and the
    engine holding every released part cannot rebuild a single bid's key."""
    from domain.tender.commission import Role
    from pilot.scenario import tender_id_of
    from services import tender as svc
    from services.tender.release import bid_parts, open_sitting, released_parts
    from stations.commission import join

    world, scenario = world_with_bids(tmp_path)
    tender_id = tender_id_of(scenario)
    world.clock.set(scenario.tender.opening_at)
    open_sitting(world.deps, tender_id, "opening")
    voting = [m for m in scenario.commission if m.role in (Role.CHAIR.value, Role.FINANCE.value, Role.TECHNICAL.value)
              and m.alternate_for is None]
    for member in voting:
        with world.stations.person(member.national_id, member.role, scenario.tender.unit) as station:
            assert join(station, tender_id, "opening", station.ca_pem()).parts > 0
    with pytest.raises(DomainError) as blocked:
        svc.opening_session(world.deps, tender_id, [m.id for m in scenario.commission])
    assert blocked.value.reason is Reason.SECURITY_REP_ABSENT
    with _db(world) as db:
        assert db.execute("SELECT count(*) FROM audit_log WHERE action='envelope.opened'").fetchone() == (0,)
    parts = released_parts(world.deps, tender_id, "opening", [m.id for m in voting])
    for bid in _bids(world, tender_id):
        with pytest.raises(DomainError) as no_key:
            rebuild_private_key(bid.key_plan, bid_parts(parts, tender_id, bid.bidder_id))
        assert no_key.value.reason is Reason.SECURITY_REP_ABSENT


def _secrets_of(workdir: Path) -> list[bytes]:
    """What must never reach Prefect: every part as wrapped in the bids and as released, the released
    ciphertexts, the simulated people's PINs, and each bid's envelope C plaintext (canonical bytes)."""
    from pilot.bidders import envelope_contents
    from pilot.scenario import load_scenario
    from pilot.world import simulated_pin

    out: list[bytes] = []
    with sqlite3.connect(workdir / "eproc.db") as db:
        for (blob,) in db.execute("SELECT sealed FROM bids").fetchall():
            plan = SealedBid.from_bytes(blob).key_plan
            out += [str(s.wrapped.get("ciphertext", "")).encode()[:40] for s in plan.shares]
        for (xml,) in db.execute("SELECT xml FROM parts_releases").fetchall():
            text = xml.decode()
            start = text.index('ciphertext="') + len('ciphertext="')
            out.append(text[start:start + 40].encode())
        labels = [r[0] for r in db.execute("SELECT DISTINCT token_label FROM certificates").fetchall()]
    # A PIN as a value (quoted, as in a parameter, result or log record): six bare digits also occur by
    # chance inside timestamps and ids.
    out += [b'"' + simulated_pin(label).encode() + b'"' for label in labels if label]
    scenario = load_scenario(DISTRICT_12)
    for b in scenario.bidders:
        c = envelope_contents(b.guarantee, b.documents, b.grade, b.technical_score, b.price)["C"]
        out.append(c)
    return [s for s in out if len(s) >= 6]


def test_r08_after_a_whole_tender_prefect_holds_no_part_key_pin_or_plaintext(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    from pilot.runner import run_pilot

    report = run_pilot(DISTRICT_12, workdir=tmp_path / "w")
    assert report["bids"], "the tender ran"
    url = PREFECT_API_DATABASE_CONNECTION_URL.value()
    path = Path(url.split("///", 1)[1]) if url and "sqlite" in url else None
    if path is None or not path.exists():
        pytest.skip(f"Prefect's test database is not a local SQLite file: {url}")
    prefect_bytes = path.read_bytes() + b"".join(p.read_bytes() for p in path.parent.glob(path.name + "-wal"))
    secrets = _secrets_of(tmp_path / "w")
    assert len(secrets) > 20
    engine_bytes = (tmp_path / "w" / "eproc.db").read_bytes()
    assert any(s in engine_bytes for s in secrets)  # the search finds what is there (the engine keeps them wrapped)
    leaked = [s[:12] for s in secrets if s in prefect_bytes]
    assert leaked == []
    # What operators do see in the Prefect UI: the sitting's seats, by name, and who released.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def sitting_artifact() -> str:
        async with get_client() as client:
            found = await client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["district-12-asphalt-opening-sitting"])))
            return str(found[-1].data) if found else ""

    import asyncio

    shown = asyncio.run(sitting_artifact())
    assert "آزاد شد" in shown and "نمایندهٔ حراست" in shown
