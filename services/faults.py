"""Fault injection for the crash tests: EPROC_CRASH_AT="point#n" ends the process abruptly the
n-th time `point` is passed, like a worker killed with SIGKILL (no cleanup, no rollback hooks)."""
from __future__ import annotations

import os

_passed: dict[str, int] = {}


def crash_point(point: str) -> None:
    spec = os.environ.get("EPROC_CRASH_AT")
    if not spec:
        return
    name, _, nth = spec.partition("#")
    if name != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] == int(nth or 1):
        os._exit(137)
