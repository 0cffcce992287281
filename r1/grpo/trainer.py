"""GRPO, R1-Zero style: sample G completions per prompt, score them with rule rewards, and move the
policy toward the completions that beat their siblings.

    r1 grpo -c recipes/tiny/zero.yaml [output_dir=DIR] [max_steps=N] [beta=0.04]
    r1 plot runs/tiny-zero

One step:
  1. draw prompts_per_step prompts from a seeded stream (a resumed run draws the same ones);
  2. sample G completions each with the current policy (HFEngine, seeded by step);
  3. score them with RewardCombiner (reasoning prompts: 0.7 accuracy + 0.3 format);
  4. advantages: each reward against its group's mean (and std);
  5. reference log-probs, only when beta > 0 (beta = 0 loads no reference model at all);
  6. mu optimizer steps on that batch: policy log-probs at the sampling temperature, the clipped
     loss, backward over grad_accum micro-batches, gradient clipping, AdamW, lr schedule.

How this differs from textbook GRPO (DeepSeekMath eq. 3):
- beta = 0 by default (as many R1-Zero reproductions): no KL term, no reference forward.
- Old log-probs cost no extra forward: before the first update the policy *is* the sampling policy,
  so the first inner iteration records old_logp = logp.detach() (with mu = 1: ratio 1, nothing is
  clipped, the plain policy gradient) and later iterations reuse it.
- A completion is trained on exactly the tokens sampled, its eos included (rollouts keep it aside), so the
  model learns to stop; a stop string ends a completion without an eos (none was sampled).
- Options from later papers: DAPO's dynamic sampling (filter_equal_groups), clip-higher (eps_high),
  token-mean aggregation, overlong masking (mask_truncated); Dr. GRPO's scale_by_std=false and
  constant aggregation. Micro-batches are weighted so grad_accum changes memory, never the gradient.
- Several processes (accelerate launch): each rank draws prompts_per_step prompts a step from its own
  disjoint shard of the data (records[rank::world]), so a group's G completions stay on one rank.
  The loss normaliser is the count over all ranks, so DDP's gradient average equals the gradient of
  one process holding the whole batch. Skip decisions (no groups, NaN loss) are taken jointly.
"""

from __future__ import annotations

import math
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator

from r1.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint, save_final
from r1.config import save_config
from r1.errors import R1Error
from r1.grpo.advantages import group_advantages, group_all_equal
from r1.grpo.config import GRPOConfig
from r1.grpo.loss import grpo_loss
from r1.grpo.rollouts import (Batch, PromptStream, build_batch, build_stream, completion_logprobs,
                              load_records, micro_batches, nanmean, score)
from r1.grpo.telemetry import Telemetry, across_processes
from r1.models.fast import unsupported
from r1.models.load import load_model, load_tokenizer
from r1.models.lora import adapter_disabled, load_policy
from r1.models.weights import check_sharding, policy_weights
from r1.progress import console, progress_bar
from r1.rewards.combine import RewardCombiner
from r1.rollout import HFEngine, SamplingParams
from r1.runtime import autocast, max_over_processes, resolve_precision, set_seed, warmup_schedule


@dataclass
class Run:
    """Everything a step needs, built once by `setup`."""

    accelerator: Accelerator
    tokenizer: Any
    stream: PromptStream
    combiner: RewardCombiner
    policy: Any
    reference: Any  # None when beta == 0, or with LoRA (see reference_model)
    optimizer: Any
    scheduler: Any
    engine: Any  # HFEngine on the in-memory policy, or a VLLMEngine synced after every update
    dtype: torch.dtype
    sharded: bool = False  # FSDP2 / ZeRO-3: every forward is collective, so ranks generate in step
    start: int = 0
    bad_steps: int = 0


def train(cfg: GRPOConfig) -> Path:
    """Run (or resume) GRPO; returns output_dir/final, the trained policy in HF format."""
    run = setup(cfg)
    out, accelerator = Path(cfg.output_dir), run.accelerator
    telemetry = Telemetry(out, run.start, accelerator.is_main_process)
    if cfg.eval_every and run.start == 0:  # the curves start from the model before any RL
        telemetry.log(0, evaluate(cfg, run, 0))
    with progress_bar(accelerator.is_main_process) as bar:
        job = bar.add_task("grpo", total=cfg.max_steps, completed=run.start, status="")
        for step in range(run.start + 1, cfg.max_steps + 1):  # steps count from 1, as in the log
            metrics = grpo_step(cfg, run, step)
            run.bad_steps = run.bad_steps + 1 if metrics.get("nonfinite") else 0
            if cfg.eval_every and (step % cfg.eval_every == 0 or step == cfg.max_steps):
                metrics.update(evaluate(cfg, run, step))
            telemetry.log(step, metrics)
            if run.bad_steps >= cfg.max_bad_steps:
                telemetry.close()
                raise R1Error(f"grpo: {run.bad_steps} steps in a row had a NaN/inf loss or gradient "
                              f"(last at step {step}); lower lr or use precision=fp32")
            bar.update(job, advance=1, status=f"reward {metrics['reward']:.3f}  acc {metrics['accuracy']:.3f}"
                                              f"  len {metrics['completion_len_mean']:.1f}")
            if step == cfg.max_steps or cfg.save_every and step % cfg.save_every == 0:
                cursors = gather_ints(accelerator, run.stream.cursor)  # every rank's place in its shard
                save_checkpoint(accelerator, out / "checkpoint", accelerator.unwrap_model(run.policy),
                                run.tokenizer, run.optimizer, run.scheduler,
                                {"step": step, "cursor": cursors[0], "cursors": cursors,
                                 "bad_steps": run.bad_steps})
            accelerator.wait_for_everyone()
    telemetry.close()
    save_final(accelerator, accelerator.unwrap_model(run.policy), run.tokenizer, out / "final")
    if accelerator.is_main_process:
        console.print(f"grpo: saved the policy to {out / 'final'}")
    return out / "final"


def setup(cfg: GRPOConfig) -> Run:
    """Check the config, load data, policy (and reference when beta > 0); resume from a checkpoint."""
    cfg.check()
    out = Path(cfg.output_dir)
    ckpt = out / "checkpoint"
    resuming = has_checkpoint(ckpt)
    if resuming and not cfg.resume:
        raise R1Error(f"output_dir: {out} already holds a GRPO run; resume=true continues it, "
                      "or choose another output_dir")
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    rank, world = accelerator.process_index, accelerator.num_processes
    set_seed(cfg.seed + rank)
    tokenizer = load_tokenizer(ckpt if resuming and not cfg.lora.enabled else cfg.model)  # LoRA: adapters only
    records = load_records(cfg)
    if len(records) < world:
        raise R1Error(f"data: {len(records)} prompts cannot be shared by {world} processes")
    stream = build_stream(cfg, tokenizer, records[rank::world], seed=f"{cfg.seed}/{rank}")
    combiner = RewardCombiner(cfg.reward)
    combiner.check(sorted({r.get("prompt_type") or "reasoning" for r in records}))
    policy = load_policy(cfg.model, cfg.lora, ckpt if resuming else None, accelerator.device)
    _check_context(cfg, policy, stream.prompt_ids)
    reference = None  # beta = 0: no reference model in memory at all; LoRA: the policy, adapters off
    if cfg.beta > 0 and not cfg.lora.enabled:
        reference = load_model(cfg.model, device=accelerator.device).eval().requires_grad_(False)
    trainable = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: lr_factor(cfg, i))
    policy, optimizer = accelerator.prepare(policy, optimizer)
    sharded = check_sharding(accelerator.unwrap_model(policy))
    dtype = resolve_precision(cfg.precision)
    engine = HFEngine(accelerator.unwrap_model(policy), tokenizer, cfg.rollout_batch_size,
                      compile=cfg.compile)
    uncompiled = unsupported(policy) if cfg.compile else None  # e.g. wrapped by DDP, or LoRA
    if uncompiled and accelerator.is_main_process:
        console.print(f"[yellow]compile: the policy forward runs uncompiled, the lean path does not take "
                      f"this model ({uncompiled})[/]")
    if cfg.engine == "vllm":
        context = getattr(accelerator.unwrap_model(policy).config, "max_position_embeddings", None)
        engine = vllm_engine(cfg, Path(cfg.model), dtype, context)
        if resuming:  # the checkpoint's weights (or the base plus its LoRA adapters), as after an update
            engine.sync_weights(policy_weights(accelerator.unwrap_model(policy), everywhere=True))
    run = Run(accelerator, tokenizer, stream, combiner, policy, reference, optimizer, scheduler, engine, dtype,
              sharded)
    if resuming:
        state = load_checkpoint(ckpt, optimizer, scheduler, rank, world)
        cursors = state.get("cursors", [state["cursor"]])
        if len(cursors) != world:
            raise R1Error(f"resume: {ckpt} was written by {len(cursors)} processes, this run has {world}; "
                          "resume with the same number of processes")
        run.start, stream.cursor, run.bad_steps = state["step"], cursors[rank], state["bad_steps"]
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out / "grpo_config.yaml")
    n_params = sum(p.numel() for p in trainable)
    console.print(f"grpo: {n_params / 1e6:.2f}M trainable parameters{' (LoRA)' if cfg.lora.enabled else ''}, "
                  f"{len(records)} prompts, {cfg.prompts_per_step}"
                  f"x{cfg.group_size} completions/step, beta {cfg.beta}, {str(run.dtype)[6:]}"
                  + (f", resuming after step {run.start}" if run.start else ""))
    return run


def grpo_step(cfg: GRPOConfig, run: Run, step: int) -> dict[str, Any]:
    """Sample, score, compute advantages (and reference log-probs), update; returns the step's metrics."""
    tick, lr = time.time(), run.scheduler.get_last_lr()[0]
    times = {"time_generate": 0.0, "time_reward": 0.0, "time_reference": 0.0, "time_update": 0.0}
    groups, metrics = sample_groups(cfg, run, step, times)
    metrics.update(learn(cfg, run, groups, times))
    times["time_step"] = time.time() - tick
    metrics.update(times, lr=lr, tokens_per_s=metrics.pop("tokens") / times["time_step"])
    return across_processes(run.accelerator, metrics)


def learn(cfg: GRPOConfig, run: Run, groups: list[tuple[int, list, torch.Tensor]],
          times: dict[str, float]) -> dict[str, Any]:
    """Advantages, reference log-probs and the policy update for this rank's groups.

    A rank without groups (every group had equal rewards: nothing to learn from) makes every rank
    skip the step, so the ranks' gradient all-reduces stay paired.
    """
    if not all_ranks(run.accelerator, bool(groups)):
        return {"skipped": True}
    prompt_ids = [run.stream.prompt_ids[i] for i, _, _ in groups for _ in range(cfg.group_size)]
    rollouts = [ro for _, rollouts, _ in groups for ro in rollouts]
    rewards = torch.cat([r for _, _, r in groups])  # [K * G]
    advantages = group_advantages(rewards, cfg.group_size, scale_by_std=cfg.scale_by_std)  # [K * G]
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
    if not update["skipped"] and cfg.engine == "vllm":
        if run.engine.asleep:
            run.engine.wake_up()
        # sample from the new policy: gathered if sharded, LoRA folded in (collective under sharding)
        run.engine.sync_weights(policy_weights(run.accelerator.unwrap_model(run.policy), everywhere=True))
    times["time_update"] = time.time() - tick
    return update


def sample_groups(cfg: GRPOConfig, run: Run, step: int, times: dict[str, float]
                  ) -> tuple[list[tuple[int, list, torch.Tensor]], dict[str, Any]]:
    """Groups to train on, as (record index, G rollouts, G rewards), and metrics of every sample drawn.

    With filter_equal_groups, groups whose G rewards are all equal (no signal) are dropped and more
    prompts are drawn, up to max_sample_rounds generate calls.
    """
    params = SamplingParams(n=cfg.group_size, temperature=cfg.temperature, top_p=cfg.top_p,
                            max_new_tokens=cfg.max_new_tokens, stop=cfg.stop)
    stream, rank = run.stream, run.accelerator.process_index
    kept, totals, lengths, truncated, equal = [], [], [], [], []
    components: dict[str, list[float]] = {}
    need = cfg.prompts_per_step
    for round_ in range(cfg.max_sample_rounds if cfg.filter_equal_groups else 1):
        index = stream.take(need)
        params.seed = random.Random(f"{cfg.seed}/{rank}/{step}/{round_}").getrandbits(63)
        tick = time.time()
        if cfg.engine == "vllm" and run.engine.asleep:
            run.engine.wake_up()
        groups = run.engine.generate([stream.prompts[i] for i in index], params)
        times["time_generate"] += time.time() - tick
        tick = time.time()
        flat = [ro for group in groups for ro in group]
        records = [stream.records[i] for i in index for _ in range(cfg.group_size)]
        rewards, parts = score(run.combiner, records, flat)
        times["time_reward"] += time.time() - tick
        same = group_all_equal(rewards, cfg.group_size)  # [len(index)]
        for g, i in enumerate(index):
            if not (cfg.filter_equal_groups and same[g]) and len(kept) < cfg.prompts_per_step:
                kept.append((i, groups[g], rewards[g * cfg.group_size:(g + 1) * cfg.group_size]))
        totals += rewards.tolist()
        lengths += [len(ro.token_ids) for ro in flat]
        truncated += [not ro.finished for ro in flat]
        equal += same.tolist()
        for name, column in parts.items():
            components.setdefault(name, []).extend(column)
        need = cfg.prompts_per_step - len(kept)
        if run.sharded:  # a sharded model's generate is collective: every rank draws the largest need
            need = max_over_processes(need, run.accelerator.device)
        if need <= 0:
            break
    if cfg.engine == "vllm":
        run.engine.sleep()  # on a GPU: free its memory for the update (a no-op on a CPU)
    metrics = {"reward": sum(totals) / len(totals),
               "accuracy": nanmean(components.get("accuracy", [math.nan])),
               **{f"reward/{name}": nanmean(column) for name, column in components.items()},
               "completion_len_mean": sum(lengths) / len(lengths), "completion_len_max": max(lengths),
               "truncated_frac": sum(truncated) / len(truncated),
               "equal_groups_frac": sum(equal) / len(equal),
               "groups": len(kept), "tokens": sum(lengths)}
    return kept, metrics


def policy_update(cfg: GRPOConfig, run: Run, parts: list[Batch], weights: list[float], ref_logps: list
                  ) -> dict[str, Any]:
    """mu optimizer steps on one batch of rollouts; a NaN/inf loss or gradient skips the step."""
    accelerator, policy, optimizer = run.accelerator, run.policy, run.optimizer
    old_logps: list[torch.Tensor | None] = [None] * len(parts)
    sums: dict[str, float] = {}
    tokens, entropy, losses, norms = 0.0, 0.0, 0.0, []
    for iteration in range(cfg.mu):
        for j, part in enumerate(parts):
            with autocast(run.dtype), _sync_on_last(accelerator, policy, j == len(parts) - 1):
                logp, ent = completion_logprobs(policy, part, cfg.temperature, with_entropy=iteration == 0,
                                                compile=cfg.compile)
            if old_logps[j] is None:
                old_logps[j] = logp.detach()  # the policy has not moved yet: it is the sampling policy
            loss, m = grpo_loss(logp, old_logps[j], ref_logps[j], part.advantages, part.completion_mask,
                                eps_low=cfg.eps_low, eps_high=cfg.eps_high, beta=cfg.beta,
                                aggregation=cfg.aggregation, max_len=cfg.max_new_tokens + 1,
                                truncated=part.truncated, mask_truncated=cfg.mask_truncated,
                                sampler_logp=part.sampler_logp, tis_cap=cfg.tis_cap)
            if not all_ranks(accelerator, bool(torch.isfinite(loss))):
                optimizer.zero_grad(set_to_none=True)
                return {"skipped": True, "nonfinite": True, "loss": loss.item()}
            with _sync_on_last(accelerator, policy, j == len(parts) - 1):
                accelerator.backward(loss * weights[j])
            losses += loss.item() * weights[j] / cfg.mu
            for key in ("kl", "clip_frac", "clip_frac_low", "clip_frac_high", "ratio_mean", "tis_weight_mean"):
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

    longest = cfg.max_prompt_tokens + cfg.max_new_tokens + 1
    return VLLMEngine(str(model_dir), gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
                      dtype="bfloat16" if dtype == torch.bfloat16 else "float32", seed=cfg.seed,
                      max_model_len=min(longest, context or longest), sleep_mode=torch.cuda.is_available())


def reference_model(run: Run):
    """The frozen reference: its own copy, or with LoRA the policy with its adapters switched off."""
    if run.reference is not None:
        return nullcontext(run.reference)
    return adapter_disabled(run.accelerator.unwrap_model(run.policy))


def _sync_on_last(accelerator, model, last: bool):
    """Gradients are all-reduced once, after the last micro-batch (DDP's no_sync before it)."""
    return nullcontext() if last or accelerator.num_processes == 1 else accelerator.no_sync(model)


def all_ranks(accelerator, flag: bool) -> bool:
    """True when `flag` holds on every process."""
    if accelerator.num_processes == 1:
        return flag
    t = torch.tensor(float(flag), device=accelerator.device)
    return bool(accelerator.reduce(t, "sum") == accelerator.num_processes)


def sum_ranks(accelerator, value: float) -> float:
    if accelerator.num_processes == 1:
        return value
    return float(accelerator.reduce(torch.tensor(float(value), device=accelerator.device), "sum"))


def gather_ints(accelerator, value: int) -> list[int]:
    if accelerator.num_processes == 1:
        return [value]
    return [int(v) for v in accelerator.gather(torch.tensor([value], device=accelerator.device))]


def lr_factor(cfg: GRPOConfig, opt_step: int) -> float:
    """lr multiplier at an optimizer step: linear warmup, then constant or cosine to min_lr_ratio."""
    return warmup_schedule(opt_step, cfg.warmup_steps, cfg.max_steps * cfg.mu - cfg.warmup_steps,
                           cfg.lr_schedule, cfg.min_lr_ratio)


def evaluate(cfg: GRPOConfig, run: Run, step: int) -> dict[str, float]:
    """Held-out pass@1 of the in-memory policy on each benchmark (main process), under eval/step_N/."""
    from r1.eval.run import EvalConfig, fresh_dir, run_eval, training_eval_root

    metrics: dict[str, float] = {}
    step_dir = Path(cfg.output_dir) / "eval" / f"step_{step:06d}"
    with training_eval_root(step_dir, run.accelerator.is_main_process, run.sharded) as root:
        policy = run.accelerator.unwrap_model(run.policy)
        for benchmark in cfg.benchmarks if root else []:
            where = fresh_dir(root / benchmark.replace(":", "_"))
            eval_cfg = EvalConfig(
                output_dir=str(where), model=f"{cfg.output_dir} at step {step}", benchmark=benchmark,
                n=cfg.eval_problems, k=cfg.eval_k,
                temperature=cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature,
                top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, template=cfg.template,
                suffix=cfg.suffix, response_prefix=cfg.response_prefix, stop=cfg.stop,
                batch_size=cfg.rollout_batch_size, seed=cfg.seed)
            summary = run_eval(eval_cfg, model=policy, tokenizer=run.tokenizer)
            metrics[f"eval/{benchmark}/pass@1"] = summary["pass@1"]
            metrics[f"eval/{benchmark}/mean_tokens"] = summary["mean_tokens"]
    run.accelerator.wait_for_everyone()
    return metrics


def _check_context(cfg: GRPOConfig, policy, prompt_ids: list[list[int]]) -> None:
    limit = getattr(policy.config, "max_position_embeddings", None)
    need = max(len(p) for p in prompt_ids) + cfg.max_new_tokens + 1
    if limit and need > limit:
        raise R1Error(f"max_new_tokens: the longest prompt ({need - cfg.max_new_tokens - 1} tokens) + "
                      f"max_new_tokens ({cfg.max_new_tokens}) + eos exceeds the model's context of {limit}")
