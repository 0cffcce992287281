"""Reward-model training (`r1 train-rm`): a one-score head on a causal LM, Bradley-Terry on preference
pairs or binary cross-entropy on labelled responses, on the shared stage skeleton (r1.train).

    r1 train-rm model=DIR data=FILE output_dir=DIR [objective=pointwise] [on=whole] [-c recipe.yaml]

One optimizer step:
  1. take the next batch_size records of a seeded stream (a resumed run draws the same ones);
  2. each process takes its contiguous share, in grad_accum micro-batches; a pair's chosen and
     rejected go through one forward together (Llama-family models: the lean one, r1.reward_models.lean,
     which runs their shared beginning once);
  3. loss = mean over the step's records of the objective (r1.reward_models.loss), so grad_accum and
     the number of processes change memory and speed, never the gradient; with pool=sum, plus
     token_l2 x each micro-batch's mean squared per-token score, weighted by its records (a token mean,
     so micro-batches of other lengths give a slightly other gradient);
  4. gradient clipping, AdamW, warmup then constant or cosine lr.
At the end the held-out records are scored (eval.json) and the model is saved in HF format in
output_dir/final, its r1_final.json recording objective, `on` and the score centre the `rm:` reward uses.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from r1.errors import R1Error
from r1.models.load import load_tokenizer
from r1.models.fast import FastLM, unsupported
from r1.progress import console
from r1.reward_models.config import RewardModelConfig
from r1.reward_models.data import Example, train_and_heldout
from r1.reward_models.lean import lean_scores
from r1.reward_models.loss import heldout_metrics, objective_loss, token_l2
from r1.reward_models.model import (INFO_KEY, forward_scores, forward_token_scores, load_for_training,
                                   score_examples, score_head)
from r1.runtime import autocast, resolve_precision, set_seed
from r1.sft.data import split
from r1.train.data import RecordStream
from r1.train.flops import parameter_count, train_flops
from r1.train.loop import (Hooks, TrainRun, apply_update, check_context, fit, make_optimizer, open_run, record_config,
                           resume)

STAGE = "train-rm"
STEP_KEYS = ("step", "epoch", "loss", "accuracy", "lr", "grad_norm", "tokens", "records_per_s", "time_step")
"""Keys of every step row of output_dir/log.jsonl (accuracy: pairs ranked right, or labels predicted
right, in the step's batch); eval rows add eval/<metric> keys (the same as eval.json)."""


@dataclass
class Run(TrainRun):
    examples: list[Example] = field(default_factory=list)
    heldout: list[Example] = field(default_factory=list)
    stream: RecordStream | None = None
    dtype: torch.dtype = torch.float32
    pad_id: int = 0
    lean: FastLM | None = None  # the lean training forward, where the model takes it
    info: dict[str, Any] = field(default_factory=dict)  # recorded in final/r1_final.json


def train(cfg: RewardModelConfig) -> Path:
    """Run (or resume) reward-model training; returns output_dir/final (AutoModelForSequenceClassification)."""
    run = setup(cfg)
    hooks = Hooks(step=lambda step: rm_step(cfg, run, step), keys=STEP_KEYS,
                  status=lambda m: f"loss {m['loss']:.4f}  acc {m['accuracy']:.2f}",
                  evaluate=lambda step: evaluate(cfg, run, step), eval_every=cfg.eval_every,
                  eval_at_end=True, state=lambda: {"info": run.info}, final_info={INFO_KEY: run.info})
    return fit(cfg, run, hooks, STAGE)


def setup(cfg: RewardModelConfig) -> Run:
    """Check the config, tokenize the data, put a score head on the model; resume from a checkpoint."""
    cfg.check()
    opened = open_run(cfg, STAGE)
    accelerator = opened.accelerator
    if cfg.batch_size < accelerator.num_processes * cfg.grad_accum:
        raise R1Error(f"batch_size ({cfg.batch_size}) must be at least processes "
                      f"({accelerator.num_processes}) x grad_accum ({cfg.grad_accum})")
    set_seed(cfg.seed)  # the head's random init is the same on every process
    tokenizer = load_tokenizer(cfg.model)
    examples, heldout = train_and_heldout(cfg, tokenizer)
    model = load_for_training(opened.ckpt if opened.resuming else cfg.model, tokenizer.pad_token_id,
                              accelerator.device)
    check_context(model, max(len(e) for e in examples + heldout))
    total = cfg.max_steps or math.ceil(cfg.epochs * len(examples) / cfg.batch_size)
    optimizer, scheduler = make_optimizer(cfg, model, total)
    model, optimizer = accelerator.prepare(model, optimizer)
    lengths = [len(e) for e in examples] if cfg.group_by_length else None  # padded width of each record
    run = Run(accelerator, model, tokenizer, optimizer, scheduler, total, examples=examples, heldout=heldout,
              stream=RecordStream(len(examples), f"{cfg.seed}/rm", lengths, cfg.batch_size),
              dtype=resolve_precision(cfg.precision),
              pad_id=tokenizer.pad_token_id, parameters=parameter_count(model),
              info={"objective": cfg.objective, "on": cfg.on, "pool": cfg.pool, "center": 0.0,
                    "max_seq_len": cfg.max_seq_len})
    run.info.update(resume(opened, run).get("info", {}))
    record_config(cfg, opened, STAGE)
    why_not = unsupported(model) if cfg.lean else "lean: false"
    run.lean = FastLM(model) if why_not is None else None
    if accelerator.is_main_process:
        kind = "pairs" if cfg.objective == "pairwise" else "labelled responses"
        console.print(f"{STAGE}: {cfg.objective} on {cfg.on}, {len(examples)} {kind} "
                      f"({len(heldout)} held out), {total} steps of {cfg.batch_size}, "
                      f"{accelerator.num_processes} process(es)"
                      + (f", resuming after step {run.start}" if run.start else ""))
        console.print(f"{STAGE}: forward: " + ("lean (shared prefixes run once, chunks of similar length)"
                                               if run.lean else f"the model's own ({why_not})"))
    return run


def batch_scores(cfg: RewardModelConfig, run: Run, part: list[Example]
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | float]:
    """Scores [b, k] (k=2: chosen, rejected; k=1: the response), targets [b], and the token_l2 penalty
    (0 without it), from the lean forward or the model's own."""
    width = len(part[0].ids)
    device = run.accelerator.device
    if run.lean is not None:
        scored = lean_scores(run.lean, score_head(run.model), [e.ids for e in part], run.pad_id, device,
                             run.info["pool"], squares=bool(cfg.token_l2))
        scores = scored.scores
        penalty = cfg.token_l2 * scored.square_sum / scored.tokens if cfg.token_l2 else 0.0
    else:
        flat = [ids for e in part for ids in e.ids]
        if cfg.token_l2:  # cfg.check() made pool sum
            per_token, mask = forward_token_scores(run.model, flat, run.pad_id, device)  # [b*k, T]
            scores, penalty = per_token.sum(-1), cfg.token_l2 * token_l2(per_token, mask)
        else:
            scores, penalty = forward_scores(run.model, flat, run.pad_id, device, run.info["pool"]), 0.0
    scores = scores.view(len(part), width)
    return scores, torch.tensor([e.target for e in part], device=scores.device), penalty


def right_count(objective: str, scores: torch.Tensor, targets: torch.Tensor) -> float:
    """Pairs ranked right (chosen above rejected), or labels predicted right (logit > 0 is good)."""
    if objective == "pairwise":
        return float((scores[:, 0] > scores[:, 1]).sum())
    return float(((scores[:, 0] > 0).float() == targets).sum())


def rm_step(cfg: RewardModelConfig, run: Run, step: int) -> dict[str, Any]:
    """One optimizer step over batch_size records; returns its metrics (summed over processes)."""
    tick, lr = time.time(), run.scheduler.get_last_lr()[0]
    accelerator, model = run.accelerator, run.model
    examples = [run.examples[i] for i in run.stream.window((step - 1) * cfg.batch_size, cfg.batch_size)]
    mine = split(examples, accelerator.num_processes, accelerator.process_index)
    parts = [split(mine, cfg.grad_accum, j) for j in range(cfg.grad_accum)]
    loss = right = tokens = 0.0
    for j, part in enumerate(parts):
        sync = j == len(parts) - 1  # reduce gradients across processes once, after the last micro-batch
        with contextlib.nullcontext() if sync else accelerator.no_sync(model):
            with autocast(run.dtype):
                scores, targets, penalty = batch_scores(cfg, run, part)  # penalty: not in the logged loss
            part_loss = objective_loss(cfg.objective, scores, targets)  # mean over the part
            # weight of the part in the step's mean; data parallelism averages over processes
            accelerator.backward((part_loss + penalty) * len(part) * accelerator.num_processes / len(examples))
        loss += float(part_loss.detach()) * len(part) / len(examples)
        right += right_count(cfg.objective, scores.detach(), targets)
        tokens += sum(len(ids) for e in part for ids in e.ids)
    grad_norm = apply_update(cfg, run, loss, STAGE, step)
    stats = torch.tensor([loss, right, tokens], device=accelerator.device)
    if accelerator.num_processes > 1:
        stats = accelerator.reduce(stats, "sum")
    loss, right, tokens = stats.tolist()
    seconds = time.time() - tick
    return {"epoch": step * cfg.batch_size / len(run.examples), "loss": loss,
            "accuracy": right / len(examples), "lr": lr, "grad_norm": grad_norm, "tokens": int(tokens),
            "records_per_s": len(examples) / seconds, "time_step": seconds,
            "step_flops": train_flops(run.parameters, tokens)}


def evaluate(cfg: RewardModelConfig, run: Run, step: int) -> dict[str, float]:
    """Score the held-out records (eval.json, eval/... metrics); pairwise also records the mean score
    of held-out responses as the centre the `rm:` reward subtracts."""
    plain = run.accelerator.unwrap_model(run.model)
    was_training = plain.training
    plain.eval()
    scored = run.heldout or run.examples[:256]  # without held-out data the centre comes from training
    with autocast(run.dtype):
        scores = score_examples(plain, scored, run.pad_id, run.accelerator.device, cfg.eval_batch_size,
                                cfg.pool)  # [n, k]
    plain.train(was_training)
    if cfg.objective == "pairwise":
        run.info["center"] = round(float(scores.mean()), 6)
    if not run.heldout:
        return {}
    metrics = heldout_metrics(cfg.objective, scores, torch.tensor([e.target for e in scored]),
                              [e.harm_in for e in scored])
    if run.accelerator.is_main_process:
        Path(cfg.output_dir, "eval.json").write_text(json.dumps(
            {"step": step, "objective": cfg.objective, "on": cfg.on, **metrics}, indent=2))
    return {f"eval/{k}": v for k, v in metrics.items()}
