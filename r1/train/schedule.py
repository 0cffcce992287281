"""The one learning-rate schedule of every training stage: linear warmup, then constant or a cosine
that reaches `min_lr_ratio` exactly at the last optimizer step (pretraining, SFT and GRPO agree)."""

from __future__ import annotations

import math

import torch


def warmup_schedule(opt_step: int, warmup: int, total: int, schedule: str, min_ratio: float) -> float:
    """lr multiplier at optimizer step `opt_step` (0-based) of `total`.

    >>> [round(warmup_schedule(i, 2, 6, "cosine", 0.1), 3) for i in range(6)]
    [0.5, 1.0, 1.0, 0.775, 0.325, 0.1]
    >>> warmup_schedule(5, 2, 6, "constant", 0.1)
    1.0
    """
    if opt_step < warmup:
        return (opt_step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (opt_step - warmup) / max(1, total - 1 - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def lr_scheduler(optimizer: torch.optim.Optimizer, cfg, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The schedule of a `TrainConfig` over `total` optimizer steps."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: warmup_schedule(
        i, cfg.warmup_steps, total, cfg.lr_schedule, cfg.min_lr_ratio))
