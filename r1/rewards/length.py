"""Length rewards: DAPO's soft overlong punishment (Yu et al., 2025, eq. 13), as TRL's
`get_soft_overlong_punishment`.

A completion cut at the generation budget is usually a reasoning chain that ran out of room; with
loss masking alone (`mask_truncated`) nothing tells the model to finish sooner. This reward is 0 up to
`max_completion_len - soft_punish_cache` tokens, falls linearly to -1 over the last
`soft_punish_cache` tokens of the budget, and is -1 beyond it. Add it to the accuracy reward:

    reward: {reasoning: {accuracy: 1.0, overlong: 1.0}, rewards: {overlong: soft_overlong_punishment_tiny}}

It counts tokens, so it reads `completion_ids` (the token ids of each completion, passed to every
reward by the GRPO trainer as by TRL's), not the text: every token sampled, the eos included when the
model sampled one, as in TRL. Other budgets: register a variant with its own settings,
e.g. `overlong_20k = register("overlong_20k", soft_overlong_punishment,
max_completion_len=20480, soft_punish_cache=4096)` in your module, and name it "module:overlong_20k".
"""

from __future__ import annotations

from typing import Any, Sequence

from r1.rewards.registry import register


@register("soft_overlong_punishment")  # DAPO's 20480 / 4096
def soft_overlong_punishment(completions: Sequence[Any],
                             completion_ids: Sequence[Sequence[int]] | None = None,
                             max_completion_len: int = 20480, soft_punish_cache: int = 4096,
                             **kwargs: Any) -> list[float]:
    """0 for |y| <= L_max - L_cache, (L_max - L_cache - |y|) / L_cache up to L_max, else -1.

    |y| is the number of token ids; L_max = max_completion_len (DAPO: 20480, the generation budget),
    L_cache = soft_punish_cache (DAPO: 4096; 0 makes it a hard cut at L_max).

    >>> ids = [[7] * 70, [7] * 80, [7] * 90, [7] * 101]
    >>> soft_overlong_punishment(["a", "b", "c", "d"], completion_ids=ids, max_completion_len=100,
    ...                          soft_punish_cache=20)
    [0.0, 0.0, -0.5, -1.0]
    """
    if completion_ids is None or len(completion_ids) != len(completions):
        raise ValueError("soft_overlong_punishment needs completion_ids: one list of token ids per "
                         "completion")
    start = max_completion_len - soft_punish_cache  # the punishment starts after this many tokens
    scores = []
    for ids in completion_ids:
        n = len(ids)
        scores.append(0.0 if n <= start else (start - n) / soft_punish_cache if n <= max_completion_len
                      else -1.0)
    return scores


# recipes/tiny/zero.yaml's budget of 64 new tokens, the last quarter punished
register("soft_overlong_punishment_tiny", soft_overlong_punishment, max_completion_len=64, soft_punish_cache=16)
