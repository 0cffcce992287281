"""Log-probs (and entropies) of a batch's completion tokens under the policy or the reference model.

Llama-family models take r1's lean forward (r1.models.fast), which runs each distinct prompt once for
its G completions; any other model, and wrapped ones (DDP/FSDP/peft), take the model's own forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from r1.grpo.batch import Batch
from r1.grpo.logprobs import entropy_from_logits, picked_logprobs
from r1.grpo.loss import entropy_threshold, high_entropy_mask, loss_mask
from r1.models.fast import FastLM, length_chunks, unsupported
from r1.runtime import autocast
from r1.train.distributed import cat_over_processes


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


def entropy_masks(model, parts: list[Batch], counts: list[float], cfg, dtype: torch.dtype
                  ) -> list[torch.Tensor | None]:
    """top_entropy_quantile: per micro-batch, its loss tokens [b, L] whose entropy is at or above the
    (1 - q) quantile of every loss token of the step (all micro-batches, all processes), under the
    model as it is (before the update: the sampling policy). One forward without gradients, so
    grad_accum and the number of processes never change which tokens train; TRL takes the quantile
    per micro-batch (over all processes) at every mu iteration. q = 1: None each, no forward.
    A part counted 0 in the normaliser (a process's filler, see `micro_batches`) adds no tokens."""
    if cfg.top_entropy_quantile >= 1:
        return [None] * len(parts)
    entropies, masks = [], []
    with torch.no_grad(), autocast(dtype):
        for part in parts:
            entropies.append(completion_logprobs(model, part, cfg.temperature, with_entropy=True,
                                                 compile=cfg.compile)[1])  # [b, L]
            masks.append(loss_mask(part.completion_mask, part.truncated, cfg.mask_truncated))  # [b, L]
    own = [e[m] for e, m, c in zip(entropies, masks, counts) if c > 0]  # fillers add nothing
    values = cat_over_processes(torch.cat(own) if own else entropies[0].new_zeros(0))  # [N], all processes'
    threshold = entropy_threshold(values, cfg.top_entropy_quantile)
    return [high_entropy_mask(e, m, threshold) for e, m in zip(entropies, masks)]
