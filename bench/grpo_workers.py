"""The two framework workers of the GRPO benchmarks (bench/grpo_vs_trl.py, bench/grpo_realistic.py), each
run in its own fresh process: TRL's GRPOTrainer and r1's `grpo_step`, with step times (wall and CPU),
peak resident memory per step, and TRL's step phases (generation, reference and policy log-probs,
backward, optimizer), timed and measured from outside without changing what they run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from grpo_common import load_world, r1_config, render_prompts, set_threads, summary, trl_config


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


def watch_r1(run, peaks: Peaks) -> None:
    """Time r1's step phases (and their peak rss) as `watch_trl` does TRL's: rollout, reference and
    policy log-probs, backward, optimizer step. Measurement only: each is called unchanged."""
    import torch

    from r1.grpo import trainer

    run.engine.generate = peaks.timed("generate", run.engine.generate)
    logps = trainer.completion_logprobs
    ref, policy = peaks.timed("reference", logps), peaks.timed("policy_forward", logps)
    trainer.completion_logprobs = (  # the reference runs under inference_mode (r1.grpo.trainer.learn)
        lambda *a, **k: (ref if torch.is_inference_mode_enabled() else policy)(*a, **k))
    run.accelerator.backward = peaks.timed("backward", run.accelerator.backward)
    run.optimizer.step = peaks.timed("optimizer", run.optimizer.step)


# ---------------------------------------------------------------------------------------------------
# Workers: one fresh process each.


def trl_timer(peaks: Peaks):
    """A TrainerCallback recording each step's wall and CPU times, completion length and peak rss,
    and timing the optimizer step as one of `peaks`' phases."""
    import torch
    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        def __init__(self):
            self.begin, self.end, self.cpu_begin, self.cpu_end = [], [], [], []
            self.lengths, self.threads, self.step_peak_mb = [], [], []
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

    return Timer()


def worker_trl(args: argparse.Namespace, work: Path) -> dict:
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
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
    model = AutoModelForCausalLM.from_pretrained(world["model_dir"], dtype=torch.float32)
    peaks = Peaks()
    timer = trl_timer(peaks)
    trainer = GRPOTrainer(model=model, reward_funcs=[RewardCombiner()], args=trl_config(args, work),
                          train_dataset=dataset, processing_class=tokenizer, callbacks=[timer])
    timer.trainer = trainer
    watch_trl(trainer, peaks)
    trainer.train()
    total = args.warmup + args.steps
    assert len(timer.end) == total, f"TRL ran {len(timer.end)} steps, expected {total}"
    times = [timer.end[i] - (timer.end[i - 1] if i else timer.begin[0]) for i in range(total)]
    cpu = [timer.cpu_end[i] - (timer.cpu_end[i - 1] if i else timer.cpu_begin[0]) for i in range(total)]
    tokens = [length * args.prompts * args.group for length in timer.lengths[args.warmup:]]
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
    peaks = Peaks()
    watch_r1(run, peaks)
    times, cpu, tokens, splits, warmup, step_peaks = [], [], [], [], [], []
    for step in range(1, args.warmup + args.steps + 1):
        peaks.start_step()
        tick, cpu_tick = time.perf_counter(), time.process_time()
        metrics = grpo_step(cfg, run, step)
        took, cpu_took = time.perf_counter() - tick, time.process_time() - cpu_tick
        step_peaks.append(peaks.end_step())
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
            "phases": peaks.summary(args.warmup), "memory": memory_report(setup_mb, step_peaks),
            **summary(times, tokens, cpu)}


def memory_report(setup_mb: dict, step_peaks: list[float | None]) -> dict:
    """What a framework's process held: after setup (models loaded, before any step), the peak of each
    step (VmHWM reset at its start), and the process's own peak: the largest of setup's peak (loading;
    read before the first reset), each step's and the one since the last reset."""
    peaks = [p for p in (setup_mb.get("peak"), *step_peaks, memory_mb()["peak"]) if p is not None]
    return {"setup_rss_mb": setup_mb.get("rss"), "setup_anon_mb": setup_mb.get("anon"),
            "setup_file_mb": setup_mb.get("file"), "setup_peak_mb": setup_mb.get("peak"),
            "step_peak_mb": step_peaks, "peak_mb": max(peaks) if peaks else None}
