"""Fixtures of the API's authentication tests: one pilot world (district 12: registries, a CA, a real
SoftHSM token and certificate for every simulated person) per session, and an app over it.

Fixture names start with `auth_` so that they do not shadow anything another test of tests/api/ uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest


@dataclass
class AuthWorld:
    world: object      # pilot.world.World
    unit: str
    deputy: object      # services.signers.Signer of the unit's deputy (role "deputy")
    treasurer: object   # the unit's treasurer (role "treasurer")
    reviewer: object    # the employer's reviewer: only the revocation test uses (and revokes) them
    data_dir: Path


@pytest.fixture(scope="session")
def auth_world(tmp_path_factory) -> AuthWorld:
    import shutil

    from config.policy import load_policy
    from config.settings import BUNDLED_POLICY
    from pilot.scenario import BUNDLED, load_scenario
    from pilot.world import build_world
    from signing.softhsm import SoftHsm

    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed")
    SoftHsm.for_process(tmp_path_factory.mktemp("softhsm"))
    world = build_world(load_scenario(BUNDLED / "district-12-asphalt.toml"), tmp_path_factory.mktemp("auth-world"),
                        load_policy(BUNDLED_POLICY))
    return AuthWorld(world, world.unit, world.signer(world.staff["deputy"]), world.signer(world.staff["treasurer"]),
                     world.signer(world.staff["employer_reviewer"]), tmp_path_factory.mktemp("auth-data"))


@pytest.fixture
def auth_clock(auth_world):
    """The world's (and so the server's) simulated clock, put back where it was after the test."""
    clock = auth_world.world.clock
    start: datetime = clock.now()
    yield clock
    clock.set(start)


@pytest.fixture
def auth_settings(auth_world):
    from config.settings import Settings

    return Settings(data_dir=auth_world.data_dir, api_secret=None, api_session_minutes=15, api_challenge_seconds=120)


@pytest.fixture
def auth_app(auth_world, auth_settings):
    from api.app import create_app

    return create_app(auth_world.world.deps, settings=auth_settings)


@pytest.fixture
def auth_client(auth_app):
    from fastapi.testclient import TestClient

    with TestClient(auth_app, raise_server_exceptions=False) as client:
        yield client
