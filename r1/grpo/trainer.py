"""GRPO, R1-Zero style: sample G completions per prompt, score them with rule rewards, and move the
policy toward the completions that beat their siblings.

    r1 grpo -c recipes/tiny/zero.yaml [output_dir=DIR] [max_steps=N] [beta=0.04]
    r1 plot runs/tiny-zero

One step:
  1. draw prompts_per_step prompts from a seeded stream (a resumed run draws the same ones);
  2. sample G completions each with the current policy (HFEngine, seeded by step), at most the step's
     window of new tokens (max_new_tokens, or context_schedule's: r1.grpo.window);
  3. score them with RewardCombiner (reasoning prompts: 0.7 accuracy + 0.3 format);
  4. advantages: each reward against its group's mean (and std);
  5. reference log-probs, only when beta > 0 (beta = 0 loads no reference model at all);
  6. mu optimizer steps on that batch: policy log-probs at the sampling temperature, the clipped
     loss, backward over grad_accum micro-batches, gradient clipping, AdamW, lr schedule.
  7. at step 1 and every log_completions_every steps, a few groups with their rewards and advantages
     go to output_dir/completions.jsonl (r1.grpo.completions).

How this differs from textbook GRPO (DeepSeekMath eq. 3):
- beta = 0 by default (as many R1-Zero reproductions): no KL term, no reference forward.
- Old log-probs cost no extra forward: before the first update the policy *is* the sampling policy,
  so the first inner iteration records old_logp = logp.detach() (with mu = 1: ratio 1, nothing is
  clipped, the plain policy gradient) and later iterations reuse it.
- A completion is trained on exactly the tokens sampled, its eos included (rollouts keep it aside), so the
  model learns to stop; a stop string ends a completion without an eos (none was sampled).
- Options from later papers, with TRL's names (docs/trl-port.md): DAPO's dynamic sampling
  (filter_equal_groups), clip-higher (eps_high), loss_type=dapo, overlong masking (mask_truncated);
  Dr. GRPO's scale_rewards=none and loss_type=dr_grpo; CISPO, GSPO (importance_sampling_level),
  two-sided clipping (delta), top_entropy_quantile. Micro-batches are weighted so grad_accum changes
  memory, never the gradient.
- Several processes (accelerate launch): each rank draws prompts_per_step prompts a step from its own
  disjoint shard of the data (records[rank::world]), so a group's G completions stay on one rank.
  The loss normaliser is the count over all ranks, so DDP's gradient average equals the gradient of
  one process holding the whole batch. Skip decisions (no groups, NaN loss) are taken jointly.
- A step whose advantages are all zero on every rank (every group's rewards equal, without
  filter_equal_groups) skips the forward, backward and optimizer step when beta = 0: its gradient is
  exactly zero, and AdamW would only move the weights by momentum and weight decay. With beta > 0 the
  KL term still has a gradient, so the step runs. Such steps are counted (zero_advantage_steps).
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from r1.errors import R1Error
from r1.grpo.advantages import group_advantages
from r1.grpo.batch import Batch, build_batch, micro_batches
from r1.grpo.completions import CompletionLog
from r1.grpo.config import GRPOConfig
from r1.grpo.forward import completion_logprobs, entropy_masks
from r1.grpo.loss import grpo_loss
from r1.grpo.sampling import Group, sample_groups
from r1.grpo.general import evaluate_general, load_general_records
from r1.grpo.stream import PromptStream, build_stream
from r1.grpo.window import Window, next_window, window_at
from r1.models.fast import decide_compile, unsupported
from r1.models.load import load_model, load_tokenizer
from r1.models.lora import adapter_disabled, load_policy
from r1.models.weights import check_sharding
from r1.progress import console
from r1.rewards.combine import RewardCombiner
from r1.rollout import HFEngine
from r1.runtime import autocast, resolve_precision, set_seed
from r1.train.data import keep_scorable, load_prompt_records
from r1.train.distributed import (across_processes, all_ranks, cat_over_processes, gather_ints,
                                  max_over_processes, sum_ranks)
from r1.train.eval import evaluate_benchmarks
from r1.train.flops import forward_flops, parameter_count, train_flops
from r1.train.loop import Hooks, TrainRun, fit, make_optimizer, open_run, record_config, resume

STEP_KEYS = (
    "step", "reward", "accuracy", "completion_len_mean", "completion_len_max", "truncated_frac",
    "equal_groups_frac", "groups", "loss", "kl", "entropy", "clip_frac", "clip_frac_low",
    "clip_frac_high", "ratio_mean", "grad_norm", "lr", "tokens_per_s", "time_generate", "time_reward",
    "time_reference", "time_update", "time_step", "skipped", "zero_advantage_steps", "max_new_tokens",
    "step_flops", "flops", "train_s",
)
"""Keys of every step row; `reward/<component>` keys are added for each reward component. step_flops: the
step's training FLOPs over all processes (generation, reference and update, r1.train.flops); flops:
their sum so far."""


@dataclass
class Run(TrainRun):
    """Everything a step needs, built once by `setup`; `model` is the policy."""

    stream: PromptStream | None = None
    combiner: RewardCombiner | None = None
    reference: Any = None  # None when beta == 0, or with LoRA (see reference_model)
    engine: Any = None  # HFEngine on the in-memory policy, or a VLLMEngine synced after every update
    dtype: torch.dtype = torch.float32
    sharded: bool = False  # FSDP2 / ZeRO-3: every forward is collective, so ranks generate in step
    bad_steps: int = 0
    zero_advantage_steps: int = 0  # steps skipped because every advantage was zero (beta = 0)
    window: Window = Window(0)  # this step's context window (max_new_tokens), r1.grpo.window
    completions: CompletionLog | None = None
    general_eval: list[dict[str, Any]] = field(default_factory=list)  # held-out general prompts (stage 4)
    max_flops: float | None = None  # the compute budget (max_flops, or match_flops_of's count)


def train(cfg: GRPOConfig) -> Path:
    """Run (or resume) GRPO; returns output_dir/final, the trained policy in HF format."""
    run = setup(cfg)

    def checkpoint_state() -> dict[str, Any]:
        cursors = gather_ints(run.accelerator, run.stream.cursor)  # every rank's place in its shard
        general = run.stream.general
        return {"cursor": cursors[0], "cursors": cursors, "bad_steps": run.bad_steps,
                "zero_advantage_steps": run.zero_advantage_steps,
                "window": run.window.tokens, "window_streak": run.window.streak,
                **({"general_cursors": gather_ints(run.accelerator, general.cursor)} if general else {})}

    hooks = Hooks(step=lambda step: grpo_step(cfg, run, step), keys=STEP_KEYS, status=_status,
                  evaluate=lambda step: evaluate(cfg, run, step), eval_every=cfg.eval_every,
                  eval_at_start=bool(cfg.eval_every), state=checkpoint_state,
                  after_log=lambda step, metrics: _stop_if_diverging(cfg, run, step, metrics),
                  max_flops=run.max_flops)
    return fit(cfg, run, hooks, "grpo")


def _status(metrics: dict[str, Any]) -> str:
    return (f"reward {metrics['reward']:.3f}  acc {metrics['accuracy']:.3f}"
            f"  len {metrics['completion_len_mean']:.1f}")


def _stop_if_diverging(cfg: GRPOConfig, run: Run, step: int, metrics: dict[str, Any]) -> None:
    run.bad_steps = run.bad_steps + 1 if metrics.get("nonfinite") else 0
    if run.bad_steps >= cfg.max_bad_steps:
        raise R1Error(f"grpo: {run.bad_steps} steps in a row had a NaN/inf loss or gradient "
                      f"(last at step {step}); lower lr or use precision=fp32")


def setup(cfg: GRPOConfig) -> Run:
    """Check the config, load data, policy (and reference when beta > 0); resume from a checkpoint."""
    cfg.check()
    max_flops = cfg.flops_budget()  # a missing or unfinished match_flops_of fails before any work
    opened = open_run(cfg, "grpo")
    accelerator, ckpt, resuming = opened.accelerator, opened.ckpt, opened.resuming
    rank, world = accelerator.process_index, accelerator.num_processes
    set_seed(cfg.seed + rank)
    tokenizer = load_tokenizer(ckpt if resuming and not cfg.lora.enabled else cfg.model)  # LoRA: adapters only
    records = load_prompt_records(cfg)
    if cfg.reward.reasoning.get("accuracy") and cfg.reward.rewards.get("accuracy") == "accuracy":
        records = keep_scorable(records, cfg.data or "families")
    if len(records) < world:
        raise R1Error(f"data: {len(records)} prompts cannot be shared by {world} processes")
    general = load_general_records(cfg.general_data, cfg.data_split) if cfg.general_data else []
    run_general = load_general_records(cfg.general_eval_data, "test") if cfg.general_eval_data else []
    for name, pool in (("general_data", general), ("general_eval_data", run_general)):
        if pool and len(pool) < world:
            raise R1Error(f"{name}: {len(pool)} prompts cannot be shared by {world} processes")
    stream = build_stream(cfg, tokenizer, records[rank::world], seed=f"{cfg.seed}/{rank}",
                          general=general[rank::world])
    combiner = RewardCombiner(cfg.reward)
    combiner.check(sorted({r.get("prompt_type") or "reasoning" for r in records + general + run_general}))
    policy = load_policy(cfg.model, cfg.lora, ckpt if resuming else None, accelerator.device)
    cfg.compile = decide_compile(cfg.compile, cfg.max_steps, policy, budget=max_flops is not None,
                                 say=accelerator.is_main_process)
    _check_context(cfg, policy, stream.prompt_ids)
    reference = None  # beta = 0: no reference model in memory at all; LoRA: the policy, adapters off
    if cfg.beta > 0 and not cfg.lora.enabled:
        reference = load_model(cfg.model, device=accelerator.device).eval().requires_grad_(False)
    optimizer, scheduler = make_optimizer(cfg, policy, cfg.max_steps * cfg.mu)
    policy, optimizer = accelerator.prepare(policy, optimizer)
    dtype = resolve_precision(cfg.precision)
    run = Run(accelerator, policy, tokenizer, optimizer, scheduler, cfg.max_steps, stream=stream,
              combiner=combiner, reference=reference, dtype=dtype, general_eval=run_general,
              sharded=check_sharding(accelerator.unwrap_model(policy)), parameters=parameter_count(policy),
              max_flops=max_flops)
    run.engine = rollout_engine(cfg, run, resuming)
    state = resume(opened, run)
    if resuming:
        cursors = state.get("cursors", [state["cursor"]])
        if len(cursors) != world:
            raise R1Error(f"resume: {ckpt} was written by {len(cursors)} processes, this run has {world}; "
                          "resume with the same number of processes")
        stream.cursor, run.bad_steps = cursors[rank], state["bad_steps"]
        run.zero_advantage_steps = state.get("zero_advantage_steps", 0)
        if stream.general:
            stream.general.cursor = state.get("general_cursors", [0] * world)[rank]
    run.window = window_at(cfg.context_schedule, cfg.max_new_tokens, run.start + 1)
    if "window" in state:  # the window the run had reached (adaptive: learnt from truncation)
        run.window = Window(state["window"], state["window_streak"])
    record_config(cfg, opened, "grpo")
    run.completions = CompletionLog(cfg, run.start, accelerator.is_main_process)
    dropped = int(sum_ranks(accelerator, stream.dropped))  # every rank's shard
    n_params = sum(p.numel() for p in policy.parameters() if p.requires_grad)
    console.print(f"grpo: {n_params / 1e6:.2f}M trainable parameters{' (LoRA)' if cfg.lora.enabled else ''}, "
                  f"{len(records)} prompts, {cfg.prompts_per_step}"
                  f"x{cfg.group_size} completions/step, beta {cfg.beta}, {str(run.dtype)[6:]}"
                  + (f", stops at {max_flops:.3g} FLOPs" if max_flops else "")
                  + (f", resuming after step {run.start}" if run.start else ""))
    if dropped:
        console.print(f"grpo: dropped {dropped} prompts longer than max_prompt_tokens={cfg.max_prompt_tokens}")
    return run


def rollout_engine(cfg: GRPOConfig, run: Run, resuming: bool):
    """The engine that samples rollouts: the in-memory policy (hf), or a colocated vLLM loaded from the
    base model and, on resume, synced to the checkpoint's weights."""
    policy = run.accelerator.unwrap_model(run.model)
    if cfg.engine == "hf":
        uncompiled = unsupported(run.model) if cfg.compile else None  # e.g. wrapped by DDP, or LoRA
        if uncompiled and run.accelerator.is_main_process:
            console.print(f"[yellow]compile: the policy forward runs uncompiled, the lean path does not "
                          f"take this model ({uncompiled})[/]")
        return HFEngine(policy, run.tokenizer, cfg.rollout_batch_size, compile=cfg.compile)
    engine = vllm_engine(cfg, Path(cfg.model), run.dtype, getattr(policy.config, "max_position_embeddings", None))
    if resuming:  # the checkpoint's weights (or the base plus its LoRA adapters), as after an update
        engine.load_policy(policy)
    return engine


def grpo_step(cfg: GRPOConfig, run: Run, step: int) -> dict[str, Any]:
    """Sample, score, compute advantages (and reference log-probs), update; returns the step's metrics."""
    tick, lr = time.time(), run.scheduler.get_last_lr()[0]
    times = {"time_generate": 0.0, "time_reward": 0.0, "time_reference": 0.0, "time_update": 0.0}
    groups, metrics = sample_groups(cfg, run, step, times)
    metrics.update(learn(cfg, run, groups, times), zero_advantage_steps=run.zero_advantage_steps)
    run.completions.write(step, run.stream, groups)
    times["time_step"] = time.time() - tick
    metrics.update(times, lr=lr, tokens_per_s=metrics.pop("tokens") / times["time_step"])
    flops = forward_flops(run.parameters, metrics.pop("sequence_tokens")) + metrics.pop("update_flops", 0.0)
    metrics = across_processes(run.accelerator, metrics)  # the same truncated_frac on every rank
    metrics["step_flops"] = sum_ranks(run.accelerator, flops)
    metrics["max_new_tokens"] = run.window.tokens
    run.window = next_window(cfg.context_schedule, cfg.max_new_tokens, run.window, step,
                             metrics["truncated_frac"])
    return metrics


def learn(cfg: GRPOConfig, run: Run, groups: list[Group], times: dict[str, float]) -> dict[str, Any]:
    """Advantages (set on each group), reference log-probs and the policy update for this rank's groups.

    A rank without groups (every group had equal rewards: nothing to learn from) makes every rank
    skip the step, so the ranks' gradient all-reduces stay paired; so do all-zero advantages on every
    rank when beta = 0 (a zero gradient: no forward, no backward, no optimizer step).
    """
    if not all_ranks(run.accelerator, bool(groups)):
        return {"skipped": True}
    prompt_ids = [run.stream.prompt_ids[g.index] for g in groups for _ in range(cfg.group_size)]
    rollouts = [ro for g in groups for ro in g.rollouts]
    rewards = torch.cat([g.rewards for g in groups])  # [K * G]
    spread = None  # scale_rewards=batch: the std of every process's rewards
    if cfg.scale_rewards == "batch":
        spread = cat_over_processes(rewards, run.accelerator.device).std().item()
    advantages = group_advantages(rewards, cfg.group_size, scale_rewards=cfg.scale_rewards,
                                  batch_std=spread)  # [K * G]
    for group, values in zip(groups, advantages.split(cfg.group_size)):
        group.advantages = values  # [G], for the completions log
    if all_ranks(run.accelerator, not bool(advantages.any())) and cfg.beta == 0:
        run.zero_advantage_steps += 1
        return {"skipped": True}
    batch = build_batch(prompt_ids, rollouts, advantages, run.tokenizer.pad_token_id)
    # every rank runs as many micro-batches as the rank that runs the most (each one is collective)
    n_parts = max_over_processes(min(cfg.grad_accum, len(batch)), run.accelerator.device)
    parts, counts = micro_batches(cfg, batch, n_parts)
    # DDP averages gradients over ranks: scale by world / (the count over all ranks)
    total = max(sum_ranks(run.accelerator, sum(counts)), 1.0)
    weights = [c * run.accelerator.num_processes / total for c in counts]
    tick = time.time()
    ref_logps = [None] * len(parts)
    if cfg.beta > 0:
        with torch.inference_mode(), autocast(run.dtype), reference_model(run) as reference:
            ref_logps = [completion_logprobs(reference, p, cfg.temperature, compile=cfg.compile)[0]
                         for p in parts]
    times["time_reference"] = time.time() - tick
    tick = time.time()
    update = policy_update(cfg, run, parts, weights, ref_logps)
    if not update["skipped"]:
        run.engine.load_policy(run.accelerator.unwrap_model(run.model))  # vLLM: sync the new weights
    times["time_update"] = time.time() - tick
    update["update_flops"] = update_flops(cfg, run.parameters, float(batch.attention_mask.sum()), update)
    return update


def update_flops(cfg: GRPOConfig, parameters: int, tokens: float, update: dict[str, Any]) -> float:
    """FLOPs of a batch of `tokens` (prompt + completion of every row): mu forward + backward passes
    (one forward when a NaN/inf loss stopped the update), and a forward each for the reference
    (beta > 0) and the entropy mask (top_entropy_quantile < 1)."""
    no_grad = (cfg.beta > 0) + (cfg.top_entropy_quantile < 1)
    if update.get("nonfinite"):
        trained = forward_flops(parameters, tokens)
    else:
        trained = train_flops(parameters, tokens) * cfg.mu
    return trained + no_grad * forward_flops(parameters, tokens)


def policy_update(cfg: GRPOConfig, run: Run, parts: list[Batch], weights: list[float], ref_logps: list
                  ) -> dict[str, Any]:
    """mu optimizer steps on one batch of rollouts; a NaN/inf loss or gradient skips the step."""
    accelerator, policy, optimizer = run.accelerator, run.model, run.optimizer
    old_logps: list[torch.Tensor | None] = [None] * len(parts)
    sums: dict[str, float] = {}
    tokens, entropy, losses, norms = 0.0, 0.0, 0.0, []
    keep = entropy_masks(policy, parts, weights, cfg, run.dtype)  # top_entropy_quantile's (all: None)
    for iteration in range(cfg.mu):
        for j, part in enumerate(parts):
            with autocast(run.dtype), _sync_on_last(accelerator, policy, j == len(parts) - 1):
                logp, ent = completion_logprobs(policy, part, cfg.temperature, with_entropy=iteration == 0,
                                                compile=cfg.compile)
            if old_logps[j] is None:
                old_logps[j] = logp.detach()  # the policy has not moved yet: it is the sampling policy
            loss, m = grpo_loss(logp, old_logps[j], ref_logps[j], part.advantages, part.completion_mask,
                                eps_low=cfg.eps_low, eps_high=cfg.eps_high, beta=cfg.beta,
                                loss_type=cfg.loss_type, max_len=run.window.tokens + 1,
                                importance_sampling_level=cfg.importance_sampling_level, delta=cfg.delta,
                                truncated=part.truncated, mask_truncated=cfg.mask_truncated,
                                entropy_mask=keep[j], sampler_logp=part.sampler_logp, tis_cap=cfg.tis_cap)
            if not all_ranks(accelerator, bool(torch.isfinite(loss))):
                optimizer.zero_grad(set_to_none=True)
                return {"skipped": True, "nonfinite": True, "loss": loss.item()}
            with _sync_on_last(accelerator, policy, j == len(parts) - 1):
                accelerator.backward(loss * weights[j])
            losses += loss.item() * weights[j] / cfg.mu
            for key in ("kl", "clip_frac", "clip_frac_low", "clip_frac_high", "clip_frac_delta", "ratio_mean",
                        "tis_weight_mean"):
                sums[key] = sums.get(key, 0.0) + m[key] * m["tokens"]
            tokens += m["tokens"]
            if ent is not None:
                entropy += float(ent[part.completion_mask].sum())
        grad_norm = float(accelerator.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm))
        if not math.isfinite(grad_norm):
            optimizer.zero_grad(set_to_none=True)
            return {"skipped": True, "nonfinite": True, "loss": losses, "grad_norm": grad_norm}
        norms.append(grad_norm)
        optimizer.step()
        run.scheduler.step()
        optimizer.zero_grad(set_to_none=True)
    real_tokens = sum(float(p.completion_mask.sum()) for p in parts)
    return {"skipped": False, "loss": losses, "grad_norm": sum(norms) / len(norms),
            "entropy": entropy / max(real_tokens, 1.0),
            **{key: value / max(tokens, 1.0) for key, value in sums.items()}}


def vllm_engine(cfg: GRPOConfig, model_dir: Path, dtype: torch.dtype, context: int | None):
    """A vLLM engine colocated with training, loaded from the base model's directory (setup syncs a
    resumed policy into it), in the trainer's dtype (vLLM's "auto" would turn a float32 checkpoint
    into bf16 and widen the sampler/trainer gap)."""
    from r1.rollout.vllm_engine import VLLMEngine

    longest = cfg.max_prompt_tokens + cfg.largest_window + 1
    return VLLMEngine(str(model_dir), gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
                      dtype="bfloat16" if dtype == torch.bfloat16 else "float32", seed=cfg.seed,
                      max_model_len=min(longest, context or longest), sleep_mode=torch.cuda.is_available())


def reference_model(run: Run):
    """The frozen reference: its own copy, or with LoRA the policy with its adapters switched off."""
    if run.reference is not None:
        return nullcontext(run.reference)
    return adapter_disabled(run.accelerator.unwrap_model(run.model))


def _sync_on_last(accelerator, model, last: bool):
    """Gradients are all-reduced once, after the last micro-batch (DDP's no_sync before it)."""
    return nullcontext() if last or accelerator.num_processes == 1 else accelerator.no_sync(model)


def evaluate(cfg: GRPOConfig, run: Run, step: int) -> dict[str, float]:
    """Held-out pass@1 of the in-memory policy on each benchmark, under eval/step_N/; every eval of a run
    has the same budget (eval_max_new_tokens, by default the largest window the schedule can reach).
    Stage 4: the held-out general prompts' reward-model and oracle scores too (r1.grpo.general)."""
    general = evaluate_general(cfg, run, step, run.general_eval) if run.general_eval else {}
    return general | evaluate_benchmarks(
        run.accelerator, run.model, run.tokenizer, run.sharded,
        Path(cfg.output_dir) / "eval" / f"step_{step:06d}", cfg.benchmarks, f"{cfg.output_dir} at step {step}",
        n=cfg.eval_problems, k=cfg.eval_k,
        temperature=cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature,
        top_p=cfg.top_p, max_new_tokens=cfg.eval_max_new_tokens or cfg.largest_window,
        template=cfg.template, suffix=cfg.suffix,
        response_prefix=cfg.response_prefix, stop=cfg.stop, batch_size=cfg.rollout_batch_size, seed=cfg.seed)


def _check_context(cfg: GRPOConfig, policy, prompt_ids: list[list[int]]) -> None:
    """The longest prompt plus the largest window the schedule can reach (and its eos) must fit."""
    limit = getattr(policy.config, "max_position_embeddings", None)
    window = cfg.largest_window
    need = max(len(p) for p in prompt_ids) + window + 1
    if limit and need > limit:
        name = "max_new_tokens" if cfg.context_schedule.kind == "fixed" else "context_schedule"
        raise R1Error(f"{name}: the longest prompt ({need - window - 1} tokens) + the largest window "
                      f"({window} new tokens) + eos exceeds the model's context of {limit}")
