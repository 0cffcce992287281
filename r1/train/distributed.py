"""Reductions over the processes of an `accelerate launch` run. Each is a collective: every process
calls it, the same number of times, in the same order; one process returns its own value."""

from __future__ import annotations

from typing import Any

import torch

from r1.runtime import max_over_processes

__all__ = ["across_processes", "all_ranks", "gather_ints", "max_over_processes", "sum_ranks"]


def all_ranks(accelerator, flag: bool) -> bool:
    """True when `flag` holds on every process."""
    if accelerator.num_processes == 1:
        return flag
    t = torch.tensor(float(flag), device=accelerator.device)
    return bool(accelerator.reduce(t, "sum") == accelerator.num_processes)


def sum_ranks(accelerator, value: float) -> float:
    if accelerator.num_processes == 1:
        return value
    return float(accelerator.reduce(torch.tensor(float(value), device=accelerator.device), "sum"))


def gather_ints(accelerator, value: int) -> list[int]:
    """Every process's `value`, in rank order."""
    if accelerator.num_processes == 1:
        return [value]
    return [int(v) for v in accelerator.gather(torch.tensor([value], device=accelerator.device))]


def across_processes(accelerator, metrics: dict[str, Any]) -> dict[str, Any]:
    """Mean of each numeric metric over processes (max for *_max); one process: unchanged."""
    if accelerator.num_processes == 1:
        return metrics
    out = dict(metrics)
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            t = torch.tensor(float(value), device=accelerator.device)
            out[key] = float(accelerator.reduce(t, "max" if key.endswith("_max") else "mean"))
    return out
