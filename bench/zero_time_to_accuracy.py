"""Time to accuracy: R1-Zero on tiny arithmetic from one base model, r1 against TRL's GRPOTrainer, wall
seconds until held-out pass@1 first reaches 90%.

    pip install -e ".[bench]"
    r1 demo                                            # makes runs/demo/base/final, the base model
    python bench/zero_time_to_accuracy.py --threads 1  # 3 seeds x (TRL, r1-same, r1-best); ~15 min
    python bench/zero_time_to_accuracy.py --seeds 1 --rows trl r1-best --out runs/bench/tta

What it does, for each seed (0, 1, 2 ...) and each row in turn (TRL, r1-same, r1-best, then the next
seed, so a change in the machine's load hits every row alike), each run in its own fresh process:
1. Trains R1-Zero style from --model (recipes/tiny/zero.yaml's settings: beta 0, lr 1e-4 constant,
   16 prompts x 8 completions, 64 new tokens, T 1.0, stop at </answer>, chat template, reward 0.7
   accuracy + 0.3 format) on the same 5,000 'train' arithmetic problems (seeded by the run's seed).
2. Every --eval-every steps, and before the first, stops the clock and evaluates the live policy with
   one evaluator for every row (bench/tta_workers.py `HeldOut`): --eval-problems held-out ('test')
   problems, one sample each at T 1.0 with a fixed seed, through r1's uncompiled rollout engine, scored
   by r1's verifier. The torch RNG is restored after each eval, so evaluating changes no training sample.
3. Stops when pass@1 first reaches --target (the time recorded), or after --max-seconds of training
   (reported as '>cap').
The clock starts before the model is loaded (imports excluded) and runs through setup, every step and
any compile; only the evals are left out. The table gives, per run, the time to target, the steps it
took and the median seconds per step; the last line is `ratio TRL/r1-best time to 90%: X.XX (r1-same
Y.YY)`, medians over the seeds. --out DIR gets every eval point of every run in a JSON file.

The rows:
- trl: TRL's GRPOTrainer with the recipe's settings (loss_type grpo, scale_rewards group, eps 0.2,
  grad clip 1.0, AdamW, fp32, one generation batch per optimizer step, gradient checkpointing off:
  bench/grpo_common.py trl_config). Two adaptations, neither a change of what is trained: the stop
  string </answer> (one token in the tiny tokenizer) joins the model's eos ids, which TRL stops at
  and masks after, as r1 does with a stop token; and the reward is r1's, given the completion text
  decoded with the tokenizer's special tokens kept (TRL's own decode deletes the <think>/<answer>
  tags, which are special tokens in the tiny tokenizer, and every completion would score 0).
- r1-same: r1's GRPO with exactly those settings.
- r1-best: r1 with features TRL lacks, listed in the row's label (--best KEY=VALUE sets them; the
  default is BEST below).
--compile turns on torch.compile in the trl and r1-same rows (TRL's torch_compile, r1's compile); the
compile falls inside the timed run. r1-best sets its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from grpo_common import machine, quiet_transformers, run_worker, versions

HERE = Path(__file__).resolve()
ROWS = {"trl": "trl", "r1-same": "r1", "r1-best": "r1"}  # row: the worker that runs it
BEST = {"filter_equal_groups": True, "compile": False}
"""r1-best's settings on top of r1-same's: DAPO dynamic sampling (TRL has none), uncompiled. Measured on the
demo base (bench/RESULTS.md): the target comes in ~10-12 steps, and compiling (11-27 s even from a filled
inductor cache) never paid for itself in so few steps, in r1 or in TRL."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="runs/demo/base/final", help="the base model (HF directory)")
    p.add_argument("--seeds", type=int, default=3, help="runs per row, seeds 0, 1, ...")
    p.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    p.add_argument("--best", action="append", default=None, metavar="KEY=VALUE",
                   help=f"r1-best's GRPOConfig fields (repeatable; default {BEST})")
    p.add_argument("--target", type=float, default=0.9, help="held-out pass@1 to reach")
    p.add_argument("--eval-every", type=int, default=2, help="steps between evals")
    p.add_argument("--eval-problems", type=int, default=500, help="held-out problems per eval")
    p.add_argument("--max-seconds", type=float, default=600, help="training seconds before a run gives up")
    p.add_argument("--max-steps", type=int, default=1000, help="steps before a run gives up")
    p.add_argument("--stop-at-target", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--prompts", type=int, default=16, help="prompts per step")
    p.add_argument("--group", type=int, default=8, help="completions per prompt (G)")
    p.add_argument("--new-tokens", type=int, default=64, help="longest completion")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--train-problems", type=int, default=5000)
    p.add_argument("--threads", type=int, default=1, help="torch threads in every process")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False,
                   help="torch.compile in the trl and r1-same rows")
    p.add_argument("--out", help="write every number, each run's curve included, to OUT/zero_time_to_accuracy.json")
    p.add_argument("--workdir", help="scratch directory (default: a temporary one, removed)")
    p.add_argument("--worker", choices=["trl", "r1"], help=argparse.SUPPRESS)
    p.add_argument("--row", choices=list(ROWS), help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.best = parse_best(args.best) if args.best is not None else dict(BEST)
    # what bench/grpo_common.py's config builders read: the recipe's objective, one run of max_steps
    args.beta, args.stop, args.warmup, args.steps = 0.0, ["</answer>"], 0, args.max_steps
    return args


def parse_best(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"zero_time_to_accuracy: --best {pair!r}: expected KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def build_world(args: argparse.Namespace, work: Path) -> dict:
    """The base model's directory, the run's training records (what r1 draws itself for families=
    [arithmetic], train_problems, seed) and the held-out problems (the same for every run)."""
    from r1.eval.data import load_benchmark
    from r1.models.load import load_model
    from r1.tasks import generate

    model_dir = Path(args.model).resolve()
    if not (model_dir / "config.json").is_file():
        raise SystemExit(f"zero_time_to_accuracy: no model at {args.model}; run `r1 demo` first (it writes "
                         "runs/demo/base/final), or `r1 pretrain -c recipes/tiny/pretrain.yaml` and pass "
                         "--model runs/tiny-base/final")
    quiet_transformers()
    records = generate("arithmetic", "train", args.train_problems, args.seed)
    held_out, _ = load_benchmark("tiny:arithmetic", args.eval_problems, seed=0)
    for name, rows in (("records", records), ("held_out", held_out)):
        (work / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    parameters = sum(p.numel() for p in load_model(str(model_dir)).parameters())
    return {"model_dir": str(model_dir), "records": str(work / "records.jsonl"), "n_records": len(records),
            "held_out": str(work / "held_out.jsonl"), "parameters": parameters}


def run_all(args: argparse.Namespace, argv: list[str], work: Path) -> list[dict]:
    """Every (seed, row) run, seeds outer and rows inner; a line per run as it ends."""
    from grpo_common import without_workdir

    runs = []
    for seed in range(args.seeds):
        args.seed = seed
        (work / "world.json").write_text(json.dumps(build_world(args, work)))
        for row in args.rows:
            shutil.rmtree(work / "r1", ignore_errors=True)
            shutil.rmtree(work / "trl", ignore_errors=True)
            argv_run = [*without_workdir(argv), "--row", row, "--seed", str(seed)]
            out = run_worker(HERE, ROWS[row], argv_run, work, args.threads)
            runs.append({"row": row, "seed": seed, **out, **stats(out)})
            print(run_line(args, runs[-1]), flush=True)
    return runs


def stats(run: dict) -> dict:
    """Time and steps to target (None: not reached), median s/step, first step's seconds (compiles)."""
    ends = run["step_ends"]
    steps = [b - a for a, b in zip([run["setup_s"], *ends], ends)]
    reached = run["reached"]
    return {"time_to_target": reached["train_s"] if reached else None,
            "cpu_to_target": reached["train_cpu_s"] if reached else None,
            "steps_to_target": reached["step"] if reached else None,
            "median_step_s": statistics.median(steps[1:] or steps) if steps else None,
            "first_step_s": steps[0] if steps else None, "steps": len(ends),
            "final_pass": run["points"][-1]["pass@1"], "base_pass": run["points"][0]["pass@1"]}


def fmt_time(args: argparse.Namespace, run: dict) -> str:
    t = run["time_to_target"]
    return f"{t:.1f}" if t is not None else f">{run['train_s']:.0f}"


def run_line(args: argparse.Namespace, r: dict) -> str:
    return (f"{r['row']:8s} seed {r['seed']}: time to {args.target:.0%} {fmt_time(args, r):>6s} s, "
            f"{r['steps_to_target'] or '-'} steps (of {r['steps']}), {r['median_step_s']:.3f} s/step median, "
            f"first step {r['first_step_s']:.1f} s, setup {r['setup_s']:.1f} s, CPU to target "
            f"{r['cpu_to_target'] or 0:.1f} s, pass@1 "
            f"{r['base_pass']:.1%} -> {r['final_pass']:.1%}; {r['label']}")


def median_time(runs: list[dict]) -> tuple[float, bool]:
    """Median time to target over runs; a run that never reached it counts as its time cap (a lower
    bound: the flag says so)."""
    times = [r["time_to_target"] if r["time_to_target"] is not None else r["train_s"] for r in runs]
    return statistics.median(times), any(r["time_to_target"] is None for r in runs)


def median_cpu(runs: list[dict]) -> str:
    """Median CPU seconds of training to target (steadier than wall time on a shared machine)."""
    cpu = [r["cpu_to_target"] for r in runs if r["cpu_to_target"] is not None]
    return f"{statistics.median(cpu):.1f}" if len(cpu) == len(runs) else "-"


def report(args: argparse.Namespace, world: dict, runs: list[dict]) -> list[str]:
    v = versions()
    lines = [f"machine: {machine()}; torch {v['torch']}, transformers {v['transformers']}, trl {v['trl']}; "
             f"{args.threads} thread(s)",
             f"setup: {world['parameters'] / 1e6:.2f}M-param base {args.model}; {args.prompts} prompts x "
             f"{args.group}, {args.new_tokens} new tokens, T {args.temperature:g}, stop </answer>, beta 0, lr "
             f"{args.lr:g} constant; eval {args.eval_problems} held-out problems x 1 sample every "
             f"{args.eval_every} steps (not timed); target {args.target:.0%}, cap {args.max_seconds:g} s",
             "row      | seeds' time to target (s) | median s | median CPU s | median steps | median s/step | "
             "first step s"]
    medians = {}
    for row in args.rows:
        mine = [r for r in runs if r["row"] == row]
        medians[row] = median_time(mine)
        steps = [r["steps_to_target"] for r in mine if r["steps_to_target"] is not None]
        lines.append(f"{row:8s} | {' '.join(fmt_time(args, r) for r in mine):25s} | "
                     f"{'>' if medians[row][1] else ''}{medians[row][0]:.1f} | {median_cpu(mine)} | "
                     f"{statistics.median(steps) if steps else '-'} | "
                     f"{statistics.median(r['median_step_s'] for r in mine):.3f} | "
                     f"{statistics.median(r['first_step_s'] for r in mine):.1f}")
    if "r1-best" in medians:
        lines.append(f"r1-best: {next(r['label'] for r in runs if r['row'] == 'r1-best')}")
    if "trl" in medians and any(row in medians for row in ("r1-best", "r1-same")):
        lines.append(headline(medians, args.target))
    return lines


def headline(medians: dict, target: float) -> str:
    """TRL's median time over r1's; a row that did not reach the target makes it a bound (< or >)."""
    def ratio(row: str) -> str:
        (trl, trl_capped), (r1, r1_capped) = medians["trl"], medians[row]
        bound = ">" if trl_capped and not r1_capped else "<" if r1_capped and not trl_capped else ""
        return f"{bound}{trl / r1:.2f}" + (" (neither reached it)" if trl_capped and r1_capped else "")

    best = "r1-best" if "r1-best" in medians else "r1-same"
    extra = f" (r1-same {ratio('r1-same')})" if best == "r1-best" and "r1-same" in medians else ""
    return f"ratio TRL/{best} time to {target:.0%}: {ratio(best)}{extra}"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        from tta_workers import WORKERS

        work = Path(args.workdir)
        (work / f"{args.worker}.json").write_text(json.dumps(WORKERS[args.worker](args, work)))
        return
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="zero_tta-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        runs = run_all(args, argv, work)
        world = json.loads((work / "world.json").read_text())
        lines = report(args, world, runs)
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            Path(args.out, "zero_time_to_accuracy.json").write_text(json.dumps(
                {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join([sys.argv[0], *argv]),
                 "machine": machine(), "versions": versions(), "args": vars(args), "world": world,
                 "runs": runs, "lines": lines}, indent=2))
        print("\n".join(lines), flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
