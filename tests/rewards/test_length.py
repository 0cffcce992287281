"""DAPO's soft overlong punishment: TRL's values on the same token ids, its registry entries, and the
token ids reaching it from GRPO's rollouts."""

import pytest

from r1.rewards.combine import RewardCombiner, RewardWeights
from r1.rewards.length import soft_overlong_punishment
from r1.rewards.registry import get_reward
from r1.rollout import Rollout


@pytest.mark.parametrize("max_len, cache", [(100, 20), (64, 16), (50, 0), (10, 10)])
def test_matches_trl_on_the_same_token_ids(max_len, cache):
    trl_rewards = pytest.importorskip("trl.rewards")
    ids = [[3] * n for n in range(0, max_len + 12)]
    theirs = trl_rewards.get_soft_overlong_punishment(max_completion_len=max_len, soft_punish_cache=cache)
    ours = soft_overlong_punishment([""] * len(ids), completion_ids=ids, max_completion_len=max_len,
                                    soft_punish_cache=cache)
    assert ours == pytest.approx(theirs(completion_ids=ids))
    assert min(ours) == -1.0 and max(ours) == 0.0


def test_registered_settings():
    ids = [[3] * n for n in (48, 56, 64, 65, 16384, 18432, 20481)]
    # tiny: the last 16 of 64 tokens; DAPO's: the last 4096 of 20480
    assert get_reward("soft_overlong_punishment_tiny")([""] * 7, completion_ids=ids) == [
        0.0, -0.5, -1.0, -1.0, -1.0, -1.0, -1.0]
    assert get_reward("soft_overlong_punishment")([""] * 7, completion_ids=ids) == [
        0.0, 0.0, 0.0, 0.0, 0.0, -0.5, -1.0]
    with pytest.raises(ValueError, match="needs completion_ids"):
        soft_overlong_punishment(["only text"])


def test_grpo_passes_each_rollouts_token_ids():
    from r1.grpo.sampling import score

    combiner = RewardCombiner(RewardWeights(reasoning={"overlong": 1.0},
                                            rewards={"overlong": "soft_overlong_punishment_tiny"}))
    rollouts = [Rollout(0, 0, "text", [7] * 40, True),  # ended by a stop string: no eos
                Rollout(0, 1, "text", [7] * 55, True, eos_id=1),  # 55 tokens and the eos it sampled
                Rollout(0, 2, "text", [7] * 64, False)]  # cut at the budget
    totals, parts = score(combiner, [{"problem": "p"}] * 3, rollouts)
    assert totals.tolist() == [0.0, -0.5, -1.0] and parts["overlong"] == [0.0, -0.5, -1.0]
