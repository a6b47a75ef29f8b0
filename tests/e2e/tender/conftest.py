from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One temporary Prefect API for the whole session (a server per pilot would cost ~13 s each)."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.settings import PREFECT_API_URL

    from tests.prefect_harness import prefect_harness

    with prefect_harness():
        yield PREFECT_API_URL.value()


@pytest.fixture
def run(prefect_server, tmp_path):
    from pilot.runner import run_pilot

    def _run(scenario, out=None, name="w"):
        return run_pilot(scenario, out_dir=out, workdir=tmp_path / name)

    return _run
