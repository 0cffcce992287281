"""From rollouts to training tensors: a padded batch, and its micro-batches.

Layout of a training batch (B = prompts × G rows):

    [pad pad <prompt tokens>][<completion tokens> eos pad pad]
     left-padded to width P   right-padded to width L

so every completion starts at column P. The policy trains on exactly what was sampled: a completion
that ended on an eos id gets that eos after its tokens (the rollout keeps it aside as `eos_id`;
without it the model would never learn to stop); one ended by a stop string or cut at max_new_tokens
gets none. Position ids count real tokens only, as `generate` does for left-padded prompts; a plain
forward would otherwise shift every position by the padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from r1.grpo.loss import normaliser_counts
from r1.rollout import Rollout


@dataclass
class Batch:
    input_ids: torch.Tensor  # [B, P + L]
    attention_mask: torch.Tensor  # [B, P + L]
    position_ids: torch.Tensor  # [B, P + L]
    completion_mask: torch.Tensor  # [B, L] bool, real completion tokens (eos included)
    truncated: torch.Tensor  # [B] bool, cut at max_new_tokens
    advantages: torch.Tensor  # [B]
    prompt_width: int  # P
    sampler_logp: torch.Tensor | None = None  # [B, L] the rollout engine's log-probs, NaN where unknown

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def select(self, index: torch.Tensor) -> "Batch":
        """The rows at `index`, in that order."""
        sampler = None if self.sampler_logp is None else self.sampler_logp[index]
        return Batch(self.input_ids[index], self.attention_mask[index], self.position_ids[index],
                     self.completion_mask[index], self.truncated[index], self.advantages[index],
                     self.prompt_width, sampler)

    def rows(self, start: int, stop: int) -> "Batch":
        """Rows [start, stop), with columns that are padding in every kept row cut away."""
        attn = self.attention_mask[start:stop]  # [b, P + L]
        used = attn.any(dim=0).nonzero()  # [k, 1]
        first = min(int(used[0]), self.prompt_width - 1)
        last = max(int(used[-1]) + 1, self.prompt_width + 1)
        comp = slice(0, last - self.prompt_width)
        sampler = None if self.sampler_logp is None else self.sampler_logp[start:stop, comp]
        return Batch(self.input_ids[start:stop, first:last], attn[:, first:last],
                     self.position_ids[start:stop, first:last], self.completion_mask[start:stop, comp],
                     self.truncated[start:stop], self.advantages[start:stop], self.prompt_width - first,
                     sampler)


def build_batch(prompt_ids: Sequence[list[int]], rollouts: Sequence[Rollout], advantages: torch.Tensor,
                pad_id: int) -> Batch:
    """Left-pad prompts, right-pad completions (each with the eos it sampled); see the module doc."""
    sampled = [_sampled(ro) for ro in rollouts]  # (token ids, sampler log-probs) per row, eos included
    completions = [ids for ids, _ in sampled]
    width_p = max(len(p) for p in prompt_ids)
    width_l = max(1, max(len(c) for c in completions))
    rows, masks, comp_masks = [], [], []
    for p, c in zip(prompt_ids, completions):
        left, right = width_p - len(p), width_l - len(c)
        rows.append([pad_id] * left + p + c + [pad_id] * right)
        masks.append([0] * left + [1] * (len(p) + len(c)) + [0] * right)
        comp_masks.append([True] * len(c) + [False] * right)
    attention_mask = torch.tensor(masks)  # [B, P + L]
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # [B, P + L]
    sampler = None
    if all(ro.logprobs is not None for ro in rollouts):  # NaN: unknown (padding)
        logps = [logp for _, logp in sampled]
        sampler = torch.tensor([lp + [math.nan] * (width_l - len(lp)) for lp in logps])
    return Batch(torch.tensor(rows), attention_mask, position_ids, torch.tensor(comp_masks),
                 torch.tensor([not ro.finished for ro in rollouts]), advantages.float(), width_p, sampler)




def _sampled(ro: Rollout) -> tuple[list[int], list[float]]:
    """Every token the engine sampled, eos included, and its sampler log-probs (NaN where unknown)."""
    if ro.eos_id is None:
        return list(ro.token_ids), list(ro.logprobs or [])
    eos_logprob = math.nan if ro.eos_logprob is None else ro.eos_logprob
    return [*ro.token_ids, ro.eos_id], [*(ro.logprobs or []), eos_logprob]


def micro_batches(cfg, batch: Batch, n: int) -> tuple[list[Batch], list[float]]:
    """n slices of the batch, and each one's count in the loss normaliser.

    Dividing each slice's loss by count_j / total (total: the sum of counts, over every process)
    and summing gives exactly the loss of the whole batch, because each loss_type divides by a
    count that adds up over rows (`normaliser_counts`). Every process must run the same number of
    micro-batches (each one runs collectives); one with fewer rows than n fills up with copies of
    its last row counted 0.
    """
    mask = batch.completion_mask  # [B, L]
    if cfg.mask_truncated:
        mask = mask & ~batch.truncated[:, None]  # [B, L]
    counts = normaliser_counts(mask, cfg.loss_type)  # [B]
    real = min(n, len(batch))
    bounds = [round(len(batch) * j / real) for j in range(real + 1)]
    parts = [batch.rows(a, b) for a, b in zip(bounds, bounds[1:])]
    weights = [float(counts[a:b].sum()) for a, b in zip(bounds, bounds[1:])]
    filler = batch.rows(len(batch) - 1, len(batch))
    return parts + [filler] * (n - real), weights + [0.0] * (n - real)
