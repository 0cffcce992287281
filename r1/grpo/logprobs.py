"""Per-token log-probabilities and entropies from a causal LM's logits, one sequence at a time.

`log_softmax(logits).gather(...)` materialises a second [B, T, V] tensor just to read one entry per
row. Here each next-token log-prob is `logit[target] - logsumexp(logits)`, computed a few sequences at
a time (as many as fit in CHUNK_ELEMENTS), so with a real vocabulary the extra memory is one [T, V]
row, never a [B, T, V] copy, and never float64; a tiny vocabulary takes the whole batch at once.
Half-precision logits (bf16/fp16) are upcast to float32 per row: bf16 logsumexp is too coarse for
the ratio exp(logp - old_logp), which must be ~1 when nothing changed.

Temperature: rollouts sampled at temperature τ drew tokens from softmax(logits / τ), so the
importance ratio and the KL must use that same distribution; pass the same τ here.
"""

from __future__ import annotations

import torch

CHUNK_ELEMENTS = 1 << 22  # logits per chunk (16 MB in float32): one row of a 150k vocabulary x 28 tokens


def _chunks(logits: torch.Tensor):
    """Row slices [c, T, V] of logits [B, T, V], each within CHUNK_ELEMENTS (at least one row)."""
    per_row = max(1, logits.shape[1] * logits.shape[2])
    step = max(1, CHUNK_ELEMENTS // per_row)
    for start in range(0, logits.shape[0], step):
        yield slice(start, start + step)


def _row(logits_row: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits [..., V], scaled by 1/temperature, in float32 or wider."""
    if logits_row.dtype in (torch.float16, torch.bfloat16):
        logits_row = logits_row.float()  # [T, V]
    if temperature != 1.0:
        logits_row = logits_row / temperature  # [T, V]
    return logits_row


def _check(logits: torch.Tensor, temperature: float) -> None:
    if logits.dim() != 3:
        raise ValueError(f"logits must be [B, T, V], got shape {tuple(logits.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")


def token_logprobs(logits: torch.Tensor, input_ids: torch.Tensor, *,
                   temperature: float = 1.0) -> torch.Tensor:
    """Log-prob of each next token: out[b, t] = log p(input_ids[b, t+1] | input_ids[b, :t+1]).

    Args:
        logits: [B, T, V] model outputs for input_ids (position t predicts token t+1).
        input_ids: [B, T] the tokens that were fed in.
        temperature: the sampling temperature of the rollouts; logits are divided by it.
    Returns:
        [B, T-1] log-probs, float32 for half-precision logits, else the logits' dtype.
    """
    _check(logits, temperature)
    if input_ids.shape != logits.shape[:2]:
        raise ValueError(f"input_ids {tuple(input_ids.shape)} must match logits [B, T] "
                         f"{tuple(logits.shape[:2])}")
    return picked_logprobs(logits[:, :-1], input_ids[:, 1:], temperature=temperature)


def picked_logprobs(logits: torch.Tensor, targets: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """out[b, t] = log softmax(logits[b, t] / temperature)[targets[b, t]]: [B, T, V], [B, T] -> [B, T]."""
    _check(logits, temperature)
    rows = []
    for part in _chunks(logits):
        z = _row(logits[part], temperature)  # [c, T, V]
        picked = z.gather(-1, targets[part, :, None]).squeeze(-1)  # [c, T]
        rows.append(picked - torch.logsumexp(z, dim=-1))  # [c, T]
    return torch.cat(rows)  # [B, T]


def entropy_from_logits(logits: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """Entropy of the next-token distribution at every position: [B, T, V] -> [B, T].

    H = logsumexp(z) - sum_v softmax(z)_v * z_v, with z = logits / temperature; in nats.
    """
    _check(logits, temperature)
    rows = []
    for part in _chunks(logits):
        z = _row(logits[part], temperature)  # [c, T, V]
        p = torch.softmax(z, dim=-1)  # [c, T, V]
        rows.append(torch.logsumexp(z, dim=-1) - (p * z).sum(dim=-1))  # [c, T]
    return torch.cat(rows)  # [B, T]
