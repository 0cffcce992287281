"""The one checkpoint format of every training stage: an HF model (or LoRA adapter) + tokenizer
directory plus trainer_state.pt (optimizer, scheduler, RNG states, step, the stage's own state such as
data cursors). Written to a temporary directory and swapped in whole, so a kill mid-save leaves the
previous checkpoint intact. A resume reads only the latest, output_dir/checkpoint; by default it is the
only one kept (TRL's save_total_limit=1), since each copy costs the same disk again (a full fine-tune's
checkpoint holds the weights and two AdamW moments, about 3x the fp32 model); `keep` > 1 copies the one
being replaced to checkpoint-<step> first. The loop prints the size once per run (checkpoint_cost).
The final model (output_dir/final) is written the same way and carries a
marker file (FINAL_MARKER), so a directory without it was never finished.

Every process calls save_checkpoint / save_final / load_checkpoint. With parameters sharded over
processes (FSDP2, ZeRO-3) the weights are gathered into one plain HF checkpoint. With optimizer
state sharded (FSDP2, any DeepSpeed ZeRO stage) each process writes and reads its own slice
(optimizer.rank<N>.pt), so a resume needs the same number of processes. Otherwise the main process
writes everything."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate.utils import DistributedType

from r1.errors import R1Error
from r1.models.weights import full_state_dict, sharding
from r1.runtime import recover_dir, swap_in_dir

STATE_FILE = "trainer_state.pt"
STEP_FILE = "step"  # the checkpoint's step as text, to name a kept copy without loading the state
FINAL_MARKER = "r1_final.json"


def _shard_file(rank: int) -> str:
    return f"optimizer.rank{rank}.pt"


def has_checkpoint(ckpt: Path) -> bool:
    return (recover_dir(ckpt) / STATE_FILE).is_file()


def save_checkpoint(accelerator, ckpt: Path, model, tokenizer, optimizer, scheduler,
                    state: dict[str, Any], keep: int = 1) -> None:
    """Write output_dir/checkpoint (and keep up to `keep` - 1 earlier ones as checkpoint-<step>); `model`
    is the unwrapped model. Every process calls this."""
    main, rank, world = accelerator.is_main_process, accelerator.process_index, accelerator.num_processes
    tmp = ckpt.with_name(ckpt.name + ".tmp")
    sharded = sharding(model) is not None
    weights = full_state_dict(model) if sharded else None  # collective under sharding
    if main:
        if tmp.exists():
            shutil.rmtree(tmp)
        model.save_pretrained(tmp, **({"state_dict": weights} if sharded else {}))
        tokenizer.save_pretrained(tmp)
    accelerator.wait_for_everyone()
    # DeepSpeed shards the AdamW moments from ZeRO-1 on, FSDP2 with the parameters
    split = sharded or accelerator.distributed_type == DistributedType.DEEPSPEED
    if split:  # each process's slice of the AdamW moments
        torch.save(optimizer.state_dict(), tmp / _shard_file(rank))
        accelerator.wait_for_everyone()
    if main:
        rng = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        torch.save({**state, "optimizer": None if split else optimizer.state_dict(),
                    "optimizer_shards": world if split else 0, "scheduler": scheduler.state_dict(),
                    "rng": rng}, tmp / STATE_FILE)
        (tmp / STEP_FILE).write_text(str(state["step"]))
        if keep > 1:
            keep_earlier(ckpt, keep - 1)
        swap_in_dir(tmp, ckpt)
    accelerator.wait_for_everyone()


def keep_earlier(ckpt: Path, earlier: int) -> None:
    """Copy the checkpoint about to be replaced to checkpoint-<its step> and delete all but the newest
    `earlier` of those. A copy, not a rename: a kill meanwhile still leaves `ckpt` whole for a resume."""
    step_file = ckpt / STEP_FILE
    if step_file.is_file():
        copy = ckpt.with_name(f"{ckpt.name}-{step_file.read_text().strip()}")
        if not copy.exists():
            shutil.copytree(ckpt, copy.with_name(copy.name + ".tmp"), dirs_exist_ok=True)
            copy.with_name(copy.name + ".tmp").rename(copy)
    kept = sorted((p for p in ckpt.parent.glob(f"{ckpt.name}-*") if p.name.split("-")[-1].isdigit()),
                  key=lambda p: int(p.name.split("-")[-1]))
    for old in kept[:-earlier]:
        shutil.rmtree(old)


def checkpoint_cost(ckpt: Path, keep: int = 1) -> str:
    """One line saying how much disk a checkpoint takes, e.g. "checkpoint: 21.4 MB each (...)"."""
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    kept = "one is kept, replaced at every save" if keep == 1 else f"up to {keep} are kept (save_total_limit)"
    return f"checkpoint: {size / 1e6:.1f} MB each ({kept})"


def load_checkpoint(ckpt: Path, optimizer, scheduler, rank: int = 0, world: int = 1) -> dict[str, Any]:
    """Restore optimizer, scheduler and RNGs in place; returns the rest (step, cursor, ...)."""
    state = _read_state(ckpt / STATE_FILE)
    shards = state.pop("optimizer_shards", 0)
    optimizer_state = state.pop("optimizer")
    if shards:
        if shards != world:
            raise R1Error(f"resume: {ckpt} holds optimizer state sharded over {shards} processes, this run "
                          f"has {world}; resume with the same number of processes")
        optimizer_state = _read_state(ckpt / _shard_file(rank))
    optimizer.load_state_dict(optimizer_state)
    scheduler.load_state_dict(state.pop("scheduler"))
    rng = state.pop("rng")
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return state


def _read_state(path: Path) -> dict[str, Any]:
    """A file torch.save wrote; a damaged one (a disk that filled up, a copy cut short) is one line.
    Checkpoints are swapped in whole, so r1's own kills never leave one."""
    try:
        return torch.load(path, weights_only=False)
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise R1Error(f"resume: {path} is damaged ({str(err).splitlines()[0]}); delete {path.parent} to start "
                      "the run over, or choose another output_dir") from None


def save_final(accelerator, model, tokenizer, out: Path, info: dict[str, Any] | None = None) -> None:
    """output_dir/final: the trained model as a plain HF directory (gathered if sharded, LoRA adapters
    merged in), written beside it and swapped in whole with its marker last. Every process calls this;
    the main process writes."""
    from r1.models.lora import is_lora, merge_lora

    weights = full_state_dict(model) if sharding(model) else None  # collective under sharding
    if accelerator.is_main_process:
        write_final(merge_lora(model) if weights is None and is_lora(model) else model, tokenizer, out, info,
                    weights)
    accelerator.wait_for_everyone()


def write_final(model, tokenizer, out: Path, info: dict[str, Any] | None = None,
                weights: dict[str, torch.Tensor] | None = None) -> None:
    """`out` as a plain HF model directory, written beside it and swapped in whole with its marker last
    (one process; `weights`: a gathered state dict to save instead of the model's own)."""
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, **({"state_dict": weights} if weights is not None else {}))
    tokenizer.save_pretrained(tmp)
    (tmp / FINAL_MARKER).write_text(json.dumps(info or {}, indent=2, default=str))
    swap_in_dir(tmp, out)


def final_info(path: str | Path) -> dict[str, Any]:
    """What a stage recorded in a finished model directory's marker (steps, parameters, flops, train_s,
    ...); {} when there is none (a model no r1 stage wrote, or one not finished)."""
    marker = recover_dir(Path(path)) / FINAL_MARKER
    return json.loads(marker.read_text()) if marker.is_file() else {}


def is_final(path: str | Path) -> bool:
    """True for a model directory a stage finished writing (its marker is there)."""
    return (recover_dir(Path(path)) / FINAL_MARKER).is_file()
