"""R08 against an insider with write access to the database: the tender's own data (specification,
opening-key plan, price-list items, formulas) is checked, at every read that feeds a decision,
against the digests the FIRST `tender.announced` audit entry recorded.

Each attack is done the way an attacker would: raw SQL on the engine's SQLite file, then the normal
flow (the opening session at the opening time, every member present)."""
from __future__ import annotations

import base64
import json
import sqlite3

import pytest
from pilot_harness import open_with_members, world_with_bids


def _open(world, scenario):
    return open_with_members(world, scenario)


def _sql(world, *statements: tuple[str, tuple]) -> None:
    db = sqlite3.connect(world.base_dir / "eproc.db")
    for sql, params in statements:
        assert db.execute(sql, params).rowcount >= 1, sql
    db.commit()
    db.close()


def _insider_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    raw = X25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


ATTACKS = {
    # only grade-1 companies may bid: b3 (grade 2) and others are excluded
    "spec_grades": lambda tid: [("UPDATE tenders SET spec_json=json_replace(spec_json, '$.spec.allowed_grades', "
                                 "json('[1]')) WHERE id=?", (tid,))],
    # a looser abnormally-low rule lets b1's low price win
    "formula": lambda tid: [("UPDATE formulas SET expression='mean(values) - 3*pstdev(values)' "
                             "WHERE formula_id='abnormally-low' AND version=1", ())],
    # every unit price doubled: the estimate, guarantee and the prices of every bid change
    "price_list": lambda tid: [("UPDATE price_list_items SET unit_price=unit_price*2", ())],
    # the opening key swapped for one the insider holds
    "opening_plan": lambda tid: [("UPDATE tenders SET opening_plan_json=json_replace(opening_plan_json, "
                                  "'$.public_key_b64', ?) WHERE id=?", (_insider_key(), tid))],
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_r08_tender_data_rewritten_in_the_store_is_refused_at_opening(tmp_path, attack):
    from domain.reasons import DomainError, Reason

    world, scenario = world_with_bids(tmp_path)
    _sql(world, *ATTACKS[attack](scenario.scenario.name))
    with pytest.raises(DomainError) as err:
        _open(world, scenario)
    assert err.value.reason is Reason.STORE_TAMPERED, err.value
    assert err.value.detail  # names what differs


def test_r08_a_later_announcement_entry_does_not_cover_a_rewrite(tmp_path):
    """The insider rewrites the grades and appends, at the head of a well-chained log, a second
    `tender.announced` entry with the digest of the rewritten spec: the first entry decides."""
    import hashlib

    from domain.reasons import DomainError, Reason

    world, scenario = world_with_bids(tmp_path)
    tender_id = scenario.scenario.name
    _sql(world, *ATTACKS["spec_grades"](tender_id))
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (spec_json,) = db.execute("SELECT spec_json FROM tenders WHERE id=?", (tender_id,)).fetchone()
    (payload_json,) = db.execute("SELECT payload_json FROM audit_log WHERE action='tender.announced' AND entity_id=?",
                                 (tender_id,)).fetchone()
    db.close()
    payload = {**json.loads(payload_json), "spec_sha256": hashlib.sha256(spec_json.encode("utf-8")).hexdigest()}
    with world.deps.uow() as uow:  # the chain's own append: what an insider can recompute by hand
        uow.record(at=world.clock.now(), actor="engine", action="tender.announced", entity="tender",
                   entity_id=tender_id, payload=payload)
        uow.commit()
        assert uow.audit.verify().ok

    with pytest.raises(DomainError) as err:
        _open(world, scenario)
    assert err.value.reason is Reason.STORE_TAMPERED


def test_r08_untouched_tender_opens_normally_against_its_announced_digests(tmp_path):
    world, scenario = world_with_bids(tmp_path)
    db = sqlite3.connect(world.base_dir / "eproc.db")
    (payload_json,) = db.execute("SELECT payload_json FROM audit_log WHERE action='tender.announced' AND entity_id=?",
                                 (scenario.scenario.name,)).fetchone()
    db.close()
    payload = json.loads(payload_json)
    assert {"spec_sha256", "opening_plan_sha256", "price_list_sha256"} <= set(payload)
    assert set(payload["formulas_sha256"]) == {"estimate", "abnormally-low", "guarantee"}

    outcome = _open(world, scenario)
    assert outcome.evaluation.award.winner == "b3"
    assert outcome.evaluation.award.runner_up == "b4"
