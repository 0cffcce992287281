"""The loop every training stage runs: open the run (or resume it), step, log, evaluate, checkpoint,
save the final model. A stage supplies its setup and a `Hooks` (its step, and optionally eval and
checkpoint state); everything else is here, once.

    run = open_run(cfg, "sft")            # accelerator, output_dir checks, the checkpoint to resume
    ...build model, optimizer (make_optimizer), data...
    return fit(cfg, TrainRun(...), Hooks(step=..., status=...))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import yaml
from accelerate import Accelerator

from r1.config import first_change, save_config
from r1.errors import R1Error
from r1.progress import console, progress_bar
from r1.train.checkpoint import (checkpoint_cost, has_checkpoint, load_checkpoint, save_checkpoint,
                                 save_final)
from r1.train.schedule import lr_scheduler
from r1.train.telemetry import Telemetry

RESUMABLE = {"max_steps", "save_every", "save_total_limit", "resume", "eval_every", "eval_problems", "eval_k",
             "eval_temperature", "eval_max_new_tokens", "eval_benchmarks", "log_every", "epochs",
             "rollout_batch_size", "compile", "max_bad_steps", "log_completions_every",
             "log_completions_prompts", "max_flops", "match_flops_of"}
"""Settings a resumed run may change (how long, how often it saves, logs and evaluates, speed-only
switches, a compute budget); any other difference from the run in output_dir is refused."""


@dataclass
class Opened:
    """What `open_run` found: the accelerator, where the stage writes, and whether it resumes."""

    accelerator: Accelerator
    out: Path
    ckpt: Path
    resuming: bool


@dataclass
class TrainRun:
    """The parts of a training run the loop needs; a stage's own run state holds one."""

    accelerator: Accelerator
    model: Any  # prepared (possibly wrapped) model
    tokenizer: Any
    optimizer: Any
    scheduler: Any
    total_steps: int
    start: int = 0
    parameters: int = 0  # N of the FLOPs count (r1.train.flops)
    flops: float = 0.0  # training FLOPs counted so far, resumed runs included
    train_s: float = 0.0  # seconds spent in training steps so far, resumed runs included


@dataclass
class Hooks:
    """A stage's part of the loop."""

    step: Callable[[int], dict[str, Any]]
    """One optimizer step (GRPO: one rollout batch); returns its metrics."""
    status: Callable[[dict[str, Any]], str]
    """The progress bar's status text for a step's metrics."""
    keys: tuple[str, ...] = ("step",)
    """Keys every log row has (None where a step has no value)."""
    evaluate: Callable[[int], dict[str, float]] | None = None
    """Held-out evaluation at a step (metrics named eval/...)."""
    eval_every: int = 0
    """Evaluate every this many steps (0: never periodically)."""
    eval_at_start: bool = False
    """Evaluate before the first step (a fresh run only), so the curves start from the input model."""
    eval_at_end: bool = False
    """Evaluate after the last step."""
    log_every: int = 1
    """Write a log row every this many steps (and at the last one)."""
    state: Callable[[], dict[str, Any]] = dict
    """The stage's own state to checkpoint beside the step (e.g. data cursors); every process calls it."""
    after_log: Callable[[int, dict[str, Any]], None] = lambda step, metrics: None
    """Called after a step is logged, e.g. to stop the run with an R1Error."""
    final_info: dict[str, Any] = field(default_factory=dict)
    """Written into final/'s marker."""
    max_flops: float | None = None
    """Stop after the step at which the counted FLOPs reach this (the run's last step; None: no budget)."""


def open_run(cfg, stage: str) -> Opened:
    """Refuse an output_dir that holds another run's checkpoint or settings that differ; start the
    accelerator. Every stage calls this first."""
    out = Path(cfg.output_dir)
    ckpt = out / "checkpoint"
    resuming = has_checkpoint(ckpt)
    if resuming and not cfg.resume:
        raise R1Error(f"output_dir: {out} already holds a {stage} run; resume=true continues it, "
                      "or choose another output_dir")
    if resuming:
        check_same_settings(cfg, out / f"{stage}_config.yaml")
    if out.exists() and not out.is_dir():
        raise R1Error(f"output_dir: {out} is a file, not a directory")
    return Opened(Accelerator(cpu=not torch.cuda.is_available()), out, ckpt, resuming)


def check_same_settings(cfg, saved_path: Path) -> None:
    """A resumed run must use the settings it started with, apart from those in RESUMABLE."""
    if not saved_path.is_file():
        return
    saved = yaml.safe_load(saved_path.read_text()) or {}
    now = cfg.model_dump(mode="json")
    key = first_change(saved, now, [k for k in now if k not in RESUMABLE and k in saved])
    if key is not None:
        raise R1Error(f"resume: {saved_path.parent} was started with {key}={saved[key]!r}, this run "
                      f"has {key}={now[key]!r}; resume with the same value, or choose another output_dir")


def check_context(model, longest: int) -> None:
    """The longest record (in tokens) must fit the model's context (max_position_embeddings)."""
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and longest > limit:
        raise R1Error(f"max_seq_len: the longest record ({longest} tokens) exceeds the model's context "
                      f"of {limit}")


def apply_update(cfg, run: TrainRun, loss: float, stage: str, step: int) -> float:
    """Clip the gradients, refuse a NaN/inf loss or gradient, step the optimizer and the lr schedule;
    returns the gradient norm before clipping."""
    trainable = [p for p in run.model.parameters() if p.requires_grad]
    grad_norm = float(run.accelerator.clip_grad_norm_(trainable, cfg.max_grad_norm))
    if not (math.isfinite(loss) and math.isfinite(grad_norm)):
        raise R1Error(f"{stage}: the loss or gradient became NaN/inf at step {step}; lower lr or use "
                      "precision=fp32")
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    return grad_norm


def make_optimizer(cfg, model, total_steps: int):
    """AdamW over the trainable parameters, and the lr schedule (r1.train.schedule) over `total_steps`."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  betas=tuple(cfg.adam_betas))
    return optimizer, lr_scheduler(optimizer, cfg, total_steps)


def resume(opened: Opened, run: TrainRun) -> dict[str, Any]:
    """Restore optimizer, scheduler and RNGs from the checkpoint; sets run.start; returns the rest."""
    if not opened.resuming:
        return {}
    accelerator = opened.accelerator
    state = load_checkpoint(opened.ckpt, run.optimizer, run.scheduler, accelerator.process_index,
                            accelerator.num_processes)
    run.start = state["step"]
    run.flops, run.train_s = state.get("flops", 0.0), state.get("train_s", 0.0)
    return state


def record_config(cfg, opened: Opened, stage: str) -> None:
    """Write the resolved config beside the stage's outputs (main process)."""
    if opened.accelerator.is_main_process:
        opened.out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, opened.out / f"{stage}_config.yaml")


def fit(cfg, run: TrainRun, hooks: Hooks, stage: str) -> Path:
    """Steps run.start+1 .. run.total_steps (or until hooks.max_flops is reached) with logging, eval
    and checkpoints; then output_dir/final. Each step's `step_flops` adds to the run's `flops`."""
    out, accelerator = Path(cfg.output_dir), run.accelerator
    main = accelerator.is_main_process
    saved = False  # the checkpoint's size is printed once per run, after its first save
    done = run.start
    telemetry = Telemetry(out, run.start, main, keys=hooks.keys)
    if hooks.evaluate and hooks.eval_at_start and run.start == 0:
        telemetry.log(0, hooks.evaluate(0))
    with progress_bar(main) as bar:
        job = bar.add_task(stage, total=run.total_steps, completed=run.start, status="")
        for step in range(run.start + 1, run.total_steps + 1):
            if budget_spent(run, hooks):  # a resumed run whose checkpoint had spent the budget
                break
            tick = time.time()
            metrics = hooks.step(step)
            run.train_s += time.time() - tick
            run.flops += metrics.get("step_flops", 0.0)
            metrics.update(flops=run.flops, train_s=run.train_s)
            last = step == run.total_steps or budget_spent(run, hooks)
            done = step
            if hooks.evaluate and (hooks.eval_every and step % hooks.eval_every == 0
                                   or last and (hooks.eval_at_end or hooks.eval_every)):
                metrics.update(hooks.evaluate(step))
            if last or step % hooks.log_every == 0 or any(k.startswith("eval/") for k in metrics):
                telemetry.log(step, metrics)
            try:
                hooks.after_log(step, metrics)
            except R1Error:
                telemetry.close()
                raise
            bar.update(job, advance=1, status=hooks.status(metrics))
            if last or cfg.save_every and step % cfg.save_every == 0:
                save_checkpoint(accelerator, out / "checkpoint", accelerator.unwrap_model(run.model),
                                run.tokenizer, run.optimizer, run.scheduler,
                                {"step": step, "flops": run.flops, "train_s": run.train_s, **hooks.state()},
                                keep=cfg.save_total_limit)
                if main and not saved:
                    console.print(checkpoint_cost(out / "checkpoint", cfg.save_total_limit))
                saved = True
            accelerator.wait_for_everyone()
            if last:
                break
    telemetry.close()
    save_final(accelerator, accelerator.unwrap_model(run.model), run.tokenizer, out / "final",
               {"stage": stage, "steps": done, "parameters": run.parameters, "flops": run.flops,
                "train_s": round(run.train_s, 3), **hooks.final_info})
    if main:
        budget = f", {hooks.max_flops:.3g} budgeted" if hooks.max_flops else ""
        console.print(f"{stage}: {done} steps, {run.flops:.3g} training FLOPs{budget}, {run.train_s:.0f} s")
        console.print(f"{stage}: saved the model to {out / 'final'}")
    return out / "final"


def budget_spent(run: TrainRun, hooks: Hooks) -> bool:
    """True once the run's counted FLOPs reach hooks.max_flops."""
    return hooks.max_flops is not None and run.flops >= hooks.max_flops
