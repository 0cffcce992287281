"""The rollout interface: prompts in, n sampled completions per prompt out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SamplingParams:
    n: int = 1
    """Completions per prompt (the GRPO group size, or k in pass@k)."""
    temperature: float = 1.0
    """0 means greedy."""
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    """Generation ends after any of these strings (kept in the completion) or at eos (dropped)."""
    seed: int | None = None


@dataclass
class Rollout:
    prompt_index: int
    sample_index: int
    text: str
    """The completion, stop string included, eos and padding excluded."""
    token_ids: list[int]
    """The completion's token ids (what the policy is trained on)."""
    finished: bool
    """False when generation hit max_new_tokens before eos or a stop string."""
    logprobs: list[float] | None = None
    """The sampler's log-prob of each token in `token_ids` (engines that report them), for TIS."""


class RolloutEngine(Protocol):
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Rollout]]:
        """For each prompt, `params.n` rollouts in sample order."""
        ...
