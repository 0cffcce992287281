"""Load any local Hugging Face checkpoint (the tiny model or a real one) with clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from r1.errors import R1Error


def check_model_dir(path: str | Path, field: str = "model") -> Path:
    """A local directory with a `config.json`, or a one-line error naming the field and path. A stage's
    output_dir stands for the model it finished, output_dir/final."""
    p = Path(path)
    if not (p / "config.json").is_file() and (p / "final" / "config.json").is_file():
        p = p / "final"
    if not p.exists():
        raise R1Error(f"{field}: {p} does not exist (expected a local Hugging Face model directory; "
                      "build the tiny one with `r1 pretrain`)")
    if not (p / "config.json").is_file():
        raise R1Error(f"{field}: {p} has no config.json, so it is not a Hugging Face model directory")
    check_finished(p, field)
    check_weights(p, field)
    return p


def check_finished(p: Path, field: str) -> None:
    """An r1 stage's output_dir/final (or a save left half-way, final.tmp) without the marker a finished
    save writes last was never finished. Other directories (any HF checkpoint, a `final/` another tool
    wrote) carry no marker and need none."""
    from r1.train.checkpoint import FINAL_MARKER

    if p.name not in ("final", "final.tmp") or not _r1_run(p.parent):
        return
    if p.name == "final.tmp" or not (p / FINAL_MARKER).is_file():
        raise R1Error(f"{field}: {p} was never finished (no {FINAL_MARKER}, which a stage writes last): run "
                      "the stage that writes it again to resume it")


def _r1_run(directory: Path) -> bool:
    """Whether an r1 stage wrote into `directory` (its config, log or checkpoint is there)."""
    return any(directory.glob("*_config.yaml")) or (directory / "log.jsonl").is_file() \
        or (directory / "checkpoint").is_dir() or (directory / "r1_stage.json").is_file()


def check_weights(p: Path, field: str) -> None:
    """Every safetensors file whole: its header readable and its tensors covering the file (a truncated
    or empty file fails here in one line, not deep inside from_pretrained)."""
    from safetensors import SafetensorError, safe_open

    for weights in sorted(p.glob("*.safetensors")):
        try:
            with safe_open(weights, "pt") as f:
                f.keys()
        except (SafetensorError, OSError) as err:
            raise R1Error(f"{field}: {weights} is damaged or truncated ({str(err).splitlines()[0]}); "
                          "copy or save the model again") from None


def fingerprint(path: str | Path) -> str:
    """A content fingerprint of a model directory that is fast for large models: its config, and each
    weight file's name, size and first and last MiB."""
    p = check_model_dir(path)
    digest = hashlib.sha256((p / "config.json").read_bytes())
    for weights in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin")):
        size = weights.stat().st_size
        digest.update(f"{weights.name}:{size}".encode())
        with weights.open("rb") as f:
            digest.update(f.read(1 << 20))
            f.seek(max(0, size - (1 << 20)))
            digest.update(f.read(1 << 20))
    return digest.hexdigest()[:16]


def load_tokenizer(path: str | Path, field: str = "model") -> PreTrainedTokenizerBase:
    p = check_model_dir(path, field)
    try:
        tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
    except (OSError, ValueError) as err:
        raise R1Error(f"{field}: cannot load a tokenizer from {p}: {str(err).splitlines()[0]}") from None
    if tokenizer.pad_token is None:  # many base checkpoints ship none; generation needs one
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_model(path: str | Path, field: str = "model", dtype: torch.dtype = torch.float32,
               device: str | torch.device = "cpu") -> PreTrainedModel:
    p = check_model_dir(path, field)
    try:
        model = AutoModelForCausalLM.from_pretrained(p, dtype=dtype, local_files_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise R1Error(f"{field}: cannot load a causal LM from {p}: {str(err).splitlines()[0]}") from None
    return model.to(device)
