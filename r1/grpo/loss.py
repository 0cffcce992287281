"""The GRPO loss: clipped importance-weighted surrogate, optional k3 KL to a reference, aggregation.

Shapes: B completions, L completion tokens (padded); `mask` [B, L] marks real completion tokens.

How the options differ from textbook GRPO (DeepSeekMath eq. 3, eps = 0.2 both sides, beta > 0,
per-sequence token mean then mean over sequences):
- `eps_low` / `eps_high`: the ratio is clipped to [1 - eps_low, 1 + eps_high]. DAPO's clip-higher
  raises eps_high (e.g. 0.28) so unlikely tokens with A > 0 can grow, which keeps entropy up.
- `beta`: R1-Zero style runs often use 0 (no reference model at all; `ref_logp` may be None).
- `aggregation`:
    "seq-mean-token-mean"  mean over sequences of each sequence's token mean (GRPO). A token in a
                           long completion weighs less: a length bias.
    "token-mean"           sum over all tokens / number of tokens (DAPO): every token weighs the same.
    "constant"             sum over all tokens / (B * max_len) (Dr. GRPO): a constant normaliser, so
                           no length bias at all; max_len is the generation budget.
- `mask_truncated`: completions cut off at max length (no EOS) leave the loss entirely (DAPO's
  overlong filtering), so a good reasoning chain is not punished for being cut. For
  "seq-mean-token-mean" and "token-mean" the result is exactly as if those rows were not in the
  batch (they leave the denominator too); for "constant" the normaliser stays B * max_len by design.
- `sampler_logp` / `tis_cap`: when the rollouts came from another engine (vLLM), its log-probs differ
  slightly from the trainer's even for the same weights. Truncated importance sampling weights each
  token's policy-gradient term by min(exp(old_logp - sampler_logp), tis_cap) (Yao et al., 2025);
  a NaN sampler log-prob (e.g. the eos the trainer appends) means weight 1.
- All-masked rows (after truncation or otherwise) are skipped by "seq-mean-token-mean"'s mean over
  sequences; an all-masked batch gives loss 0 with zero gradients, not NaN.

`old_logp` and `ref_logp` are constants (detached here). With one update per rollout batch (mu = 1)
pass `old_logp = logp.detach()`: the ratio is exactly 1, nothing is clipped, and the gradient is the
plain policy gradient -A * grad(logp) / normaliser.
"""

from __future__ import annotations

import torch

AGGREGATIONS = ("seq-mean-token-mean", "token-mean", "constant")


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || ref): exp(d) - d - 1 with d = ref - logp; always >= 0."""
    d = ref_logp - logp  # [B, L]
    return torch.exp(d) - d - 1  # [B, L]


def clipped_objective(log_ratio: torch.Tensor, advantages: torch.Tensor, eps_low: float,
                      eps_high: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO-clip objective per token and which tokens sat on the clipped branch (zero gradient).

    Returns (objective [B, L], ratio [B, L], clipped_low [B, L] bool, clipped_high [B, L] bool).
    """
    ratio = torch.exp(log_ratio)  # [B, L]
    adv = advantages[:, None]  # [B, 1]
    unclipped = ratio * adv  # [B, L]
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high) * adv  # [B, L]
    objective = torch.minimum(unclipped, clipped)  # [B, L]
    clipped_low = (ratio < 1 - eps_low) & (adv < 0)  # [B, L]
    clipped_high = (ratio > 1 + eps_high) & (adv > 0)  # [B, L]
    return objective, ratio, clipped_low, clipped_high


def aggregate(per_token_loss: torch.Tensor, mask: torch.Tensor, aggregation: str,
              max_len: int | None = None) -> torch.Tensor:
    """Reduce a masked per-token loss [B, L] to a scalar; see the module docstring for the modes."""
    masked = torch.where(mask, per_token_loss, torch.zeros_like(per_token_loss))  # [B, L]
    if aggregation == "seq-mean-token-mean":
        tokens = mask.sum(dim=1)  # [B]
        seq_mean = masked.sum(dim=1) / tokens.clamp(min=1)  # [B]
        return seq_mean.sum() / (tokens > 0).sum().clamp(min=1)  # []
    if aggregation == "token-mean":
        return masked.sum() / mask.sum().clamp(min=1)  # []
    if aggregation == "constant":
        if max_len is None or max_len < mask.shape[1]:
            raise ValueError(f"aggregation='constant' needs max_len >= L={mask.shape[1]} "
                             f"(the generation budget), got {max_len}")
        return masked.sum() / (mask.shape[0] * max_len)  # []
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> float:
    return (x.detach().float() * mask).sum().item() / max(int(mask.sum()), 1)


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor | None,
              advantages: torch.Tensor, mask: torch.Tensor, *, eps_low: float = 0.2,
              eps_high: float = 0.2, beta: float = 0.0, aggregation: str = "seq-mean-token-mean",
              max_len: int | None = None, truncated: torch.Tensor | None = None,
              mask_truncated: bool = False, sampler_logp: torch.Tensor | None = None,
              tis_cap: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """GRPO loss (scalar, to minimise) and metrics.

    Args:
        logp: [B, L] log-probs of the completion tokens under the policy being trained (with grad).
        old_logp: [B, L] the same under the policy that sampled them (detached here).
        ref_logp: [B, L] the same under the reference model, or None when beta == 0.
        advantages: [B] one advantage per completion (see `group_advantages`).
        mask: [B, L] bool (or 0/1) marking real completion tokens.
        eps_low, eps_high: clip range [1 - eps_low, 1 + eps_high] for the ratio.
        beta: KL coefficient; 0 skips the KL term.
        aggregation, max_len, truncated, mask_truncated: see the module docstring.
        sampler_logp: [B, L] the rollout engine's log-probs (NaN where unknown), or None.
        tis_cap: truncation C of the importance weights; 0 turns the correction off.
    Returns:
        (loss [], metrics) with metrics: kl (masked mean k3, 0 without ref), clip_frac (share of
        tokens on the clipped branch), clip_frac_low, clip_frac_high, ratio_mean, ratio_max, tokens.
    """
    if beta != 0 and ref_logp is None:
        raise ValueError("beta != 0 needs ref_logp")
    mask = mask.bool()  # [B, L]
    if mask_truncated and truncated is not None:
        mask = mask & ~truncated.bool()[:, None]  # [B, L]
    zeros = torch.zeros_like(logp)  # [B, L]
    # Masked positions become 0 before any arithmetic: garbage there (inf, NaN) can't leak into
    # the loss or the gradients.
    logp = torch.where(mask, logp, zeros)  # [B, L]
    old_logp = torch.where(mask, old_logp.detach(), zeros)  # [B, L]
    objective, ratio, low, high = clipped_objective(logp - old_logp, advantages.detach(),
                                                    eps_low, eps_high)  # [B, L] each
    kl = zeros  # [B, L]
    if ref_logp is not None:
        kl = k3_kl(logp, torch.where(mask, ref_logp.detach(), zeros))  # [B, L]
    tis = zeros + 1.0  # [B, L]
    if sampler_logp is not None and tis_cap > 0:
        gap = torch.nan_to_num(old_logp - sampler_logp.detach(), nan=0.0)  # [B, L]; NaN: unknown
        tis = torch.where(mask, torch.exp(gap).clamp(max=tis_cap), tis)  # [B, L]
        objective = objective * tis  # [B, L]
    per_token_loss = -(objective - beta * kl) if beta != 0 else -objective  # [B, L]
    loss = aggregate(per_token_loss, mask, aggregation, max_len)  # []
    metrics = {
        "kl": _masked_mean(kl, mask),
        "clip_frac": _masked_mean(low | high, mask),
        "clip_frac_low": _masked_mean(low, mask),
        "clip_frac_high": _masked_mean(high, mask),
        "ratio_mean": _masked_mean(ratio, mask),
        "ratio_max": ratio.detach()[mask].max().item() if mask.any() else 1.0,
        "tokens": float(mask.sum()),
        "tis_weight_mean": _masked_mean(tis, mask),
    }
    return loss, metrics
