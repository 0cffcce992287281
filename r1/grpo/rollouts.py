"""From records to training tensors: the prompt stream, rewards for rollouts, padded batches, log-probs.

Layout of a training batch (B = prompts × G rows):

    [pad pad <prompt tokens>][<completion tokens> eos pad pad]
     left-padded to width P   right-padded to width L

so every completion starts at column P. The policy trains on exactly what was sampled: a completion
that ended on an eos id gets that eos after its tokens (the rollout keeps it aside as `eos_id`;
without it the model would never learn to stop); one ended by a stop string or cut at max_new_tokens
gets none. Position ids count real tokens only, as `generate`
does for left-padded prompts; a plain forward would otherwise shift every position by the padding.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from r1.errors import R1Error
from r1.grpo.logprobs import entropy_from_logits, picked_logprobs
from r1.models.fast import FastLM, unsupported
from r1.prompts import build_prompt
from r1.rewards.combine import RewardCombiner
from r1.rollout import Rollout


def load_records(cfg) -> list[dict[str, Any]]:
    """Training records: cfg.data, or each tiny-world family's 'train' split."""
    if cfg.data:
        from r1.eval.data import load_data

        records = load_data(cfg.data, split=cfg.data_split)
        source = cfg.data
    else:
        from r1.tasks import generate

        records = [r for family in cfg.families
                   for r in generate(family, "train", cfg.train_problems, cfg.seed, cfg.difficulty)]
        source = f"families {', '.join(cfg.families)}"
    if not records:
        raise R1Error(f"data: {source} gave no training problems")
    return records


class PromptStream:
    """An endless, seeded stream of records: each pass over the pool in a fresh shuffled order.

    The n-th record drawn depends only on (seed, n), so a resumed run that restores `cursor` draws
    exactly what the interrupted one would have.
    """

    def __init__(self, records: list[dict[str, Any]], prompts: list[str], prompt_ids: list[list[int]],
                 seed: int | str):
        self.records, self.prompts, self.prompt_ids, self.seed = records, prompts, prompt_ids, seed
        self.cursor = 0
        self._orders: dict[int, list[int]] = {}

    def _index(self, n: int) -> int:
        epoch, offset = divmod(n, len(self.records))
        if epoch not in self._orders:
            order = list(range(len(self.records)))
            random.Random(f"{self.seed}/epoch/{epoch}").shuffle(order)
            self._orders = {epoch: order}  # keep one pass in memory
        return self._orders[epoch][offset]

    def take(self, n: int) -> list[int]:
        """Indices of the next n records."""
        picked = [self._index(self.cursor + i) for i in range(n)]
        self.cursor += n
        return picked


def build_stream(cfg, tokenizer, records: list[dict[str, Any]], seed: int | str) -> PromptStream:
    """Render and tokenize every prompt once; refuse prompts longer than cfg.max_prompt_tokens."""
    prompts = [build_prompt(tokenizer, r["problem"], cfg.template, cfg.suffix, cfg.response_prefix)
               for r in records]
    ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    too_long = [(r.get("id", i), len(x)) for i, (r, x) in enumerate(zip(records, ids))
                if len(x) > cfg.max_prompt_tokens]
    if too_long:
        rid, n = too_long[0]
        raise R1Error(f"data: {len(too_long)} prompts are longer than max_prompt_tokens="
                      f"{cfg.max_prompt_tokens} (e.g. {rid}: {n} tokens); raise the limit or drop them")
    return PromptStream(records, prompts, ids, seed)


def score(combiner: RewardCombiner, records: Sequence[dict[str, Any]], rollouts: Sequence[Rollout]
          ) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """Rewards [N] (flat, one per rollout) and per-component scores; record i goes with rollout i."""
    keys = list(dict.fromkeys(k for r in records for k in r))
    fields = {k: [r.get(k) for r in records] for k in keys}
    totals, components = combiner.score([ro.text for ro in rollouts], **fields)
    return torch.tensor(totals, dtype=torch.float32), components


def nanmean(values: Sequence[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


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
    completions = [_sampled(ro)[0] for ro in rollouts]
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
        logps = [_sampled(ro)[1] for ro in rollouts]
        sampler = torch.tensor([lp + [math.nan] * (width_l - len(lp)) for lp in logps])
    return Batch(torch.tensor(rows), attention_mask, position_ids, torch.tensor(comp_masks),
                 torch.tensor([not ro.finished for ro in rollouts]), advantages.float(), width_p, sampler)


def _sampled(ro: Rollout) -> tuple[list[int], list[float]]:
    """Every token the engine sampled, eos included, and its sampler log-probs (NaN where unknown)."""
    if ro.eos_id is None:
        return list(ro.token_ids), list(ro.logprobs or [])
    eos_logprob = math.nan if ro.eos_logprob is None else ro.eos_logprob
    return [*ro.token_ids, ro.eos_id], [*(ro.logprobs or []), eos_logprob]


def completion_logprobs(model, batch: Batch, temperature: float, with_entropy: bool = False,
                        compile: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probs [b, L] of the completion tokens at the sampling temperature (and entropies [b, L]).

    Llama-family models take the lean forward, which runs each distinct prompt of the batch once
    (a group's G rows share it), in chunks of rows of similar length when one long completion would
    otherwise pad every row to its width (see `length_chunks`). Other models, and wrapped ones
    (DDP/FSDP/peft), take the model's own forward, once over the whole batch. compile: the lean
    forward under torch.compile (see FastLM).
    """
    if unsupported(model) is not None:
        p = batch.prompt_width
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                       position_ids=batch.position_ids, use_cache=False).logits  # [b, P + L, V]
        return _from_logits(logits[:, p - 1 : -1], batch, temperature, with_entropy)  # from [b, L, V]
    lean, width = FastLM(model, compile=compile), batch.completion_mask.shape[1]
    order = batch.completion_mask.sum(1).argsort()  # [b] shortest first
    by_length = batch.select(order)
    logps, entropies = [], []
    for start, stop in length_chunks(by_length.completion_mask.sum(1).tolist()):
        part = by_length.rows(start, stop)  # trimmed to its own longest completion
        logp, entropy = _from_logits(_shared_prompt_logits(lean, part), part, temperature, with_entropy)
        logps.append(F.pad(logp, (0, width - logp.shape[1])))  # [rows, L]; padding is masked later
        if entropy is not None:
            entropies.append(F.pad(entropy, (0, width - entropy.shape[1])))
    back = order.argsort()  # [b]
    return torch.cat(logps)[back], torch.cat(entropies)[back] if with_entropy else None


def length_chunks(lengths: list[int], most: int = 8) -> list[tuple[int, int]]:
    """Row ranges of a batch sorted by length: the fewest equal chunks (1, 2, 4, ... most) whose padded
    token count is within 10% of the best such split. Equal lengths give one chunk."""
    n = len(lengths)
    options = []
    k = 1
    while k <= min(most, n):
        bounds = [round(n * j / k) for j in range(k + 1)]
        ranges = list(zip(bounds, bounds[1:]))
        options.append((sum((b - a) * max(lengths[b - 1], 1) for a, b in ranges), ranges))
        k *= 2
    best = min(cost for cost, _ in options)
    return next(ranges for cost, ranges in options if cost <= 1.1 * best)


def _from_logits(logits: torch.Tensor, batch: Batch, temperature: float, with_entropy: bool
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probs (and entropies) [b, L] from logits [b, L, V] predicting the completion tokens."""
    logp = picked_logprobs(logits, batch.input_ids[:, batch.prompt_width :], temperature=temperature)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = entropy_from_logits(logits.detach(), temperature=temperature)  # [b, L]
    return logp, entropy


def _shared_prompt_logits(lean: FastLM, batch: Batch) -> torch.Tensor:
    p = batch.prompt_width
    prompts = torch.cat([batch.input_ids[:, :p], batch.attention_mask[:, :p]], dim=1)  # [b, 2P]
    distinct, index = torch.unique(prompts, dim=0, return_inverse=True)  # [U, 2P], [b]
    return lean.shared_prompt_logits(distinct[:, :p], distinct[:, p:], index, batch.input_ids[:, p:])


def micro_batches(cfg, batch: Batch, n: int) -> tuple[list[Batch], list[float]]:
    """n slices of the batch, and each one's count in the loss normaliser.

    Dividing each slice's loss by count_j / total (total: the sum of counts, over every process)
    and summing gives exactly the loss of the whole batch, because each aggregation divides by a
    count that adds up over rows: sequences with tokens (seq-mean-token-mean), tokens (token-mean)
    or rows (constant). Every process must run the same number of micro-batches (each one runs
    collectives); one with fewer rows than n fills up with copies of its last row counted 0.
    """
    mask = batch.completion_mask  # [B, L]
    if cfg.mask_truncated:
        mask = mask & ~batch.truncated[:, None]  # [B, L]
    counts = {"seq-mean-token-mean": (mask.sum(1) > 0).float(), "token-mean": mask.sum(1).float(),
              "constant": torch.ones(len(batch))}[cfg.aggregation]  # [B]
    real = min(n, len(batch))
    bounds = [round(len(batch) * j / real) for j in range(real + 1)]
    parts = [batch.rows(a, b) for a, b in zip(bounds, bounds[1:])]
    weights = [float(counts[a:b].sum()) for a, b in zip(bounds, bounds[1:])]
    filler = batch.rows(len(batch) - 1, len(batch))
    return parts + [filler] * (n - real), weights + [0.0] * (n - real)
