"""Training compute, counted the standard way, so stages can be compared (and given) equal compute.

    forward + backward of a token:  6 * N FLOPs      (Kaplan et al. 2020, "Scaling laws", C = 6ND)
    forward of a token, no grad:    2 * N FLOPs      (generation, the reference model, no-grad passes)

N is every parameter of the model as `model.parameters()` lists it: embeddings included, a tied
input/output embedding once, LoRA adapters included (the estimate does not shrink for LoRA, whose
backward still runs through every weight). Attention's quadratic term is left out, as in C = 6ND.

Tokens are counted per sequence, as the data holds them: a sequence's prompt tokens plus its
response (or completion) tokens, padding excluded. Prompt sharing, KV caching and padding are
optimisations the count ignores, so it is the same for every engine and batch layout: G completions
of one prompt count the prompt G times. What each stage counts (docs/distillation.md):
  pretrain  6N x the packed tokens of each step
  sft       6N x the prompt + response tokens of each step's records
  grpo      2N x (prompt + completion) of every sampled sequence (all rounds), plus, per update,
            6N x mu x the batch's tokens, 2N x them for the reference (beta > 0) and for the entropy
            pass (top_entropy_quantile < 1); held-out evaluations are not training and not counted.
The training loop (r1.train.loop) adds each step's `step_flops` into the cumulative `flops` of
log.jsonl, the checkpoint and output_dir/final/r1_final.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from r1.errors import R1Error

TRAIN = 6
"""FLOPs per parameter per token, forward and backward."""
FORWARD = 2
"""FLOPs per parameter per token, forward only."""


def parameter_count(model) -> int:
    """N: every parameter of `model` (a tied embedding once; LoRA adapters included). DeepSpeed ZeRO-3
    leaves each process an empty slice and the full size in `ds_numel`; FSDP2's DTensors report theirs."""
    return sum(getattr(p, "ds_numel", p.numel()) for p in model.parameters())


def parameter_count_of(path: str | Path, field: str = "model") -> int:
    """N of the model in a local HF directory, without loading its weights (built on the meta device)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from r1.models.load import check_model_dir

    directory = check_model_dir(path, field)
    try:
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except (OSError, ValueError, KeyError) as err:
        raise R1Error(f"{field}: cannot read the model in {directory}: {str(err).splitlines()[0]}") from None
    return parameter_count(model)


def train_flops(parameters: int, tokens: float) -> float:
    """Forward + backward of `tokens` tokens through a model of `parameters` parameters.

    >>> train_flops(1_000, 10)
    60000.0
    """
    return float(TRAIN * parameters * tokens)


def forward_flops(parameters: int, tokens: float) -> float:
    """Forward only (generation, reference, no-grad passes) of `tokens` tokens.

    >>> forward_flops(1_000, 10)
    20000.0
    """
    return float(FORWARD * parameters * tokens)


def flops_of(path: str | Path, field: str) -> float:
    """The training FLOPs a finished model directory (or a stage's output_dir) records in its
    r1_final.json, e.g. the distilled student's SFT, to give another stage the same compute."""
    from r1.models.load import check_model_dir
    from r1.train.checkpoint import FINAL_MARKER

    marker = check_model_dir(path, field) / FINAL_MARKER
    if not marker.is_file():
        raise R1Error(f"{field}: {marker.parent} has no {FINAL_MARKER}, so no training stage finished there "
                      "and its compute is unknown; give max_flops instead")
    try:
        flops = json.loads(marker.read_text()).get("flops")
    except (OSError, ValueError):
        raise R1Error(f"{field}: {marker} is not valid JSON") from None
    if not isinstance(flops, (int, float)) or isinstance(flops, bool) or flops <= 0:
        raise R1Error(f"{field}: {marker} records no FLOPs count (flops={flops!r}; written before r1 counted "
                      "compute?); give max_flops instead")
    return float(flops)
