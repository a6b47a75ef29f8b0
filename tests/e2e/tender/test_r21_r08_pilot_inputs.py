"""Issue 10 classes 11 and 14 through a pilot's real flows: a bidder or member name carrying an
invisible direction override reaches neither the signed minutes nor the OCDS release, and a sealed
bid larger than the policy allows is refused at submission with a reason and an audit entry."""
from __future__ import annotations

import copy
import json
import sqlite3
from datetime import timedelta

from pilot_harness import DISTRICT_12, load_raw, variant, world_with_bids, write

from domain.persian import normalize

RLO = "\u202e"
MARKS = ("\u202e", "\u2066", "\u200f")


def test_r21_direction_overrides_in_names_reach_neither_the_minutes_nor_the_publication(run, tmp_path):
    raw = load_raw(DISTRICT_12)
    bidders = copy.deepcopy(raw["bidders"])
    for b in bidders:
        b["name"] = f"{RLO}{b['name']}\u2066 {RLO}"
    commission = copy.deepcopy(raw["commission"])
    for m in commission:
        m["name"] = f"\u200f{m['name']}{RLO}"
    tender = dict(raw["tender"], title=f"{RLO}{raw['tender']['title']}")
    path = write(tmp_path, variant(raw, "district-12-marks", bidders=bidders, commission=commission, tender=tender))
    out = tmp_path / "out"
    report = run(path, out=out)
    assert report["tender"]["status"] == "awarded" and report["publication"]["ocds_valid"] is True

    minutes = (out / "minutes/article13.xml").read_text(encoding="utf-8")
    assert normalize(raw["commission"][0]["name"]) in minutes  # the names are there, cleaned
    release = (out / "ocds/release-package.json").read_text(encoding="utf-8")
    winner = next(b for b in raw["bidders"] if b["id"] == report["winner"])
    assert normalize(winner["name"]) in json.dumps(json.loads(release), ensure_ascii=False)
    for doc in sorted(p for p in out.rglob("*") if p.suffix in (".xml", ".json", ".jsonl")):
        text = doc.read_text(encoding="utf-8")
        decoded = text.encode().decode("unicode_escape", errors="ignore") if doc.suffix != ".xml" else text
        for mark in MARKS:
            assert mark not in text and mark not in decoded, (doc.name, hex(ord(mark)))


def test_r08_a_bid_larger_than_the_policy_allows_is_refused_and_audited(tmp_path):
    from pilot import runner

    world, scenario = world_with_bids(tmp_path)
    limits = world.deps.policy.limits.model_copy(update={"max_bid_bytes": 2_048, "max_attachment_bytes": 1_024})
    world.deps.policy = world.deps.policy.model_copy(update={"limits": limits})
    before_deadline = scenario.tender.deadline - timedelta(minutes=1)
    result = runner.submit(world, "b3", before_deadline)  # b3 resubmits its bid (about 3 KB sealed)
    assert result == {"accepted": False, "reason": "INVALID_INPUT"}
    db = sqlite3.connect(world.base_dir / "eproc.db")
    refusals = db.execute("SELECT reason, payload_json FROM audit_log WHERE action='bid.refused'").fetchall()
    db.close()
    assert [r for r, _ in refusals] == ["INVALID_INPUT"] and "سقف" in refusals[0][1]
