"""The GRPO loss: an importance-weighted surrogate (PPO-clipped, or CISPO's clipped weights), optional k3
KL to a reference, and the reduction to one number. The options carry TRL's names (docs/trl-port.md).

Shapes: B completions, L completion tokens (padded); `mask` [B, L] marks real completion tokens.

How the options differ from textbook GRPO (DeepSeekMath eq. 3, eps = 0.2 both sides, beta > 0,
per-sequence token mean then mean over sequences):
- `eps_low` / `eps_high`: the ratio is clipped to [1 - eps_low, 1 + eps_high]. DAPO's clip-higher
  raises eps_high (e.g. 0.28) so unlikely tokens with A > 0 can grow, which keeps entropy up.
- `delta` (INTELLECT-2's two-sided clipping): the unclipped ratio is also capped at delta, so a token
  with A < 0 whose ratio ran far above 1 stops pushing (plain PPO-clip never bounds that side).
- `beta`: R1-Zero style runs often use 0 (no reference model at all; `ref_logp` may be None).
- `loss_type`, how per-token losses become one number (and, for cispo, which objective):
    "grpo"     mean over sequences of each sequence's token mean (GRPO). A token in a long
               completion weighs less: a length bias.
    "dapo"     sum over all tokens / number of tokens (DAPO): every token weighs the same.
    "bnpo"     the same as dapo here. TRL divides by the tokens of each device's micro-batch, so its
               gradient depends on how the batch is split; r1 never lets grad_accum change the
               gradient, so both divide by the tokens of the whole batch (all micro-batches, all ranks).
    "dr_grpo"  sum over all tokens / (B * max_len) (Dr. GRPO): a constant normaliser, so no length
               bias at all; max_len is the generation budget (r1: the step's window + 1, for the eos).
    "cispo"    MiniMax-M1's CISPO, reduced like dapo: each token's loss is -w * A * logp with the
               importance weight w = min(ratio, 1 + eps_high), detached, so a token outside the
               trust region still gets a (bounded) gradient instead of none. TRL caps at
               `epsilon_high` itself (recommended 5.0); r1's eps_high keeps its one meaning, the
               ratio's ceiling is 1 + eps_high, so TRL's 5.0 is eps_high = 4.0. eps_low is unused.
- `importance_sampling_level="sequence"` (GSPO): one ratio per completion, exp of the masked mean of
  its token log-ratios, clipped per sequence and shared by its tokens. The gradient flows through
  the mean (TRL's form); GSPO-token's stop-gradient form sg[s_i] * pi / sg[pi] has the same value
  and the same gradient (tests/grpo/test_loss_variants.py checks it). With a token-sum reduction
  (dapo, bnpo, dr_grpo, cispo) a sequence then weighs by its length; GSPO itself uses "grpo".
- `entropy_mask` (top_entropy_quantile, "Beyond the 80/20 rule"): the policy-gradient term is kept
  only on these tokens (`high_entropy_mask`); the KL term and the normaliser still count every token,
  as in TRL.
- `mask_truncated`: completions cut off at max length (no EOS) leave the loss entirely (DAPO's
  overlong filtering), so a good reasoning chain is not punished for being cut. For the token and
  sequence means the result is exactly as if those rows were not in the batch (they leave the
  denominator too); for "dr_grpo" the normaliser stays B * max_len by design.
- `sampler_logp` / `tis_cap`: when the rollouts came from another engine (vLLM), its log-probs differ
  slightly from the trainer's even for the same weights. Truncated importance sampling weights each
  token's policy-gradient term by min(exp(old_logp - sampler_logp), tis_cap) (Yao et al., 2025);
  a NaN sampler log-prob (e.g. the eos the trainer appends) means weight 1.
- All-masked rows (after truncation or otherwise) are skipped by "grpo"'s mean over sequences; an
  all-masked batch gives loss 0 with zero gradients, not NaN.

`old_logp` and `ref_logp` are constants (detached here). With one update per rollout batch (mu = 1)
pass `old_logp = logp.detach()`: the ratio is exactly 1, nothing is clipped, and the gradient is the
plain policy gradient -A * grad(logp) / normaliser (for every loss_type and level).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo")
IS_LEVELS = ("token", "sequence")
TOKEN_MEAN = ("bnpo", "dapo", "cispo")  # loss types divided by the batch's token count


class Surrogate(NamedTuple):
    """A per-token objective [B, L] (to maximise) and where its clipping bound, each [B, L]."""

    objective: torch.Tensor
    ratio: torch.Tensor
    low: torch.Tensor  # ratio < 1 - eps_low with A < 0: on the clipped branch, no gradient
    high: torch.Tensor  # ratio > 1 + eps_high with A > 0 (cispo: the weight was capped)
    delta: torch.Tensor  # ratio > delta with A < 0: cut by two-sided clipping, no gradient


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || ref): exp(d) - d - 1 with d = ref - logp; always >= 0."""
    d = ref_logp - logp  # [B, L]
    return torch.exp(d) - d - 1  # [B, L]


def loss_mask(mask: torch.Tensor, truncated: torch.Tensor | None = None,
              mask_truncated: bool = False) -> torch.Tensor:
    """The tokens in the loss [B, L] bool: real completion tokens, minus truncated rows if asked."""
    mask = mask.bool()  # [B, L]
    if mask_truncated and truncated is not None:
        mask = mask & ~truncated.bool()[:, None]  # [B, L]
    return mask


def importance_log_ratio(log_ratio: torch.Tensor, mask: torch.Tensor, level: str = "token") -> torch.Tensor:
    """log(pi / pi_old) per token [B, L]; "sequence" (GSPO): each row's masked mean, broadcast to [B, L]."""
    if level == "token":
        return log_ratio  # [B, L]
    if level == "sequence":
        per_seq = (log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1)  # [B]
        return per_seq[:, None].expand_as(log_ratio)  # [B, L]
    raise ValueError(f"importance_sampling_level must be one of {IS_LEVELS}, got {level!r}")


def clipped_objective(log_ratio: torch.Tensor, advantages: torch.Tensor, eps_low: float,
                      eps_high: float, delta: float | None = None) -> Surrogate:
    """PPO-clip objective per token: min(r * A, clip(r, 1 - eps_low, 1 + eps_high) * A), with r
    first capped at `delta` when given (two-sided clipping). log_ratio [B, L], advantages [B]."""
    ratio = torch.exp(log_ratio)  # [B, L]
    adv = advantages[:, None]  # [B, 1]
    unclipped = ratio if delta is None else ratio.clamp(max=delta)  # [B, L]
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high) * adv  # [B, L]
    objective = torch.minimum(unclipped * adv, clipped)  # [B, L]
    low = (ratio < 1 - eps_low) & (adv < 0)  # [B, L]
    high = (ratio > 1 + eps_high) & (adv > 0)  # [B, L]
    cut = (ratio > delta) & (adv < 0) if delta is not None else torch.zeros_like(low)  # [B, L]
    return Surrogate(objective, ratio, low, high, cut)


def cispo_objective(log_ratio: torch.Tensor, logp: torch.Tensor, advantages: torch.Tensor,
                    eps_high: float) -> Surrogate:
    """CISPO per token: sg(min(r, 1 + eps_high)) * A * logp; its gradient is the capped weight times
    A * grad(logp), never zero. `high` marks capped weights with A > 0 (TRL's cispo_clip_ratio)."""
    ratio = torch.exp(log_ratio)  # [B, L]
    adv = advantages[:, None]  # [B, 1]
    weight = ratio.clamp(max=1 + eps_high).detach()  # [B, L]
    none = torch.zeros_like(ratio, dtype=torch.bool)  # [B, L]
    return Surrogate(weight * adv * logp, ratio, none, (ratio > 1 + eps_high) & (adv > 0), none)


def entropy_threshold(entropies: torch.Tensor, top_quantile: float) -> float:
    """The entropy at quantile 1 - top_quantile of a flat tensor, linearly interpolated as
    torch.quantile (which TRL calls) but without its 16M-element limit; inf when it is empty."""
    values = entropies.detach().float().flatten().sort().values  # [N]
    if values.numel() == 0:
        return float("inf")
    rank = torch.tensor(1.0 - top_quantile) * (values.numel() - 1)  # [], float32 as torch.quantile's
    below, above = values[rank.long()], values[rank.ceil().long()]  # [], []
    return float(torch.lerp(below, above, rank - rank.long()))


def high_entropy_mask(entropies: torch.Tensor, mask: torch.Tensor, threshold: float) -> torch.Tensor:
    """Tokens [B, L] bool whose entropy is at or above `threshold` (padding never)."""
    return (entropies >= threshold) & mask.bool()  # [B, L]


def normaliser_counts(mask: torch.Tensor, loss_type: str) -> torch.Tensor:
    """Each row's share [B] of the loss normaliser; the counts add up over rows, so a batch split into
    micro-batches (and ranks) weighted by count_j / total has exactly the whole batch's loss:
    sequences with tokens (grpo), tokens (bnpo, dapo, cispo) or rows (dr_grpo)."""
    if loss_type == "grpo":
        return (mask.sum(1) > 0).float()  # [B]
    if loss_type in TOKEN_MEAN:
        return mask.sum(1).float()  # [B]
    if loss_type == "dr_grpo":
        return torch.ones(mask.shape[0])  # [B]
    raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")


def aggregate(per_token_loss: torch.Tensor, mask: torch.Tensor, loss_type: str,
              max_len: int | None = None) -> torch.Tensor:
    """Reduce a masked per-token loss [B, L] to a scalar; see the module docstring for the types."""
    masked = torch.where(mask, per_token_loss, torch.zeros_like(per_token_loss))  # [B, L]
    if loss_type == "grpo":
        tokens = mask.sum(dim=1)  # [B]
        seq_mean = masked.sum(dim=1) / tokens.clamp(min=1)  # [B]
        return seq_mean.sum() / (tokens > 0).sum().clamp(min=1)  # []
    if loss_type in TOKEN_MEAN:
        return masked.sum() / mask.sum().clamp(min=1)  # []
    if loss_type == "dr_grpo":
        if max_len is None or max_len < mask.shape[1]:
            raise ValueError(f"loss_type='dr_grpo' needs max_len >= L={mask.shape[1]} "
                             f"(the generation budget), got {max_len}")
        return masked.sum() / (mask.shape[0] * max_len)  # []
    raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> float:
    return (x.detach().float() * mask).sum().item() / max(int(mask.sum()), 1)


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor | None,
              advantages: torch.Tensor, mask: torch.Tensor, *, eps_low: float = 0.2,
              eps_high: float = 0.2, beta: float = 0.0, loss_type: str = "grpo",
              importance_sampling_level: str = "token", delta: float | None = None,
              max_len: int | None = None, truncated: torch.Tensor | None = None,
              mask_truncated: bool = False, entropy_mask: torch.Tensor | None = None,
              sampler_logp: torch.Tensor | None = None, tis_cap: float = 0.0
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """GRPO loss (scalar, to minimise) and metrics.

    Args:
        logp: [B, L] log-probs of the completion tokens under the policy being trained (with grad).
        old_logp: [B, L] the same under the policy that sampled them (detached here).
        ref_logp: [B, L] the same under the reference model, or None when beta == 0.
        advantages: [B] one advantage per completion (see `group_advantages`).
        mask: [B, L] bool (or 0/1) marking real completion tokens.
        eps_low, eps_high: clip range [1 - eps_low, 1 + eps_high] for the ratio (cispo: the cap).
        beta: KL coefficient; 0 skips the KL term.
        loss_type, importance_sampling_level, delta, max_len, truncated, mask_truncated: see the
            module docstring.
        entropy_mask: [B, L] bool, the tokens the policy-gradient term keeps, or None for all.
        sampler_logp: [B, L] the rollout engine's log-probs (NaN where unknown), or None.
        tis_cap: truncation C of the importance weights; 0 turns the correction off.
    Returns:
        (loss [], metrics) with metrics: kl (masked mean k3, 0 without ref), clip_frac (share of
        tokens whose gradient clipping removed: low, high or delta; cispo: whose weight was capped),
        clip_frac_low, clip_frac_high, clip_frac_delta, ratio_mean, ratio_max (per sequence: the
        sequence's ratio on each of its tokens), tokens, tis_weight_mean.
    """
    if beta != 0 and ref_logp is None:
        raise ValueError("beta != 0 needs ref_logp")
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    mask = loss_mask(mask, truncated, mask_truncated)  # [B, L]
    zeros = torch.zeros_like(logp)  # [B, L]
    # Masked positions become 0 before any arithmetic: garbage there (inf, NaN) can't leak into
    # the loss or the gradients.
    logp = torch.where(mask, logp, zeros)  # [B, L]
    old_logp = torch.where(mask, old_logp.detach(), zeros)  # [B, L]
    log_ratio = importance_log_ratio(logp - old_logp, mask, importance_sampling_level)  # [B, L]
    if loss_type == "cispo":
        s = cispo_objective(log_ratio, logp, advantages.detach(), eps_high)
    else:
        s = clipped_objective(log_ratio, advantages.detach(), eps_low, eps_high, delta)
    objective = s.objective  # [B, L]
    kl = zeros  # [B, L]
    if ref_logp is not None:
        kl = k3_kl(logp, torch.where(mask, ref_logp.detach(), zeros))  # [B, L]
    tis = zeros + 1.0  # [B, L]
    if sampler_logp is not None and tis_cap > 0:
        gap = torch.nan_to_num(old_logp - sampler_logp.detach(), nan=0.0)  # [B, L]; NaN: unknown
        tis = torch.where(mask, torch.exp(gap).clamp(max=tis_cap), tis)  # [B, L]
        objective = objective * tis  # [B, L]
    if entropy_mask is not None:
        objective = objective * entropy_mask  # [B, L]; the KL below still acts on every token
    per_token_loss = -(objective - beta * kl) if beta != 0 else -objective  # [B, L]
    loss = aggregate(per_token_loss, mask, loss_type, max_len)  # []
    metrics = {
        "kl": _masked_mean(kl, mask),
        "clip_frac": _masked_mean(s.low | s.high | s.delta, mask),
        "clip_frac_low": _masked_mean(s.low, mask),
        "clip_frac_high": _masked_mean(s.high, mask),
        "clip_frac_delta": _masked_mean(s.delta, mask),
        "ratio_mean": _masked_mean(s.ratio, mask),
        "ratio_max": s.ratio.detach()[mask].max().item() if mask.any() else 1.0,
        "tokens": float(mask.sum()),
        "tis_weight_mean": _masked_mean(tis, mask),
    }
    return loss, metrics
