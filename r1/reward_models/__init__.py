"""Reward models (R1 stage 4): train a one-score head on a causal LM (`r1 train-rm`), and use a trained
one as a reward (`rm:PATH` in a recipe's reward weights)."""

from r1.reward_models.config import RewardModelConfig
from r1.reward_models.render import rm_input

__all__ = ["RewardModelConfig", "rm_input"]
