"""What the GRPO benchmarks against TRL share (bench/grpo_vs_trl.py: the tiny model; bench/grpo_realistic.py:
the Qwen2.5-0.5B shape): the command-line settings both take, the r1 and TRL configs built from them, one
worker per framework (each in its own process), peak-memory readings, and the parent's run/report loop.

A benchmark script supplies its own world (`build_world(args, work) -> dict`, written to work/world.json
with at least model_dir, records, parameters, vocab, n_records) and its own report; see either script's
docstring for what is compared and why the settings are fair.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

STOP_TOKEN = "<|bench_never|>"  # eos of a benchmark's tokenizer: an id no model output can reach


def add_common_args(p: argparse.ArgumentParser, *, prompts: int, group: int, steps: int, warmup: int,
                    part_reps: int, threads: int, compile: bool) -> None:
    """The settings every GRPO benchmark takes; the keywords are each script's defaults."""
    p.add_argument("--prompts", type=int, default=prompts, help="prompts per step")
    p.add_argument("--group", type=int, default=group, help="completions per prompt (G)")
    p.add_argument("--new-tokens", type=int, default=64, help="completion length (every completion)")
    p.add_argument("--beta", type=float, default=0.04, help="KL coefficient (> 0: reference forward)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=steps, help="timed steps per framework")
    p.add_argument("--warmup", type=int, default=warmup, help="untimed steps before them")
    p.add_argument("--threads", type=int, default=threads, help="torch threads in every process")
    p.add_argument("--rounds", type=int, default=1,
                   help="run TRL and r1 alternately this many times each and pool their timed steps")
    p.add_argument("--part-reps", type=int, default=part_reps,
                   help="timed repeats of each part alone (median)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=compile,
                   help="both frameworks' torch.compile switch: r1's compile, TRL's torch_compile (the "
                        "compiles fall in the warm-up steps, whose times are printed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", choices=["trl", "r1", "parts"], action="append",
                   help="run only these (repeatable); default all three")
    p.add_argument("--workdir", help="scratch directory (default: a temporary one, removed)")
    p.add_argument("--json", help="write every number to this JSON file")
    p.add_argument("--worker", choices=["trl", "r1", "parts"], help=argparse.SUPPRESS)


# ---------------------------------------------------------------------------------------------------
# The world the parent built, and the settings both frameworks run with.


def quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the model config's eos is past its vocabulary on purpose
    hf_logging.disable_progress_bar()


def write_records(args: argparse.Namespace, work: Path) -> tuple[str, int]:
    """The tiny arithmetic 'train' records both frameworks draw prompts from: (path, count)."""
    from r1.tasks import generate

    n_records = args.prompts * (args.warmup + args.steps)
    records = generate("arithmetic", "train", n_records, args.seed)
    (work / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(work / "records.jsonl"), n_records


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
        loss_type="grpo", scale_rewards="group", grad_accum=1,
        rollout_batch_size=args.prompts * args.group, max_steps=args.warmup + args.steps,
        save_every=0, eval_every=0, precision="fp32", seed=args.seed, compile=args.compile,
        **extra)


def trl_config(args: argparse.Namespace, work: Path):
    """TRL's GRPOConfig with the same shape, objective and optimizer as `r1_config`."""
    from trl import GRPOConfig as TRLConfig

    return TRLConfig(
        output_dir=str(work / "trl"), per_device_train_batch_size=args.prompts * args.group,
        gradient_accumulation_steps=1, num_generations=args.group, max_completion_length=args.new_tokens,
        beta=args.beta, num_iterations=1, epsilon=0.2, loss_type="grpo", scale_rewards="group",
        temperature=args.temperature, top_p=1.0, top_k=0, learning_rate=args.lr,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        optim="adamw_torch", max_steps=args.warmup + args.steps, use_cpu=True, bf16=False, fp16=False,
        gradient_checkpointing=False, logging_strategy="no", save_strategy="no", eval_strategy="no",
        report_to="none", disable_tqdm=True, dataloader_num_workers=0, log_completions=False,
        seed=args.seed, data_seed=args.seed, torch_compile=args.compile)


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def summary(times: list[float], tokens: list[float], cpu: list[float] | None = None) -> dict:
    """Wall seconds per step (median, mean), and the process's CPU seconds per step (`cpu`, median):
    on a shared machine a process that waits for a core loses wall time but not CPU time, so with one
    thread CPU s/step is the steadier figure (with more, it also counts threads spinning at barriers)."""
    return {"step_s": times, "median_s": statistics.median(times), "mean_s": statistics.fmean(times),
            "tokens_per_step": statistics.fmean(tokens),
            "s_per_1k_tokens": statistics.median(times) / max(statistics.fmean(tokens), 1.0) * 1000,
            **({"cpu_s": cpu, "cpu_median_s": statistics.median(cpu)} if cpu else {})}


# ---------------------------------------------------------------------------------------------------
# Resident memory of this process (Linux /proc; elsewhere every reading is None).


def memory_mb() -> dict[str, float | None]:
    """rss (now), peak (VmHWM: the most since start or since `reset_peak`), anon and file parts of rss,
    in MiB."""
    keys = {"rss": "VmRSS", "peak": "VmHWM", "anon": "RssAnon", "file": "RssFile"}
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return dict.fromkeys(keys)
    out = {}
    for name, field in keys.items():
        m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
        out[name] = int(m.group(1)) / 1024 if m else None
    return out


def reset_peak() -> None:
    """Start VmHWM again from the current rss (Linux >= 4.0), so the next reading is one phase's peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


class Peaks:
    """Peak rss of each step and of the phases inside it, with one VmHWM: a phase resets it at its
    start and end, after folding what it had reached into the step's maximum, so no reading is lost."""

    def __init__(self):
        self.step, self.step_max = 0, 0.0
        self.calls: list[tuple[str, int, float, float]] = []  # (phase, step, seconds, peak MiB)

    def fold(self) -> None:
        self.step_max = max(self.step_max, memory_mb()["peak"] or 0.0)
        reset_peak()

    def start_step(self) -> None:
        reset_peak()
        self.step, self.step_max = self.step + 1, 0.0

    def end_step(self) -> float:
        self.fold()
        return self.step_max

    def begin(self) -> float:
        """A phase starts: returns its start time (pass it to `end`)."""
        self.fold()
        return time.perf_counter()

    def end(self, name: str, tick: float) -> None:
        self.calls.append((name, self.step, time.perf_counter() - tick, memory_mb()["peak"] or 0.0))
        self.fold()

    def timed(self, name: str, fn: Callable) -> Callable:
        """fn, timed and its peak rss recorded under `name` at every call."""
        def call(*a, **k):
            tick = self.begin()
            try:
                return fn(*a, **k)
            finally:
                self.end(name, tick)
        return call

    def summary(self, warmup: int) -> dict:
        """Per phase, over the steps after `warmup`: mean seconds per step and the largest peak rss."""
        steps = max(1, self.step - warmup)
        out: dict[str, dict] = {}
        for name, step, seconds, peak in self.calls:
            if step > warmup:
                phase = out.setdefault(name, {"s": 0.0, "peak_mb": 0.0})
                phase["s"] += seconds / steps
                phase["peak_mb"] = max(phase["peak_mb"], peak)
        return out


def watch_trl(trainer, peaks: Peaks) -> None:
    """Time TRL's step phases (and their peak rss): generation, reference and policy log-probs,
    backward. Measurement only: each wrapped method is called unchanged. The optimizer step is
    timed by the worker's callback (on_pre_optimizer_step .. on_optimizer_step)."""
    generate, logps = trainer._generate_single_turn, trainer._get_per_token_logps_and_entropies
    trainer._generate_single_turn = peaks.timed("generate", generate)
    ref, policy = peaks.timed("reference", logps), peaks.timed("policy_forward", logps)
    trainer._get_per_token_logps_and_entropies = (
        lambda model, *a, **k: (ref if model is trainer.ref_model else policy)(model, *a, **k))
    trainer.accelerator.backward = peaks.timed("backward", trainer.accelerator.backward)


# ---------------------------------------------------------------------------------------------------
# Workers: one fresh process each.


def worker_trl(args: argparse.Namespace, work: Path) -> dict:
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import GRPOTrainer

    from r1.models.load import load_tokenizer
    from r1.rewards.combine import RewardCombiner

    set_threads(args.threads)
    world, records = load_world(work)
    tokenizer = load_tokenizer(world["model_dir"])
    prompts = render_prompts(tokenizer, records)
    ours = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    theirs = tokenizer(text=prompts)["input_ids"]  # what TRL's _tokenize_prompts does
    assert ours == theirs, "TRL would tokenize the prompts differently from r1"
    dataset = Dataset.from_list([{**r, "prompt": p} for r, p in zip(records, prompts)])
    batch = args.prompts * args.group
    model = AutoModelForCausalLM.from_pretrained(world["model_dir"], dtype=torch.float32)

    class Timer(TrainerCallback):
        def __init__(self):
            self.begin: list[float] = []
            self.end: list[float] = []
            self.lengths: list[float] = []
            self.threads: list[int] = []
            self.step_peak_mb: list[float] = []
            self.cpu_begin: list[float] = []
            self.cpu_end: list[float] = []
            self.setup_mb: dict = {}
            self.trainer = None
            self.optimizer_tick = 0.0

        def on_train_begin(self, *a, **k):
            self.setup_mb = memory_mb()

        def on_step_begin(self, *a, **k):
            peaks.start_step()
            self.begin.append(time.perf_counter())
            self.cpu_begin.append(time.process_time())

        def on_pre_optimizer_step(self, *a, **k):
            self.optimizer_tick = peaks.begin()

        def on_optimizer_step(self, *a, **k):
            peaks.end("optimizer", self.optimizer_tick)

        def on_step_end(self, *a, **k):
            self.end.append(time.perf_counter())
            self.cpu_end.append(time.process_time())
            self.step_peak_mb.append(peaks.end_step())
            self.threads.append(torch.get_num_threads())
            lengths = self.trainer._metrics["train"].get("completions/mean_length") or [float("nan")]
            self.lengths.append(lengths[-1])

    timer, peaks = Timer(), Peaks()
    trainer = GRPOTrainer(model=model, reward_funcs=[RewardCombiner()], args=trl_config(args, work),
                          train_dataset=dataset, processing_class=tokenizer, callbacks=[timer])
    timer.trainer = trainer
    watch_trl(trainer, peaks)
    trainer.train()
    total = args.warmup + args.steps
    assert len(timer.end) == total, f"TRL ran {len(timer.end)} steps, expected {total}"
    times = [timer.end[i] - (timer.end[i - 1] if i else timer.begin[0]) for i in range(total)]
    cpu = [timer.cpu_end[i] - (timer.cpu_end[i - 1] if i else timer.cpu_begin[0]) for i in range(total)]
    tokens = [length * batch for length in timer.lengths[args.warmup:]]
    return {"framework": f"trl {trl.__version__}" + (" torch_compile" if args.compile else ""),
            "threads": timer.threads[-1], "warmup_s": times[: args.warmup],
            "inside_s": [e - b for b, e in zip(timer.begin[args.warmup:], timer.end[args.warmup:])],
            "memory": memory_report(timer.setup_mb, timer.step_peak_mb), "phases": peaks.summary(args.warmup),
            **summary(times[args.warmup :], tokens, cpu[args.warmup :])}


def worker_r1(args: argparse.Namespace, work: Path) -> dict:
    import torch

    import r1
    from r1.grpo.trainer import grpo_step, setup

    set_threads(args.threads)
    world, _ = load_world(work)
    cfg = r1_config(args, world, work / "r1")
    run = setup(cfg)
    setup_mb = memory_mb()
    times, cpu, tokens, splits, warmup, step_peaks = [], [], [], [], [], []
    for step in range(1, args.warmup + args.steps + 1):
        reset_peak()
        tick, cpu_tick = time.perf_counter(), time.process_time()
        metrics = grpo_step(cfg, run, step)
        took, cpu_took = time.perf_counter() - tick, time.process_time() - cpu_tick
        step_peaks.append(memory_mb()["peak"])
        if step <= args.warmup:
            warmup.append(took)
        else:
            times.append(took)
            cpu.append(cpu_took)
            tokens.append(metrics["completion_len_mean"] * args.prompts * args.group)
            splits.append({k: metrics[k] for k in metrics if k.startswith("time_")})
    split = {k: statistics.fmean(s[k] for s in splits) for k in splits[0]}
    label = f"r1 {getattr(r1, '__version__', '')}".strip() + (" compile" if args.compile else "")
    return {"framework": label, "threads": torch.get_num_threads(), "warmup_s": warmup, "split": split,
            "memory": memory_report(setup_mb, step_peaks), **summary(times, tokens, cpu)}


def memory_report(setup_mb: dict, step_peaks: list[float | None]) -> dict:
    """What a framework's process held: after setup (models loaded, before any step), the peak of each
    step (VmHWM reset at its start), and the process's own peak: the largest of setup's peak (loading;
    read before the first reset), each step's and the one since the last reset."""
    peaks = [p for p in (setup_mb.get("peak"), *step_peaks, memory_mb()["peak"]) if p is not None]
    return {"setup_rss_mb": setup_mb.get("rss"), "setup_anon_mb": setup_mb.get("anon"),
            "setup_file_mb": setup_mb.get("file"), "setup_peak_mb": setup_mb.get("peak"),
            "step_peak_mb": step_peaks, "peak_mb": max(peaks) if peaks else None}


# ---------------------------------------------------------------------------------------------------
# Parent: build the world, run the workers, report.


def run_worker(script: Path, name: str, argv: list[str], work: Path, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
           "PYTHONWARNINGS": "ignore"}
    tick = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), *argv, "--worker", name, "--workdir", str(work)],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"{script.stem}: the {name} worker failed (exit {proc.returncode})")
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
    for name in ("torch", "transformers", "trl", "accelerate", "tokenizers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def header_lines(args: argparse.Namespace, world: dict) -> list[str]:
    """The machine, the versions and the benchmark's shape."""
    v = versions()
    return [
        f"machine: {machine()}; torch {v['torch']}, transformers {v['transformers']}, trl {v['trl']}; "
        f"{args.threads} thread(s)",
        f"setup: {args.prompts} prompts x {args.group} completions x {args.new_tokens} new tokens, "
        f"beta {args.beta}, 1 inner iteration, lr {args.lr:g}, temperature {args.temperature:g}, fp32, CPU; "
        f"model {world['parameters'] / 1e6:.2f}M params, vocab {world['vocab']}; "
        f"{args.steps} timed steps after {args.warmup} warm-up" + (f", x {args.rounds} alternating rounds"
                                                                  if args.rounds > 1 else ""),
    ]


def framework_line(label: str, r: dict) -> str:
    steps = " ".join(f"{t:.3f}" for t in r["step_s"])
    warm = " ".join(f"{t:.1f}" for t in r.get("warmup_s", []))
    return (f"{label}: {r['median_s']:.3f} s/step median ({r['mean_s']:.3f} mean; steps {steps}; "
            f"warm-up steps {warm or '-'} s); "
            f"{r['tokens_per_step']:.0f} completion tokens/step, {r['s_per_1k_tokens']:.3f} s per 1k tokens; "
            f"{r['threads']} threads" + (f"; CPU {r['cpu_median_s']:.3f} s/step median" if "cpu_median_s" in r else ""))


def r1_split_line(r: dict) -> str:
    s = r["split"]
    other = r["mean_s"] - sum(s.get(k, 0.0) for k in
                             ("time_generate", "time_reward", "time_reference", "time_update"))
    return (f"r1 step split (mean of timed steps): generate {s.get('time_generate', 0):.3f} s, "
            f"reward {s.get('time_reward', 0):.4f} s, reference {s.get('time_reference', 0):.3f} s, "
            f"update (fwd+bwd+optimizer) {s.get('time_update', 0):.3f} s, other {other:.3f} s")


def parts_line(args: argparse.Namespace, p: dict) -> str:
    q = p["parts"]
    return (f"r1 parts alone (median of {args.part_reps}): generate {q['generate']:.3f} s "
            f"({p['rollout_tok_s']:,.0f} tok/s), reward {q['reward']:.4f} s, reference forward "
            f"{q['reference']:.3f} s, policy fwd+bwd {q['fwd_bwd']:.3f} s, optimizer {q['optimizer']:.4f} s; "
            f"sum {p['sum_s']:.3f} s")


def framework_lines(res: dict) -> list[str]:
    """TRL's and r1's step times, and r1's step split, for those that ran."""
    lines = []
    if "trl" in res:
        lines.append(framework_line(f"TRL GRPOTrainer ({res['trl']['framework']})", res["trl"]))
    if "r1" in res:
        lines.append(framework_line(f"r1 grpo_step ({res['r1']['framework']})", res["r1"]))
        lines.append(r1_split_line(res["r1"]))
    return lines


def token_warning(res: dict) -> list[str]:
    """A line when TRL's and r1's completion tokens per step differ by more than 2%."""
    if "trl" not in res or "r1" not in res:
        return []
    t, r = res["trl"], res["r1"]
    if abs(t["tokens_per_step"] - r["tokens_per_step"]) <= 0.02 * r["tokens_per_step"]:
        return []
    return [f"WARNING: tokens per step differ (TRL {t['tokens_per_step']:.0f}, r1 {r['tokens_per_step']:.0f}); "
            f"compare s per 1k tokens: {t['s_per_1k_tokens'] / r['s_per_1k_tokens']:.2f}"]


def pool(runs: list[dict]) -> dict:
    """One result from a worker's rounds: every timed step pooled, the r1 split averaged."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    times = [t for r in runs for t in r["step_s"]]
    cpu = [t for r in runs for t in r.get("cpu_s", [])]
    tokens = [r["tokens_per_step"] for r in runs for _ in r["step_s"]]
    out.update(summary(times, tokens, cpu), round_median_s=[r["median_s"] for r in runs],
               process_s=sum(r["process_s"] for r in runs))
    if "split" in out:
        out["split"] = {k: statistics.fmean(r["split"][k] for r in runs) for k in runs[0]["split"]}
    if out.get("memory", {}).get("peak_mb") is not None:
        out["memory"] = {**out["memory"], "peak_mb": max(r["memory"]["peak_mb"] for r in runs)}
    return out


def without_workdir(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--workdir":
            skip = True
        elif not a.startswith("--workdir="):
            out.append(a)
    return out


def main(script: Path, parse_args: Callable[[list[str]], argparse.Namespace], workers: dict[str, Callable],
         build_world: Callable[[argparse.Namespace, Path], dict],
         report: Callable[[argparse.Namespace, dict, dict], list[str]], argv: list[str] | None = None) -> None:
    """A worker process runs its worker; the parent builds the world, runs each framework's process
    (TRL and r1 alternating --rounds times, r1's parts once) one after another, prints the report."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        work = Path(args.workdir)
        out = workers[args.worker](args, work)
        (work / f"{args.worker}.json").write_text(json.dumps(out))
        return
    only = args.only or ["trl", "r1", "parts"]
    if "trl" in only and importlib.util.find_spec("trl") is None:
        raise SystemExit(f"{script.stem}: TRL is not installed; pip install -e '.[bench]'")
    temp = None
    if args.workdir:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix=f"{script.stem}-")
        work = Path(temp)
    try:
        world = build_world(args, work)
        (work / "world.json").write_text(json.dumps(world))
        worker_argv = without_workdir(argv)
        results = {}
        for round_ in range(args.rounds):  # TRL and r1 alternate, so a load change hits both
            for name in ("trl", "r1", "parts"):
                if name in only and (name != "parts" or round_ == 0):
                    for stale in ("r1", "trl", "parts"):
                        shutil.rmtree(work / stale, ignore_errors=True)
                    results.setdefault(name, []).append(run_worker(script, name, worker_argv, work,
                                                                   args.threads))
        results = {name: pool(runs) for name, runs in results.items()}
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
