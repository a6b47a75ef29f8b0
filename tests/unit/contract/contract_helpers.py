"""Helpers for the contract-side tests: a role registry, national IDs, scenario files."""
from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from domain.persian import parse_jalali_date, to_tehran

_HERE = Path(__file__).resolve()
from pilot.scenario import BUNDLED

SCENARIO_DIRS = [BUNDLED]  # the scenarios shipped with the engine


def national_id(prefix9: str) -> str:
    """A valid 10-digit national ID from 9 digits, computing the mod-11 check digit here."""
    total = sum(int(prefix9[i]) * (10 - i) for i in range(9)) % 11
    return prefix9 + str(total if total < 2 else 11 - total)


class RoleRegistry:
    """Who held which role in which unit, from and until which day (until exclusive)."""

    def __init__(self) -> None:
        self.grants: list[tuple[str, str, str, date, date | None]] = []
        self.calls: list[tuple[str, str, str, datetime]] = []

    def grant(self, nid: str, role: str, unit: str, start: str = "1399/01/01", until: str | None = None) -> str:
        self.grants.append((nid, role, unit, parse_jalali_date(start),
                            parse_jalali_date(until) if until else None))
        return nid

    def __call__(self, nid: str, role: str, unit: str, at: datetime) -> bool:
        self.calls.append((nid, role, unit, at))
        day = to_tehran(at).date()  # roles are held on Tehran calendar days
        return any(g[0] == nid and g[1] == role and g[2] == unit and g[3] <= day and (g[4] is None or day < g[4])
                   for g in self.grants)


def load_scenario(name: str) -> dict:
    for folder in SCENARIO_DIRS:
        path = folder / name
        if path.exists():
            return tomllib.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"scenario {name} not found in {SCENARIO_DIRS}")

