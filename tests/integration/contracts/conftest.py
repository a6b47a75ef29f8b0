"""Runs the bundled scenarios (and one stopped variant) once per test session through the real
flows, store, SoftHSM tokens and signatures; the test modules read what they left behind."""
from __future__ import annotations

import os
import tempfile

import pytest

# Prefect reads its home when first imported: keep this session's server state private.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="eproc-prefect-"))

from contract_runs import DISTRICT_2, DISTRICT_12, Run, run_scenario, stopped_variant_text  # noqa: E402

from pilot.scenario import load_scenario  # noqa: E402


@pytest.fixture(scope="session")
def softhsm_dir(tmp_path_factory):
    from signing.softhsm import SoftHsm

    # One SoftHSM configuration per process: every world of this session keeps its tokens here.
    SoftHsm.for_process(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture(scope="session")
def district12(prefect_server, softhsm_dir, tmp_path_factory) -> Run:
    return run_scenario(DISTRICT_12, tmp_path_factory.mktemp("district12"))


@pytest.fixture(scope="session")
def district2(prefect_server, softhsm_dir, tmp_path_factory) -> Run:
    return run_scenario(DISTRICT_2, tmp_path_factory.mktemp("district2"))


@pytest.fixture(scope="session")
def stopped(prefect_server, softhsm_dir, tmp_path_factory) -> Run:
    workdir = tmp_path_factory.mktemp("stopped")
    path = workdir / "district-12-stopped.toml"
    path.write_text(stopped_variant_text("treasurer"), encoding="utf-8")
    assert load_scenario(path).contract.stop_at_stage == "treasurer"
    return run_scenario(path, workdir / "run")
