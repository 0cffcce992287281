"""A fixture for the reward tests that register rewards."""

import pytest

from r1.rewards.registry import REWARDS, list_rewards


@pytest.fixture
def scratch_registry():
    """Rewards a test registers are removed afterwards, so tests can reuse names."""
    list_rewards()  # built-ins first, so they are not counted as the test's
    before = dict(REWARDS)
    yield REWARDS
    REWARDS.clear()
    REWARDS.update(before)
