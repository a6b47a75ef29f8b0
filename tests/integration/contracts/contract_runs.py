"""Helpers shared by the contract tests: running a scenario with the contract side attached,
a stopped variant of district 12, and the statement arithmetic derived from the scenario file."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pilot.scenario import BUNDLED
from pilot.world import simulated_national_id

DISTRICT_12 = BUNDLED / "district-12-asphalt.toml"
DISTRICT_2 = BUNDLED / "district-2-waste-two-stage.toml"


@dataclass
class Run:
    report: dict[str, Any]
    world: Any

    @property
    def tender_id(self) -> str:
        return self.world.scenario.scenario.name


def run_scenario(path: Path, workdir: Path) -> Run:
    """pilot.runner.run_pilot, keeping the world it builds (its stubs and dependencies)."""
    import pilot.runner as runner

    built: list[Any] = []
    original = runner.build_world

    def build_and_keep(*args, **kwargs):
        world = original(*args, **kwargs)
        built.append(world)
        return world

    runner.build_world = build_and_keep
    try:
        report = runner.run_pilot(path, workdir=workdir)
    finally:
        runner.build_world = original
    return Run(report, built[0])


def stopped_variant_text(stage: str) -> str:
    """District 12 renamed, with its own people (tokens are per person in this process) and the
    contract workflow stopped before `stage`."""
    text = DISTRICT_12.read_text(encoding="utf-8")
    text = text.replace('name = "district-12-asphalt"', 'name = "district-12-stopped"')
    for old in re.findall(r'national_id = "(\d{10})"', text):
        text = text.replace(f'"{old}"', f'"{simulated_national_id("stopped:" + old)}"')
    supervisor = re.search(r'supervisor = "(\d{10})"', text).group(1)
    text = text.replace(f'supervisor = "{supervisor}"',
                        f'supervisor = "{simulated_national_id("stopped:supervisor")}"\nstop_at_stage = "{stage}"')
    return text


def use_world(run: Run):
    """Enter this run's world's dependencies (flows started inside see them)."""
    from services.deps import use

    return use(run.world.deps)


def scenario_estimate(scenario) -> int:
    """Σ quantity × unit price of the tender's items, straight from the scenario file."""
    prices = {i.code: i.unit_price for i in scenario.price_list.items}
    return int(sum(i.quantity * prices[i.code] for i in scenario.tender.items))



def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cumulative(scenario, statement, coefficient: Decimal) -> int:
    """Σ quantity × unit price × coefficient, rounded half up once."""
    prices = {i.code: i.unit_price for i in scenario.price_list.items}
    return half_up(sum(Decimal(i.quantity) * prices[i.code] for i in statement.items) * coefficient)


def payable(gross: int, penalty: int = 0) -> int:
    """gross − 10% retention − 5% insurance (policy defaults), each rounded half up, − penalty."""
    return gross - half_up(gross * Decimal("0.10")) - half_up(gross * Decimal("0.05")) - penalty
