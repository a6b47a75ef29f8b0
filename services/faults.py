"""Fault injection for the crash tests: the setting `crash_at` (EPROC_CRASH_AT="point#n") ends the
process abruptly the n-th time `point` is passed, like a worker killed with SIGKILL (no cleanup, no
rollback hooks)."""
from __future__ import annotations

import os

from config.settings import get_settings

_passed: dict[str, int] = {}


def crash_point(point: str) -> None:
    """Pass a named crash point; exits with status 137 when the settings name it (tests only)."""
    spec = get_settings().crash_at
    if not spec:
        return
    name, _, nth = spec.partition("#")
    if name != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] == int(nth or 1):
        os._exit(137)
