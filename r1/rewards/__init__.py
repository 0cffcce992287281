"""Rule-based rewards and the registry that names them.

A reward is `(completions, **record_fields) -> list[float]` (TRL's signature); `get_reward(name)` finds
a built-in by name or a user's reward by "module:function"; `combine` weighs them per prompt type.
"""

from r1.rewards.combine import RewardCombiner, RewardWeights, combine, task_accuracy
from r1.rewards.extract import extract_answer, last_boxed, normalize_number, parse_number, think_text
from r1.rewards.format import format_r1_zero, format_readable, is_r1_zero_format, is_readable_format
from r1.rewards.language import count_words, language_consistency, language_share
from r1.rewards.length import soft_overlong_punishment
from r1.rewards.math import gsm8k_accuracy, math_accuracy, math_equal
from r1.rewards.registry import (REWARDS, completion_texts, get_reward, list_rewards, load_reward,
                                 records_from_kwargs, register, safe_call)
from r1.rewards.tiny import tiny_accuracy

__all__ = ["REWARDS", "RewardCombiner", "RewardWeights", "combine", "completion_texts", "count_words",
           "extract_answer", "format_r1_zero", "format_readable", "get_reward", "gsm8k_accuracy",
           "is_r1_zero_format", "is_readable_format", "language_consistency", "language_share",
           "last_boxed", "list_rewards", "load_reward", "math_accuracy", "math_equal", "normalize_number",
           "parse_number", "records_from_kwargs", "register", "safe_call", "soft_overlong_punishment",
           "task_accuracy", "think_text", "tiny_accuracy"]
