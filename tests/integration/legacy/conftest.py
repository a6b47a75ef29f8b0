from __future__ import annotations

from functools import partial

import pytest

from config.policy import Threshold, load_policy
from config.settings import BUNDLED_POLICY


@pytest.fixture
def policy():
    """The bundled policy plus a 1396 thresholds table, so contracts from before Shahrivar 1396 classify."""
    base = load_policy(BUNDLED_POLICY)
    return base.model_copy(update={"thresholds": {**base.thresholds,
                                                  1396: Threshold(small_max=500_000_000, medium_max=5_000_000_000)}})


@pytest.fixture
def run_import(sessions, policy, clock):
    from services.legacy import import_contracts

    return partial(import_contracts, sessions=sessions, policy=policy, clock=clock)
