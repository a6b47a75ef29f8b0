"""Running pilots in tests: one Prefect test server per session, scenario variants as TOML files."""
from __future__ import annotations

import copy
import tomllib
from decimal import Decimal
from pathlib import Path

from pilot.scenario import BUNDLED

DISTRICT_12 = BUNDLED / "district-12-asphalt.toml"
DISTRICT_2 = BUNDLED / "district-2-waste-two-stage.toml"


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
