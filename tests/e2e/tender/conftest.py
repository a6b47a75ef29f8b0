from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))


@pytest.fixture
def run(prefect_server, tmp_path):
    from pilot.runner import run_pilot

    def _run(scenario, out=None, name="w"):
        return run_pilot(scenario, out_dir=out, workdir=tmp_path / name)

    return _run
