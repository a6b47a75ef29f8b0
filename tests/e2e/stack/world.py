"""A pilot world whose dates sit just before now, so workers on the system clock open its tenders
with valid certificates; its tenders announced and their sealed bids submitted, ready to open."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jdatetime

from config.policy import load_policy
from config.settings import get_settings
from pilot.bidders import envelope_contents, seal_and_sign
from pilot.runner import members_of, tender_spec
from pilot.scenario import load_scenario
from pilot.world import World, build_world, formulas_of
from services import tender as svc

TEMPLATE = Path(__file__).resolve().parents[3] / "pilot" / "scenarios" / "district-12-asphalt.toml"
_DATE = re.compile(r'"(\d{4})/(\d{2})/(\d{2})((?: \d{2}:\d{2})?)"')


def recent_scenario(out: Path, name: str, now: datetime | None = None) -> Path:
    """The district-12 scenario moved in time: its opening falls a day before `now`."""
    now = now or datetime.now(timezone.utc)
    text = TEMPLATE.read_text(encoding="utf-8")
    target = jdatetime.date.fromgregorian(date=(now - timedelta(days=1)).date())
    shift = (target.togregorian() - jdatetime.date(1400, 4, 13).togregorian()).days

    def moved(m: re.Match) -> str:
        d = jdatetime.date(int(m[1]), int(m[2]), int(m[3])).togregorian() + timedelta(days=shift)
        j = jdatetime.date.fromgregorian(date=d)
        return f'"{j.year:04d}/{j.month:02d}/{j.day:02d}{m[4]}"'

    text = _DATE.sub(moved, text)
    text = re.sub(r"\[thresholds\.1400\]\nsmall_max = [\d_]+\nmedium_max = [\d_]+\n", "", text)
    text = text.replace('name = "district-12-asphalt"', f'name = "{name}"', 1)
    out.write_text(text, encoding="utf-8")
    return out


def prepare(base: Path, database_url: str, scenario_path: Path, tender_ids: list[str]) -> World:
    """Build the world on the stack's database, announce each tender, submit every bid."""
    scenario = load_scenario(scenario_path)
    world = build_world(scenario, base, load_policy(get_settings().policy_file), database_url, shared_tokens=True)
    world.clock.set(scenario.tender.announce_at)
    base_spec = tender_spec(world)
    for tid in tender_ids:
        svc.announce(world.deps, replace(base_spec, id=tid), members_of(scenario), (scenario.price_list.id, 1),
                     formulas_of(world))
    for b in sorted(scenario.bidders, key=lambda x: x.submit_at):
        world.clock.set(b.submit_at)
        contents = envelope_contents(guarantee=b.guarantee, documents=b.documents, grade=b.grade,
                                     technical_score=b.technical_score, price=b.price)
        for tid in tender_ids:
            view = svc.load(world.deps, tid)
            sealed, manifest = seal_and_sign(tid, b.id, b.national_id, contents, view.seats,
                                             world.signer(world.bidder_signatory[b.id]), world.clock)
            result = svc.submit_bid(world.deps, tid, b.id, b.national_id, sealed, manifest)
            assert result.accepted, (tid, b.id, result.reason)
    world.ca.crl(world.clock)
    return world
