"""Seconds per GRPO step: r1's `grpo_step` against TRL's `GRPOTrainer`, same model, prompts and settings.

    pip install -e ".[bench]"
    python bench/grpo_vs_trl.py                        # 8 prompts x 8 completions x 64 tokens, 2 threads
    python bench/grpo_vs_trl.py --steps 10 --json runs/bench/grpo_vs_trl.json
    python bench/grpo_vs_trl.py --rounds 3             # busy machine: TRL and r1 alternate 3 times

What it does:
1. Builds one tiny world in a scratch directory: r1's character tokenizer and a randomly initialised
   1.8M-parameter Llama of the tiny pretraining shape (`r1.models.pretrain.build_model`), saved as a
   Hugging Face directory, and one set of tiny arithmetic 'train' records (`r1.tasks.generate`).
2. Runs `--warmup + --steps` steps of TRL's GRPOTrainer and of r1's GRPO (`r1.grpo.trainer.setup`, then
   `grpo_step` per step), each in its own fresh Python process with the same thread count, and reports
   the median seconds per timed step (warm-up steps are discarded).
3. Measures r1's step parts alone on one batch of the same shape (rollout through r1's engine, plain
   `model.generate`, reward, reference forward, policy forward+backward, optimizer), and prints their
   sum, the step's ratio to that sum, and r1's rollout tokens/s over plain `generate`'s.
The last line is `ratio TRL/r1: X.XX`; `--json PATH` also writes every number.

Fairness, setting by setting:
- Same model directory, same tokenizer, fp32 (TRL's bf16 default is turned off), CPU, the same
  `torch.set_num_threads` (and OMP_NUM_THREADS) in every process, one process per framework so neither
  inherits the other's allocator state, caches or patches (TRL patches a fused LM head onto its models).
- Same prompts: each record's problem rendered once with the tokenizer's chat template (r1's
  `template=chat`), given to TRL as plain strings; the worker checks TRL's prompt token ids equal
  r1's. Same record pool in both (`train_problems` = that pool).
- Same shape: prompts_per_step x group_size completions per step (TRL: per_device_train_batch_size =
  P*G, num_generations = G, gradient_accumulation_steps = 1, so one generation batch per optimizer
  step), max_new_tokens = max_completion_length, temperature 1.0, top_p 1, top_k off, no stop strings.
- Same amount of generated text. A random-init model would stop at a random point (eos has
  probability ~1/V per token), so lengths, and with them every part of the step, would differ by
  chance. The benchmark's tokenizer therefore gets its eos as one extra special token whose id lies
  past the model's output vocabulary: no sampler can ever pick it, so every completion in both
  frameworks is exactly max_new_tokens long, whatever generation loop a framework uses (no
  min_new_tokens or logits processor that one engine might honour and another ignore). Tokens per
  step are measured and printed for both anyway, with seconds per 1k tokens (r1 drops a sampled pad
  token from a completion, TRL keeps it, so r1 counts ~0.5% fewer). A consequence: no row ever
  finishes early, so an engine that stops computing finished rows gains nothing here; on a trained
  model with completions of mixed lengths it would.
- Same objective: beta > 0 (so the reference forward counts), one inner iteration (TRL
  num_iterations = 1, r1 mu = 1: no old-policy forward in either), eps 0.2, per-sequence token mean
  (TRL loss_type="grpo", r1 seq-mean-token-mean), group-std scaling, lr constant, plain torch AdamW
  (weight decay 0), grad clipping at 1.0.
- Same reward: both call one `RewardCombiner` with r1's default weights (0.7 tiny accuracy + 0.3
  format), r1 through its trainer, TRL as its reward function.
- Compile: `--compile` (the default) turns on each framework's own switch, r1's `compile` (its decode
  step and both forwards) and TRL's `torch_compile` (the Trainer compiles the model it trains; TRL's
  generation stays uncompiled); `--no-compile` turns both off. The compiles fall in the warm-up steps,
  whose times are printed.
- TRL's gradient checkpointing (on by default) is turned off: r1 does not checkpoint, and
  recomputing the forward would only make TRL slower for a saving that does not matter here.
- TRL logging, saving, evaluation and progress bars are off, and the timer is a TrainerCallback:
  a TRL step is the time from one step's end to the next (data loading and all of the trainer's
  own work between optimizer steps included); the first timed step, when there is no warm-up, runs
  from its on_step_begin. An r1 step is the wall time of one `grpo_step` call.
- The median over timed steps is the headline figure (the mean is printed too): robust to a stray
  slow step on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
STOP_TOKEN = "<|bench_never|>"  # eos of the benchmark's tokenizer: an id no model output can reach


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prompts", type=int, default=8, help="prompts per step")
    p.add_argument("--group", type=int, default=8, help="completions per prompt (G)")
    p.add_argument("--new-tokens", type=int, default=64, help="completion length (every completion)")
    p.add_argument("--beta", type=float, default=0.04, help="KL coefficient (> 0: reference forward)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=6, help="timed steps per framework")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before them")
    p.add_argument("--threads", type=int, default=2, help="torch threads in every process")
    p.add_argument("--rounds", type=int, default=1,
                   help="run TRL and r1 alternately this many times each and pool their timed steps")
    p.add_argument("--part-reps", type=int, default=3, help="timed repeats of each part alone (median)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True,
                   help="both frameworks' torch.compile switch: r1's compile, TRL's torch_compile (the "
                        "compiles fall in the warm-up steps, whose times are printed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", choices=["trl", "r1", "parts"], action="append",
                   help="run only these (repeatable); default all three")
    p.add_argument("--workdir", help="scratch directory (default: a temporary one, removed)")
    p.add_argument("--json", help="write every number to this JSON file")
    p.add_argument("--worker", choices=["trl", "r1", "parts"], help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------------
# The shared world: model directory + records, built once by the parent process.


def build_world(args: argparse.Namespace, work: Path) -> dict:
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the model config's eos is past its vocabulary on purpose
    hf_logging.disable_progress_bar()

    from r1.models.corpus import CorpusMix, sample_documents
    from r1.models.pretrain import PretrainConfig, build_model
    from r1.models.tokenizer import train_char_tokenizer
    from r1.tasks import generate

    cfg = PretrainConfig(output_dir=str(work / "model"))  # the tiny pretraining shape
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    tokenizer = train_char_tokenizer(sample_documents(mix, 2000, f"{args.seed}/tokenizer"),
                                     extra_chars=string.printable)
    vocab = len(tokenizer)
    torch.manual_seed(args.seed)
    model = build_model(cfg, vocab, tokenizer.pad_token_id, vocab)
    # eos = one new special token with id == vocab: past the model's logits, so never sampled.
    tokenizer.add_special_tokens({"eos_token": STOP_TOKEN})
    assert tokenizer.eos_token_id == vocab == model.config.vocab_size, (tokenizer.eos_token_id, vocab)
    model.generation_config.eos_token_id = vocab
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(work / "model")
    tokenizer.save_pretrained(work / "model")
    n_records = args.prompts * (args.warmup + args.steps)
    records = generate("arithmetic", "train", n_records, args.seed)
    (work / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return {"model_dir": str(work / "model"), "records": str(work / "records.jsonl"),
            "parameters": sum(p.numel() for p in model.parameters()), "vocab": vocab,
            "n_records": n_records}


def load_world(work: Path) -> tuple[dict, list[dict]]:
    world = json.loads((work / "world.json").read_text())
    records = [json.loads(line) for line in Path(world["records"]).read_text().splitlines()]
    return world, records


def render_prompts(tokenizer, records: list[dict]) -> list[str]:
    from r1.prompts import build_prompt

    return [build_prompt(tokenizer, r["problem"], "chat") for r in records]


def r1_config(args: argparse.Namespace, world: dict, out: Path, **extra):
    from r1.grpo.config import GRPOConfig

    return GRPOConfig(
        output_dir=str(out), model=world["model_dir"], families=["arithmetic"],
        train_problems=world["n_records"], prompts_per_step=args.prompts, group_size=args.group,
        max_new_tokens=args.new_tokens, temperature=args.temperature, top_p=1.0, stop=[],
        template="chat", beta=args.beta, mu=1, lr=args.lr, lr_schedule="constant", warmup_steps=0,
        weight_decay=0.0, max_grad_norm=1.0, eps_low=0.2, eps_high=0.2,
        aggregation="seq-mean-token-mean", scale_by_std=True, grad_accum=1,
        rollout_batch_size=args.prompts * args.group, max_steps=args.warmup + args.steps,
        save_every=0, eval_every=0, precision="fp32", seed=args.seed, compile=args.compile,
        **extra)


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def _summary(times: list[float], tokens: list[float]) -> dict:
    return {"step_s": times, "median_s": statistics.median(times), "mean_s": statistics.fmean(times),
            "tokens_per_step": statistics.fmean(tokens),
            "s_per_1k_tokens": statistics.median(times) / max(statistics.fmean(tokens), 1.0) * 1000}


# ---------------------------------------------------------------------------------------------------
# Workers: one fresh process each.


def worker_trl(args: argparse.Namespace, work: Path) -> dict:
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import GRPOConfig as TRLConfig
    from trl import GRPOTrainer

    from r1.models.load import load_tokenizer
    from r1.rewards.combine import RewardCombiner

    _set_threads(args.threads)
    world, records = load_world(work)
    tokenizer = load_tokenizer(world["model_dir"])
    prompts = render_prompts(tokenizer, records)
    ours = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    theirs = tokenizer(text=prompts)["input_ids"]  # what TRL's _tokenize_prompts does
    assert ours == theirs, "TRL would tokenize the prompts differently from r1"
    dataset = Dataset.from_list([{**r, "prompt": p} for r, p in zip(records, prompts)])
    batch = args.prompts * args.group
    config = TRLConfig(
        output_dir=str(work / "trl"), per_device_train_batch_size=batch, gradient_accumulation_steps=1,
        num_generations=args.group, max_completion_length=args.new_tokens, beta=args.beta,
        num_iterations=1, epsilon=0.2, loss_type="grpo", scale_rewards="group",
        temperature=args.temperature, top_p=1.0, top_k=0, learning_rate=args.lr,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        optim="adamw_torch", max_steps=args.warmup + args.steps, use_cpu=True, bf16=False, fp16=False,
        gradient_checkpointing=False, logging_strategy="no", save_strategy="no", eval_strategy="no",
        report_to="none", disable_tqdm=True, dataloader_num_workers=0, log_completions=False,
        seed=args.seed, data_seed=args.seed, torch_compile=args.compile)
    model = AutoModelForCausalLM.from_pretrained(world["model_dir"], dtype=torch.float32)

    class Timer(TrainerCallback):
        def __init__(self):
            self.begin: list[float] = []
            self.end: list[float] = []
            self.lengths: list[float] = []
            self.threads: list[int] = []
            self.trainer = None

        def on_step_begin(self, *a, **k):
            self.begin.append(time.perf_counter())

        def on_step_end(self, *a, **k):
            self.end.append(time.perf_counter())
            self.threads.append(torch.get_num_threads())
            lengths = self.trainer._metrics["train"].get("completions/mean_length") or [float("nan")]
            self.lengths.append(lengths[-1])

    timer = Timer()
    trainer = GRPOTrainer(model=model, reward_funcs=[RewardCombiner()], args=config,
                          train_dataset=dataset, processing_class=tokenizer, callbacks=[timer])
    timer.trainer = trainer
    trainer.train()
    total = args.warmup + args.steps
    assert len(timer.end) == total, f"TRL ran {len(timer.end)} steps, expected {total}"
    times = [timer.end[i] - (timer.end[i - 1] if i else timer.begin[0]) for i in range(total)]
    tokens = [length * batch for length in timer.lengths[args.warmup:]]
    return {"framework": f"trl {trl.__version__}" + (" torch_compile" if args.compile else ""),
            "threads": timer.threads[-1], "warmup_s": times[: args.warmup],
            "inside_s": [e - b for b, e in zip(timer.begin[args.warmup:], timer.end[args.warmup:])],
            **_summary(times[args.warmup :], tokens)}


def worker_r1(args: argparse.Namespace, work: Path) -> dict:
    import torch

    import r1
    from r1.grpo.trainer import grpo_step, setup

    _set_threads(args.threads)
    world, _ = load_world(work)
    cfg = r1_config(args, world, work / "r1")
    run = setup(cfg)
    times, tokens, splits, warmup = [], [], [], []
    for step in range(1, args.warmup + args.steps + 1):
        tick = time.perf_counter()
        metrics = grpo_step(cfg, run, step)
        took = time.perf_counter() - tick
        if step <= args.warmup:
            warmup.append(took)
        else:
            times.append(took)
            tokens.append(metrics["completion_len_mean"] * args.prompts * args.group)
            splits.append({k: metrics[k] for k in metrics if k.startswith("time_")})
    split = {k: statistics.fmean(s[k] for s in splits) for k in splits[0]}
    label = f"r1 {getattr(r1, '__version__', '')}".strip() + (" compile" if args.compile else "")
    return {"framework": label, "threads": torch.get_num_threads(), "warmup_s": warmup, "split": split,
            **_summary(times, tokens)}


def worker_parts(args: argparse.Namespace, work: Path) -> dict:
    """r1's step parts, each alone on one batch of the step's shape; median of --part-reps repeats."""
    import torch

    from r1.grpo.batch import build_batch
    from r1.grpo.forward import completion_logprobs
    from r1.grpo.loss import grpo_loss
    from r1.models.load import load_model, load_tokenizer
    from r1.rewards.combine import RewardCombiner
    from r1.rollout import HFEngine, SamplingParams

    _set_threads(args.threads)
    world, records = load_world(work)
    cfg = r1_config(args, world, work / "parts")
    tokenizer = load_tokenizer(world["model_dir"])
    policy = load_model(world["model_dir"]).train()
    reference = load_model(world["model_dir"]).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    batch_records = records[: args.prompts]
    prompts = render_prompts(tokenizer, batch_records)
    G, B = args.group, args.prompts * args.group

    def timed(fn, reps=args.part_reps):
        fn()  # warm-up
        out = []
        for _ in range(reps):
            tick = time.perf_counter()
            fn()
            out.append(time.perf_counter() - tick)
        return statistics.median(out)

    # rollout through r1's engine
    engine = HFEngine(policy, tokenizer, cfg.rollout_batch_size, compile=cfg.compile)
    params = SamplingParams(n=G, temperature=cfg.temperature, top_p=1.0, max_new_tokens=cfg.max_new_tokens,
                            stop=[], seed=args.seed)
    result = {}

    def rollout():
        result["groups"] = engine.generate(prompts, params)

    t_rollout = timed(rollout)
    flat = [ro for group in result["groups"] for ro in group]
    rollout_tokens = sum(len(ro.token_ids) for ro in flat)

    # plain model.generate on the same batch (what TRL does)
    enc = tokenizer([p for p in prompts for _ in range(G)], return_tensors="pt", padding=True,
                    add_special_tokens=False)

    def plain_generate():
        policy.eval()
        with torch.no_grad():
            result["plain"] = policy.generate(**enc, max_new_tokens=cfg.max_new_tokens, do_sample=True,
                                              temperature=cfg.temperature, top_p=1.0, top_k=0,
                                              eos_token_id=tokenizer.eos_token_id,
                                              pad_token_id=tokenizer.pad_token_id)
        policy.train()

    t_plain = timed(plain_generate)
    plain_tokens = int((result["plain"][:, enc["input_ids"].shape[1]:] != tokenizer.pad_token_id).sum())

    # reward
    combiner = RewardCombiner(cfg.reward)
    fields = {k: [r.get(k) for r in batch_records for _ in range(G)] for k in batch_records[0]}
    texts = [ro.text for ro in flat]
    t_reward = timed(lambda: combiner.score(texts, **fields))

    # one training batch, as grpo_step builds it
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    advantages = torch.randn(B)
    batch = build_batch([prompt_ids[i] for i in range(args.prompts) for _ in range(G)], flat, advantages,
                        tokenizer.pad_token_id)

    def ref_forward():
        with torch.inference_mode():
            result["ref"] = completion_logprobs(reference, batch, cfg.temperature, compile=cfg.compile)[0]

    t_ref = timed(ref_forward)
    ref_logp = result["ref"].clone()

    def fwd_bwd():  # as in the step: gradients start from none (the step zeroes them with set_to_none)
        policy.zero_grad(set_to_none=True)
        logp, _ = completion_logprobs(policy, batch, cfg.temperature, with_entropy=True, compile=cfg.compile)
        loss, _ = grpo_loss(logp, logp.detach(), ref_logp, batch.advantages, batch.completion_mask,
                            eps_low=cfg.eps_low, eps_high=cfg.eps_high, beta=cfg.beta,
                            aggregation=cfg.aggregation, max_len=cfg.max_new_tokens + 1)
        loss.backward()

    t_fwd_bwd = timed(fwd_bwd)

    def plain_fwd_bwd():  # the same loss through the model's own forward and one log_softmax
        policy.zero_grad(set_to_none=True)
        logits = policy(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                        position_ids=batch.position_ids, use_cache=False).logits
        start = batch.prompt_width - 1
        logp = torch.log_softmax(logits[:, start:-1] / cfg.temperature, -1)
        logp = logp.gather(-1, batch.input_ids[:, start + 1:, None]).squeeze(-1)
        loss, _ = grpo_loss(logp, logp.detach(), ref_logp, batch.advantages, batch.completion_mask,
                            eps_low=cfg.eps_low, eps_high=cfg.eps_high, beta=cfg.beta,
                            aggregation=cfg.aggregation, max_len=cfg.max_new_tokens + 1)
        loss.backward()

    t_plain_fwd_bwd = timed(plain_fwd_bwd)

    def opt_step():
        torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
        optimizer.step()

    fwd_bwd()  # gradients for the optimizer to apply (kept across its repeats)
    t_opt = timed(opt_step)
    optimizer.zero_grad(set_to_none=True)

    parts = {"generate": t_rollout, "reward": t_reward, "reference": t_ref, "fwd_bwd": t_fwd_bwd,
             "optimizer": t_opt}
    return {"threads": torch.get_num_threads(), "parts": parts, "sum_s": sum(parts.values()),
            "rollout_tokens": rollout_tokens, "rollout_tok_s": rollout_tokens / t_rollout,
            "plain_generate_s": t_plain, "plain_tokens": plain_tokens, "plain_tok_s": plain_tokens / t_plain,
            "plain_fwd_bwd_s": t_plain_fwd_bwd}


WORKERS = {"trl": worker_trl, "r1": worker_r1, "parts": worker_parts}


# ---------------------------------------------------------------------------------------------------
# Parent: build the world, run the workers, report.


def run_worker(name: str, argv: list[str], work: Path, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
           "PYTHONWARNINGS": "ignore"}
    tick = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE), *argv, "--worker", name, "--workdir", str(work)],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"grpo_vs_trl: the {name} worker failed (exit {proc.returncode})")
    out = json.loads((work / f"{name}.json").read_text())
    out["process_s"] = time.perf_counter() - tick
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores ({cpu}), load average {load:.2f}"


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "trl", "accelerate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def report(args: argparse.Namespace, world: dict, res: dict) -> list[str]:
    v = versions()
    lines = [
        f"machine: {machine()}; torch {v['torch']}, transformers {v['transformers']}, trl {v['trl']}; "
        f"{args.threads} thread(s)",
        f"setup: {args.prompts} prompts x {args.group} completions x {args.new_tokens} new tokens, "
        f"beta {args.beta}, 1 inner iteration, lr {args.lr:g}, temperature {args.temperature:g}, fp32, CPU; "
        f"model {world['parameters'] / 1e6:.2f}M params, vocab {world['vocab']}; "
        f"{args.steps} timed steps after {args.warmup} warm-up" + (f", x {args.rounds} alternating rounds"
                                                                  if args.rounds > 1 else ""),
    ]

    def framework_line(label, r):
        steps = " ".join(f"{t:.3f}" for t in r["step_s"])
        warm = " ".join(f"{t:.1f}" for t in r.get("warmup_s", []))
        return (f"{label}: {r['median_s']:.3f} s/step median ({r['mean_s']:.3f} mean; steps {steps}; "
                f"warm-up steps {warm or '-'} s); "
                f"{r['tokens_per_step']:.0f} completion tokens/step, {r['s_per_1k_tokens']:.3f} s per 1k tokens; "
                f"{r['threads']} threads")

    if "trl" in res:
        lines.append(framework_line(f"TRL GRPOTrainer ({res['trl']['framework']})", res["trl"]))
    if "r1" in res:
        r = res["r1"]
        lines.append(framework_line(f"r1 grpo_step ({r['framework']})", r))
        s = r["split"]
        other = r["mean_s"] - sum(s.get(k, 0.0) for k in
                                 ("time_generate", "time_reward", "time_reference", "time_update"))
        lines.append(f"r1 step split (mean of timed steps): generate {s.get('time_generate', 0):.3f} s, "
                     f"reward {s.get('time_reward', 0):.4f} s, reference {s.get('time_reference', 0):.3f} s, "
                     f"update (fwd+bwd+optimizer) {s.get('time_update', 0):.3f} s, other {other:.3f} s")
    if "parts" in res:
        p = res["parts"]
        q = p["parts"]
        lines.append(f"r1 parts alone (median of {args.part_reps}): generate {q['generate']:.3f} s "
                     f"({p['rollout_tok_s']:,.0f} tok/s), reward {q['reward']:.4f} s, reference forward "
                     f"{q['reference']:.3f} s, policy fwd+bwd {q['fwd_bwd']:.3f} s, optimizer {q['optimizer']:.4f} s; "
                     f"sum {p['sum_s']:.3f} s")
        lines.append(f"plain HF alone: model.generate {p['plain_generate_s']:.3f} s ({p['plain_tok_s']:,.0f} tok/s, "
                     f"{p['plain_tokens']} tokens), policy fwd+bwd via model() + log_softmax "
                     f"{p['plain_fwd_bwd_s']:.3f} s")
        lines.append(f"r1 rollout tokens/s / plain generate tokens/s: {p['rollout_tok_s'] / p['plain_tok_s']:.2f} "
                     f"(target >= 1.5)")
        if "r1" in res:
            lines.append(f"r1 step / sum of parts alone: {res['r1']['median_s'] / p['sum_s']:.2f} (target <= 1.15)")
    if "trl" in res and "r1" in res:
        t, r = res["trl"], res["r1"]
        if abs(t["tokens_per_step"] - r["tokens_per_step"]) > 0.02 * r["tokens_per_step"]:
            lines.append(f"WARNING: tokens per step differ (TRL {t['tokens_per_step']:.0f}, r1 "
                         f"{r['tokens_per_step']:.0f}); compare s per 1k tokens: "
                         f"{t['s_per_1k_tokens'] / r['s_per_1k_tokens']:.2f}")
        lines.append(f"ratio TRL/r1: {t['median_s'] / r['median_s']:.2f}")
    return lines


def _pool(runs: list[dict]) -> dict:
    """One result from a worker's rounds: every timed step pooled, the r1 split averaged."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    times = [t for r in runs for t in r["step_s"]]
    tokens = [r["tokens_per_step"] for r in runs for _ in r["step_s"]]
    out.update(_summary(times, tokens), round_median_s=[r["median_s"] for r in runs],
               process_s=sum(r["process_s"] for r in runs))
    if "split" in out:
        out["split"] = {k: statistics.fmean(r["split"][k] for r in runs) for k in runs[0]["split"]}
    return out


def _without_workdir(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--workdir":
            skip = True
        elif not a.startswith("--workdir="):
            out.append(a)
    return out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        work = Path(args.workdir)
        out = WORKERS[args.worker](args, work)
        (work / f"{args.worker}.json").write_text(json.dumps(out))
        return
    only = args.only or ["trl", "r1", "parts"]
    if "trl" in only and importlib.util.find_spec("trl") is None:
        raise SystemExit("grpo_vs_trl: TRL is not installed; pip install -e '.[bench]'")
    temp = None
    if args.workdir:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="grpo_vs_trl-")
        work = Path(temp)
    try:
        world = build_world(args, work)
        (work / "world.json").write_text(json.dumps(world))
        worker_argv = _without_workdir(argv)
        results = {}
        for round_ in range(args.rounds):  # TRL and r1 alternate, so a load change hits both
            for name in ("trl", "r1", "parts"):
                if name in only and (name != "parts" or round_ == 0):
                    for stale in ("r1", "trl", "parts"):
                        shutil.rmtree(work / stale, ignore_errors=True)
                    results.setdefault(name, []).append(run_worker(name, worker_argv, work, args.threads))
        results = {name: _pool(runs) for name, runs in results.items()}
        lines = report(args, world, results)
        print("\n".join(lines), flush=True)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(
                {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join([sys.argv[0], *argv]),
                 "machine": machine(), "versions": versions(), "args": vars(args), "world": world,
                 "results": results, "lines": lines}, indent=2))
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
