"""Seeds, threads and precision: the few process-wide settings every stage shares."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import numpy as np
import torch


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def cpu_has_bf16() -> bool:
    """bf16 matmuls are fast only where the CPU has native bf16 instructions."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def sampling_dtype(precision: str) -> torch.dtype:
    """The weights' dtype of a sampling stage for "auto" | "fp32" | "bf16": auto is bf16 on a GPU that has
    it and fp32 elsewhere (on a CPU, bf16 weights sample slower at small sizes and change the samples)."""
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return resolve_precision(precision)


def resolve_device(device: str) -> torch.device:
    """"auto" (the first GPU when one is visible, else the CPU), or a torch device name; a GPU asked for
    where none is visible is a one-line error."""
    from r1.errors import R1Error

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    chosen = torch.device(device)
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise R1Error(f"device: {device!r} asked for, but no GPU is visible (device=auto or cpu samples on the CPU)")
    return chosen


def resolve_precision(precision: str) -> torch.dtype:
    """The autocast dtype for "auto" | "fp32" | "bf16"."""
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    return torch.bfloat16 if cpu_has_bf16() else torch.float32


def autocast(dtype: torch.dtype):
    """Autocast to `dtype` on the current device, or nothing for fp32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.autocast(device, dtype=dtype)


def swap_in_dir(tmp: Path, target: Path) -> None:
    """Make the fully written directory `tmp` the new `target` (a checkpoint).

    A kill at any moment leaves one complete checkpoint: `target`, or `target.old` between the two
    renames, which `recover_dir` puts back.
    """
    import shutil

    old = target.with_name(target.name + ".old")
    if old.exists() and target.exists():
        shutil.rmtree(old)  # left by an earlier swap that was killed after its second rename
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    if old.exists():
        shutil.rmtree(old)


def recover_dir(target: Path) -> Path:
    """`target`, restored from `target.old` if a kill fell between `swap_in_dir`'s two renames."""
    old = target.with_name(target.name + ".old")
    if not target.exists() and old.exists():
        old.rename(target)
    return target


def max_over_processes(value: int, device: torch.device | str = "cpu") -> int:
    """The largest `value` over all processes (itself when not distributed). A collective: every
    process calls it. `device` must suit the backend (CUDA for NCCL)."""
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return value
    t = torch.tensor([value], device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return int(t)


def leave_process_group() -> None:
    """Leave the process group of a launched run once its work is done. Left to the interpreter's
    teardown, gloo's worker threads can outlive it and a finished rank aborts ("terminate called
    without an active exception") after everything was written. A no-op when not distributed."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
