"""Trainer checkpoints (GRPO, SFT): an HF model (or LoRA adapter) + tokenizer directory plus
trainer_state.pt (optimizer, scheduler, RNG states, step, data cursor). Written to a temporary
directory and swapped in whole, so a kill mid-save leaves the previous checkpoint intact."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from r1.runtime import recover_dir, swap_in_dir

STATE_FILE = "trainer_state.pt"


def has_checkpoint(ckpt: Path) -> bool:
    return (recover_dir(ckpt) / STATE_FILE).is_file()


def save_checkpoint(ckpt: Path, model, tokenizer, optimizer, scheduler, state: dict[str, Any]) -> None:
    tmp = ckpt.with_name(ckpt.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    rng = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save({**state, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng}, tmp / STATE_FILE)
    swap_in_dir(tmp, ckpt)


def load_checkpoint(ckpt: Path, optimizer, scheduler) -> dict[str, Any]:
    """Restore optimizer, scheduler and RNGs in place; returns the rest (step, cursor, ...)."""
    state = torch.load(ckpt / STATE_FILE, weights_only=False)
    optimizer.load_state_dict(state.pop("optimizer"))
    scheduler.load_state_dict(state.pop("scheduler"))
    rng = state.pop("rng")
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return state


def save_final(model, tokenizer, out: Path) -> None:
    """output_dir/final: the trained model as a plain HF directory (LoRA adapters merged in)."""
    from r1.models.lora import is_lora, merge_lora

    (merge_lora(model) if is_lora(model) else model).save_pretrained(out)
    tokenizer.save_pretrained(out)
