"""Running pilots in tests: one Prefect test server per session, scenario variants as TOML files."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

from pilot.scenario import BUNDLED

DISTRICT_12 = BUNDLED / "district-12-asphalt.toml"
DISTRICT_2 = BUNDLED / "district-2-waste-two-stage.toml"


def world_with_bids(tmp_path: Path):
    """District 12 announced and every bid received, without running the opening session:
    the pilot world (under tmp_path/world) and its scenario."""
    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from pilot import runner
    from pilot.scenario import load_scenario
    from pilot.world import build_world

    scenario = load_scenario(DISTRICT_12)
    world = build_world(scenario, tmp_path / "world", load_policy(BUNDLED_POLICY))
    runner.announce(world)
    for step in runner.timeline(scenario):
        if step.kind == "submit":
            runner.submit(world, step.who, step.at)
    return world, scenario


def open_with_members(world, scenario, present: list[str] | None = None):
    """The opening sitting as it happens: at the opening time the engine opens the sitting, each member
    present releases their parts at their own station (the scenario's scripted decisions), then the
    session runs with `present` (default: the whole commission). Returns the SessionOutcome."""
    from services import tender as svc

    world.clock.set(scenario.tender.opening_at)
    tender_id, members = scenario.scenario.name, {m.id: m.name for m in scenario.commission}
    svc.open_sitting(world.deps, tender_id, "opening")
    world.deps.human().release_parts(tender_id, "opening", members, world.clock.now())
    return svc.opening_session(world.deps, tender_id, present if present is not None else list(members))


def eproc_pilot(prefect_server: str, workdir: Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """`eproc pilot --json --workdir DIR` in its own process against the session's Prefect server; with
    `crash_at`, EPROC_CRASH_AT has the process kill itself at that point (exit status 137)."""
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING", **({"EPROC_CRASH_AT": crash_at} if crash_at else {})}
    eproc = str(Path(sys.executable).parent / "eproc")
    return subprocess.run([eproc, "pilot", "--json", "--workdir", str(workdir)], capture_output=True, text=True,
                          env=env, timeout=600)


def load_raw(path: Path = DISTRICT_12) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def variant(base: dict, name: str, **changes) -> dict:
    data = copy.deepcopy(base)
    data["scenario"]["name"] = name
    for key, value in changes.items():
        data[key] = value
    return data


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, Decimal)):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dumps(data: dict) -> str:
    """Just enough TOML for scenario files: tables, arrays of tables, inline values."""
    out: list[str] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                out.append(f"[[{key}]]")
                out += [f"{k} = {_scalar(v)}" for k, v in item.items()]
                out.append("")
        elif isinstance(value, dict):
            scalars = {k: v for k, v in value.items() if not isinstance(v, dict)}
            tables = {k: v for k, v in value.items() if isinstance(v, dict)}
            if scalars or not tables:
                out.append(f"[{key}]")
                out += [f"{k} = {_scalar(v)}" for k, v in scalars.items()]
                out.append("")
            for k, v in tables.items():
                out.append(f"[{key}.{k}]")
                out += [f"{kk} = {_scalar(vv)}" for kk, vv in v.items()]
                out.append("")
    return "\n".join(out)


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / f"{data['scenario']['name']}.toml"
    path.write_text(dumps(data), encoding="utf-8")
    return path
