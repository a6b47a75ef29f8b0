"""Fixtures the integration tests share: the bundled policy and its units on the test database."""
from __future__ import annotations

import pytest

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from store.models import Unit


@pytest.fixture
def policy():
    return load_policy(BUNDLED_POLICY)


@pytest.fixture
def with_units(sessions, policy):
    """`sessions` with every unit of the policy stored."""
    with sessions() as s:
        for u in policy.units:
            s.add(Unit(id=u.id, code=u.code, name=u.name, kind=u.kind))
        s.commit()
    return sessions
