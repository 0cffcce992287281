"""Log-probs (and entropies) of a batch's completion tokens under the policy or the reference model.

Llama-family models take r1's lean forward (r1.models.fast), which runs each distinct prompt once for
its G completions; any other model, and wrapped ones (DDP/FSDP/peft), take the model's own forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from r1.grpo.batch import Batch
from r1.grpo.logprobs import entropy_from_logits, picked_logprobs
from r1.models.fast import FastLM, unsupported


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
