"""GRPO math as small pure functions: advantages, per-token log-probs, the clipped loss."""

from r1.grpo.advantages import group_advantages, group_all_equal
from r1.grpo.logprobs import entropy_from_logits, token_logprobs
from r1.grpo.loss import LOSS_TYPES, aggregate, clipped_objective, grpo_loss, k3_kl

__all__ = [
    "LOSS_TYPES", "aggregate", "clipped_objective", "entropy_from_logits", "group_advantages",
    "group_all_equal", "grpo_loss", "k3_kl", "token_logprobs",
]
