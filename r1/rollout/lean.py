"""Sampling with the lean forward (r1.models.fast): shared-prompt prefill, a preallocated KV cache,
and finished rows dropped from the batch once enough of them have stopped."""

from __future__ import annotations

import torch

from r1.models.fast import FastLM

COMPACT_AT = 0.75  # drop finished rows once at most this share of the cached rows is still live


@torch.inference_mode()  # not no_grad: no view or version tracking, ~5% less CPU per rollout (tiny model)
def lean_sample(lm: FastLM, prompts: list[list[int]], n: int, max_new: int, temperature: float,
                top_p: float, eos_ids: set[int], stop_strings: list[str], tokenizer, pad_id: int
                ) -> list[list[int]]:
    """n completions per prompt, prompt-major; a finished one ends with its eos / stop token.

    Tokens are drawn from softmax(logits / temperature), nucleus-filtered at top_p, with torch's
    global generator (seed it for reproducible rollouts); temperature 0 is greedy.
    """
    dev = lm.inv_freq.device
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts], device=dev)  # [U, P]
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=dev)
    w = lm.weights()
    logits, cache = lm.prefill(w, ids, mask, n, max_new)
    logits = logits.repeat_interleave(n, 0)  # [B, V]
    rows = len(prompts) * n
    tokens_out = torch.full((rows, max_new), pad_id, dtype=torch.long)  # [B, max_new]
    lengths = torch.zeros(rows, dtype=torch.long)
    owner = torch.arange(rows)  # output row of each cached row
    alive = torch.ones(rows, dtype=torch.bool)  # per cached row
    eos = torch.tensor(sorted(eos_ids))
    longest = max((len(s) for s in stop_strings), default=0)
    for t in range(max_new):
        tokens = _draw(logits, temperature, top_p).cpu()  # [b]
        rec = alive.nonzero().squeeze(-1)
        tokens_out[owner[rec], t] = tokens[rec]
        lengths[owner[rec]] = t + 1
        finished = alive & torch.isin(tokens, eos)
        if stop_strings:  # a stop string may span tokens: look at each live row's tail
            for i in rec.tolist():
                row = int(owner[i])
                tail = tokenizer.decode(tokens_out[row, max(0, t - longest - 1): t + 1].tolist(),
                                        skip_special_tokens=False)
                finished[i] |= any(s in tail for s in stop_strings)
        alive &= ~finished
        if t == max_new - 1 or not alive.any():
            break
        if alive.sum() <= COMPACT_AT * len(alive):
            keep = alive.nonzero().squeeze(-1)
            cache.keep(keep.to(dev))
            owner, alive, tokens = owner[keep], alive[keep], tokens[keep]
        logits = lm.step(w, tokens.to(dev), cache)
    return [row[:n_].tolist() for row, n_ in zip(tokens_out, lengths.tolist())]


def _draw(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """One token per row [b] from logits [b, V], by inverse-CDF sampling (7x cheaper than
    torch.multinomial at this size)."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)  # [b, V]
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        drop = sorted_p.cumsum(-1) - sorted_p >= top_p  # the most likely token always stays
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p.masked_fill(drop, 0.0))
    cdf = probs.cumsum(-1)  # [b, V]
    u = torch.rand(len(cdf), 1, device=cdf.device) * cdf[:, -1:]  # [b, 1]
    # right=True: the first token whose cdf exceeds u, so a zero-probability token is never drawn
    return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_(max=cdf.shape[-1] - 1)
