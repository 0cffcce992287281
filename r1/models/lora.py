"""LoRA through peft: low-rank adapters on the linear layers, the frozen base as a free reference model,
and a merged full model for saving.

    model = apply_lora(load_model(path), LoraSettings(enabled=True, r=16))  # only lora_* params train
    with adapter_disabled(model) as base:   # the same weights with the adapters switched off:
        ref_logits = base(input_ids).logits  # GRPO's reference model, no second copy in memory
    merged = merge_lora(model)               # a plain HF model; save_pretrained -> load_model
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from r1.errors import R1Error

ADAPTER_FILE = "adapter_model.safetensors"


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    enabled: bool = False
    """Train low-rank adapters instead of every weight (the base stays frozen)."""
    r: Annotated[int, Field(ge=1)] = 16
    """Rank of each adapter."""
    alpha: Annotated[float, Field(gt=0)] = 32.0
    """Scaling: an adapter's update is multiplied by alpha / r."""
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Dropout on the adapter's input during training."""
    target_modules: str | list[str] = "all-linear"
    """Layers that get adapters: "all-linear" (every linear layer but the output head) or module
    names, e.g. [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]."""


def apply_lora(model, settings: LoraSettings):
    """`model` wrapped as a peft model with fresh adapters (B = 0, so it starts equal to the base)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=settings.target_modules, task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft asks transformers 5 a deprecated question; nothing for the user
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning)
        try:
            return get_peft_model(model, config)
        except ValueError as err:  # e.g. a target module the model does not have
            raise R1Error(f"lora.target_modules: {str(err).splitlines()[0]}") from None


def is_lora(model) -> bool:
    from peft import PeftModel

    return isinstance(model, PeftModel)


@contextlib.contextmanager
def adapter_disabled(model) -> Iterator:
    """Within the block, `model` (a peft model, unwrapped) computes the base model's forward exactly."""
    if not is_lora(model):
        raise TypeError("adapter_disabled needs a model with LoRA adapters (see apply_lora)")
    with model.disable_adapter():
        yield model


def load_adapter(model, directory: str | Path) -> None:
    """Load adapter weights written by `model.save_pretrained` (a checkpoint) into `model` in place."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    result = set_peft_model_state_dict(model, load_file(Path(directory) / ADAPTER_FILE))
    missing = [k for k in getattr(result, "missing_keys", []) if "lora_" in k]
    if missing:
        raise ValueError(f"{directory}: adapter weights missing for {missing[:3]}")


def merge_lora(model):
    """The base model with each adapter folded into its weight (a plain HF model; `model` is consumed)."""
    return model.merge_and_unload()


def load_policy(model_dir: str | Path, lora: LoraSettings, ckpt: Path | None, device):
    """The model to train: model_dir (or the checkpoint's full weights), or with LoRA model_dir plus fresh
    or checkpointed adapters. A checkpoint written with the other lora setting is refused."""
    from r1.models.load import load_model

    if ckpt and (Path(ckpt) / ADAPTER_FILE).is_file() != lora.enabled:
        raise R1Error(f"lora.enabled: {ckpt} was written with lora.enabled={not lora.enabled}; "
                      "resume with the same setting or choose another output_dir")
    if not lora.enabled:
        return load_model(ckpt or model_dir, device=device).train()
    model = apply_lora(load_model(model_dir, device=device), lora)
    if ckpt:
        load_adapter(model, ckpt)
    return model.train()
