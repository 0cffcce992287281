"""What the GRPO benchmarks against TRL share (bench/grpo_vs_trl.py: the tiny model; bench/grpo_realistic.py:
the Qwen2.5-0.5B shape): the command-line settings both take, the r1 and TRL configs built from them,
and the parent's run/report loop. The workers that run each framework in its own process are in
bench/grpo_workers.py (TRL, r1) and bench/grpo_parts.py (r1's step parts alone).

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
    """r1's GRPOConfig for the benchmark's shape; `extra` adds or overrides fields."""
    from r1.grpo.config import GRPOConfig

    return GRPOConfig(**{**dict(
        output_dir=str(out), model=world["model_dir"], families=["arithmetic"],
        train_problems=world["n_records"], prompts_per_step=args.prompts, group_size=args.group,
        max_new_tokens=args.new_tokens, temperature=args.temperature, top_p=1.0, stop=[],
        template="chat", beta=args.beta, mu=1, lr=args.lr, lr_schedule="constant", warmup_steps=0,
        weight_decay=0.0, max_grad_norm=1.0, eps_low=0.2, eps_high=0.2,
        loss_type="grpo", scale_rewards="group", grad_accum=1,
        rollout_batch_size=args.prompts * args.group, max_steps=args.warmup + args.steps,
        save_every=0, eval_every=0, precision="fp32", seed=args.seed, compile=args.compile), **extra})


def trl_config(args: argparse.Namespace, work: Path, **extra):
    """TRL's GRPOConfig with the same shape, objective and optimizer as `r1_config`; `extra` adds or
    overrides fields."""
    from trl import GRPOConfig as TRLConfig

    return TRLConfig(**{**dict(
        output_dir=str(work / "trl"), per_device_train_batch_size=args.prompts * args.group,
        gradient_accumulation_steps=1, num_generations=args.group, max_completion_length=args.new_tokens,
        beta=args.beta, num_iterations=1, epsilon=0.2, loss_type="grpo", scale_rewards="group",
        temperature=args.temperature, top_p=1.0, top_k=0, learning_rate=args.lr,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        optim="adamw_torch", max_steps=args.warmup + args.steps, use_cpu=True, bf16=False, fp16=False,
        gradient_checkpointing=False, logging_strategy="no", save_strategy="no", eval_strategy="no",
        report_to="none", disable_tqdm=True, dataloader_num_workers=0, log_completions=False,
        seed=args.seed, data_seed=args.seed, torch_compile=args.compile), **extra})


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
    """One result from a worker's rounds: every timed step pooled, the r1 split and the phases averaged."""
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
    if "phases" in out:  # seconds averaged over the rounds, peaks the largest
        out["phases"] = {name: {k: (statistics.fmean if k == "s" else max)(r["phases"][name][k] for r in runs)
                                for k in phase} for name, phase in runs[0]["phases"].items()}
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
    (TRL and r1 alternating --rounds times, r1's parts once; `workers` in their order, all of them
    unless --only) one after another, prints the report."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        work = Path(args.workdir)
        out = workers[args.worker](args, work)
        (work / f"{args.worker}.json").write_text(json.dumps(out))
        return
    only = args.only or list(workers)
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
            for name in workers:
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
