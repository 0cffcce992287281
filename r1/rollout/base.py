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
    """The completion, stop string included, eos excluded."""
    token_ids: list[int]
    """The sampled token ids, stop string included, eos excluded."""
    finished: bool
    """False when generation hit max_new_tokens before eos or a stop string."""
    logprobs: list[float] | None = None
    """The sampler's log-prob of each token in `token_ids` (engines that report them), for TIS."""
    eos_id: int | None = None
    """The end-of-sequence token the model sampled to finish (one of the model's eos ids), which the
    policy is trained on after `token_ids`; None when a stop string or max_new_tokens ended it."""
    eos_logprob: float | None = None
    """The sampler's log-prob of `eos_id` (engines that report them)."""


class RolloutEngine(Protocol):
    """What a trainer asks of a rollout engine; engines without a use for a step do nothing there, so
    no caller branches on which engine it holds."""

    asleep: bool
    context_length: int | None
    """The longest prompt + completion the engine's model takes (None: no known limit)."""

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Rollout]]:
        """For each prompt, `params.n` rollouts in sample order."""
        ...

    def sleep(self) -> bool:
        """Free the engine's accelerator memory for a training phase; True when it did."""
        ...

    def wake_up(self) -> bool:
        """Undo `sleep`; True when it did."""
        ...

    def load_policy(self, model) -> None:
        """Sample from `model`'s current weights from now on (after an optimizer step)."""
        ...
