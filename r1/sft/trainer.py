"""Supervised fine-tuning: next-token loss on the responses of prompt/response (or chat) records.

    r1 sft -c recipes/tiny/sft.yaml [model=DIR] [output_dir=DIR] [max_steps=N] [lora.enabled=true]

Used by cold start, rejection-sampling SFT and distillation. One optimizer step:
  1. take the next batch_size records of a seeded stream (each epoch a fresh shuffle; a resumed run
     and every process draw the same ones);
  2. each process takes its contiguous share of them, in grad_accum micro-batches;
  3. loss = summed token NLL of the responses / response tokens of the whole step (all processes),
     so grad_accum and the number of processes change memory and speed, never the gradient;
  4. gradient clipping, AdamW, warmup then constant or cosine lr.
With LoRA only the adapters train; checkpoints hold the adapters, output_dir/final the merged model.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from r1.errors import R1Error
from r1.eval.data import load_benchmark
from r1.models.load import load_tokenizer
from r1.models.lora import load_policy
from r1.models.weights import check_sharding
from r1.progress import console
from r1.runtime import autocast, resolve_precision, set_seed
from r1.sft.config import SFTConfig
from r1.sft.data import Batch, Example, collate, load_examples, split
from r1.train.data import RecordStream
from r1.train.eval import evaluate_benchmarks
from r1.train.flops import parameter_count, train_flops
from r1.train.loop import (Hooks, TrainRun, apply_update, check_context, fit, make_optimizer, open_run, record_config,
                           resume)

STEP_KEYS = ("step", "epoch", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "time_step", "step_flops",
             "flops", "train_s")
"""Keys of every step row of output_dir/log.jsonl (loss: token mean over the step's responses; tokens:
prompt + response tokens of the step, all processes; step_flops: 6 N tokens, flops: their sum so far,
r1.train.flops); the last row adds eval/<benchmark>/... keys."""


@dataclass
class Run(TrainRun):
    examples: list[Example] = field(default_factory=list)
    stream: RecordStream | None = None  # the order records are drawn in, the same on every process
    dtype: torch.dtype = torch.float32
    sharded: bool = False  # FSDP2 / ZeRO-3: every forward is collective (the end-of-run eval too)


def train(cfg: SFTConfig) -> Path:
    """Run (or resume) SFT; returns output_dir/final, the fine-tuned model in HF format (merged with LoRA)."""
    run = setup(cfg)
    hooks = Hooks(step=lambda step: sft_step(cfg, run, step), keys=STEP_KEYS,
                  status=lambda m: f"loss {m['loss']:.4f}  {m['tokens_per_s']:,.0f} tok/s",
                  evaluate=(lambda step: evaluate(cfg, run)) if cfg.eval_benchmarks else None,
                  eval_at_end=True)
    return fit(cfg, run, hooks, "sft")


def setup(cfg: SFTConfig) -> Run:
    """Check the config, tokenize the data, load the model (with LoRA adapters); resume from a checkpoint."""
    cfg.check()
    opened = open_run(cfg, "sft")
    accelerator = opened.accelerator
    if cfg.batch_size < accelerator.num_processes * cfg.grad_accum:
        raise R1Error(f"batch_size ({cfg.batch_size}) must be at least processes "
                      f"({accelerator.num_processes}) x grad_accum ({cfg.grad_accum})")
    for benchmark in cfg.eval_benchmarks:  # a typo here should not surface only after training
        load_benchmark(benchmark, n=1)
    set_seed(cfg.seed)  # the same on every process: LoRA init and dropout agree
    tokenizer = load_tokenizer(cfg.model)
    examples = load_examples(cfg, tokenizer)
    model = load_policy(cfg.model, cfg.lora, opened.ckpt if opened.resuming else None, accelerator.device)
    check_context(model, max(len(e) for e in examples))
    total = cfg.max_steps or math.ceil(cfg.epochs * len(examples) / cfg.batch_size)
    optimizer, scheduler = make_optimizer(cfg, model, total)
    model, optimizer = accelerator.prepare(model, optimizer)
    run = Run(accelerator, model, tokenizer, optimizer, scheduler, total, examples=examples,
              stream=RecordStream(len(examples), f"{cfg.seed}/sft"), dtype=resolve_precision(cfg.precision),
              sharded=check_sharding(accelerator.unwrap_model(model)), parameters=parameter_count(model))
    resume(opened, run)
    record_config(cfg, opened, "sft")
    if accelerator.is_main_process:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        response = sum(e.trained for e in examples) / len(examples)
        lora = " (LoRA)" if cfg.lora.enabled else ""
        console.print(f"sft: {trainable / 1e6:.3f}M trainable parameters{lora}, {len(examples)} records "
                      f"(mean response {response:.0f} tokens), {total} steps of {cfg.batch_size}, "
                      f"{accelerator.num_processes} process(es), {str(run.dtype)[6:]}"
                      + (f", resuming after step {run.start}" if run.start else ""))
    return run


def step_micro_batches(cfg: SFTConfig, run: Run, step: int) -> tuple[list[Batch], int]:
    """This process's micro-batches of the step, and the response tokens of the whole step (all processes)."""
    index = run.stream.window((step - 1) * cfg.batch_size, cfg.batch_size)
    examples = [run.examples[i] for i in index]
    if cfg.sort_by_length:
        examples.sort(key=len)
    total = sum(e.trained for e in examples)
    accelerator = run.accelerator
    mine = split(examples, accelerator.num_processes, accelerator.process_index)
    pad = run.tokenizer.pad_token_id
    return [collate(split(mine, cfg.grad_accum, j), pad) for j in range(cfg.grad_accum)], total


def response_nll(model, batch: Batch) -> torch.Tensor:
    """Summed negative log-likelihood of the labelled (response) tokens, a scalar."""
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                   use_cache=False).logits  # [b, T, V]
    logits = logits[:, :-1].float()  # [b, T-1, V]: position t predicts token t+1
    targets = batch.labels[:, 1:]  # [b, T-1]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")


def accumulate_gradients(cfg: SFTConfig, run: Run, parts: list[Batch], total_tokens: int) -> float:
    """Backward of every micro-batch, scaled so the gradient is that of the step's token-mean loss.

    Data parallelism averages gradients over processes, hence the factor num_processes.
    Returns this process's share of the step's loss.
    """
    accelerator, model = run.accelerator, run.model
    scale = accelerator.num_processes / total_tokens
    loss = 0.0
    for j, part in enumerate(parts):
        sync = j == len(parts) - 1  # reduce gradients across processes once, after the last micro-batch
        with contextlib.nullcontext() if sync else accelerator.no_sync(model):
            with autocast(run.dtype):
                nll = response_nll(model, part.to(accelerator.device))
            accelerator.backward(nll * scale)
        loss += nll.item() / total_tokens
    return loss


def sft_step(cfg: SFTConfig, run: Run, step: int) -> dict[str, Any]:
    """One optimizer step; returns its metrics (loss summed over processes: the step's token-mean loss)."""
    tick, lr = time.time(), run.scheduler.get_last_lr()[0]
    accelerator = run.accelerator
    parts, total_tokens = step_micro_batches(cfg, run, step)
    loss = accumulate_gradients(cfg, run, parts, total_tokens)
    grad_norm = apply_update(cfg, run, loss, "sft", step)
    stats = torch.tensor([loss, float(sum(p.tokens for p in parts))], device=accelerator.device)
    if accelerator.num_processes > 1:
        stats = accelerator.reduce(stats, "sum")
    loss, tokens = stats.tolist()
    seconds = time.time() - tick
    epoch = step * cfg.batch_size / len(run.examples)
    return {"epoch": epoch, "loss": loss, "lr": lr, "grad_norm": grad_norm, "tokens": int(tokens),
            "tokens_per_s": tokens / seconds, "time_step": seconds,
            "step_flops": train_flops(run.parameters, tokens)}


def evaluate(cfg: SFTConfig, run: Run) -> dict[str, float]:
    """Held-out pass@1 of the trained model on each benchmark, under output_dir/eval/."""
    return evaluate_benchmarks(
        run.accelerator, run.model, run.tokenizer, run.sharded, Path(cfg.output_dir) / "eval",
        cfg.eval_benchmarks, f"{cfg.output_dir} (sft)", n=cfg.eval_problems, k=cfg.eval_k,
        temperature=cfg.eval_temperature, top_p=1.0, max_new_tokens=cfg.eval_max_new_tokens,
        template=cfg.template, suffix=cfg.suffix, stop=cfg.stop, seed=cfg.seed)
