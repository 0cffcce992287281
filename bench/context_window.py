"""A dynamic context window against fixed ones, in the tiny world: GRPO runs on linear equations
(recipes/tiny/zero-linear.yaml) with the same seed, prompts and steps, then held-out pass@1 against the
completion tokens each had generated, as a Markdown table and a PNG.

    python bench/context_window.py --model runs/demo/base/final                 # every run, then the report
    python bench/context_window.py --model runs/demo/base/final --steps 60 --runs short long adaptive
    python bench/context_window.py --out runs/context-window --plot docs/img/context-window.png  # report only

The runs (each `r1 grpo` in its own process, one after another, OMP_NUM_THREADS=1):
- short:    max_new_tokens = --short (32 by default: a linear equation's worked solution is ~35-80 tokens,
            a direct answer ~10, so the window cuts nearly every reasoning sample);
- long:     max_new_tokens = --long (96: longer than any worked solution the base model was taught);
- staged:   --short until step --stage-at, then --long;
- adaptive: starts at --short and grows by --grow when more than --threshold of a step's completions
            were truncated, --patience steps in a row, up to --long;
- eager:    the same, growing x2 after a single such step (patience 1);
- any:      growing x2 after any step with a truncated completion (threshold 0, patience 1);
- masked:   adaptive with mask_truncated (a cut completion leaves the loss instead of scoring 0).
Every eval (held-out linear problems, k samples each) uses the long window, so the three pass@1 curves
measure the policy, not the eval budget. A run whose directory already holds `bench_wall.json` is not
run again (delete the directory to redo it). Training tokens are the sum over steps of
completion_len_mean x prompts_per_step x group_size (exact: no dynamic sampling here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "tiny" / "zero-linear.yaml"
RUNS = ("short", "long", "staged", "adaptive", "eager", "any", "masked")
BENCHMARK = "tiny:linear"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="base model directory (runs are skipped without it: report only)")
    p.add_argument("--out", default="runs/context-window", help="one subdirectory per run")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--eval-problems", type=int, default=100)
    p.add_argument("--eval-k", type=int, default=4)
    p.add_argument("--short", type=int, default=32)
    p.add_argument("--long", type=int, default=96)
    p.add_argument("--grow", type=float, default=1.5, help="adaptive: grow_factor")
    p.add_argument("--threshold", type=float, default=0.1, help="adaptive: truncated_threshold")
    p.add_argument("--patience", type=int, default=2, help="adaptive: patience")
    p.add_argument("--stage-at", type=int, default=11, help="staged: the first step of the long window")
    p.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="an extra override for every run (e.g. prompts_per_step=4)")
    p.add_argument("--plot", help="the PNG to write (default OUT/context-window.png)")
    return p.parse_args(argv)


def run_overrides(args: argparse.Namespace) -> dict[str, list[str]]:
    """The `key=value` overrides of each run, on top of the recipe."""
    common = [f"max_steps={args.steps}", f"eval_every={args.eval_every}", f"eval_k={args.eval_k}",
              f"eval_problems={args.eval_problems}", f"eval_max_new_tokens={args.long}",
              f"eval_benchmarks=[{BENCHMARK}]", "save_every=0", *args.set]
    short = [f"max_new_tokens={args.short}", *common]
    adaptive = ["context_schedule.kind=adaptive", f"context_schedule.cap={args.long}"]
    grow = [f"context_schedule.grow_factor={args.grow}", f"context_schedule.patience={args.patience}",
            f"context_schedule.truncated_threshold={args.threshold}"]
    eager = ["context_schedule.grow_factor=2", "context_schedule.patience=1"]
    runs = {"short": short, "long": [f"max_new_tokens={args.long}", *common],
            "staged": ["context_schedule.kind=staged", *short,
                       f"context_schedule.stages=[[{args.stage_at},{args.long}]]"],
            "adaptive": [*adaptive, *grow, *short],
            "eager": [*adaptive, *eager, f"context_schedule.truncated_threshold={args.threshold}", *short],
            "any": [*adaptive, *eager, "context_schedule.truncated_threshold=0", *short],
            "masked": [*adaptive, *grow, "mask_truncated=true", *short]}
    return {name: runs[name] for name in args.runs}


def train(model: str, out: Path, overrides: list[str]) -> None:
    """One `r1 grpo` run in a child process; its wall time goes to out/bench_wall.json."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "r1.cli", "grpo", "-c", str(RECIPE), f"model={model}",
               f"output_dir={out}", *overrides]
    print("$", " ".join(command[1:]), flush=True)
    start = time.time()
    subprocess.run(command, env=env, check=True)
    (out / "bench_wall.json").write_text(json.dumps({"wall_s": time.time() - start, "command": command[1:]}))


def summarise(run: Path) -> dict:
    """A run's curve (step, cumulative training tokens, held-out pass@1) and its totals, from log.jsonl."""
    import yaml

    from r1.train.telemetry import read_log

    cfg = yaml.safe_load((run / "grpo_config.yaml").read_text())
    per_step = cfg["prompts_per_step"] * cfg["group_size"]
    rows = read_log(run / "log.jsonl")
    key = f"eval/{BENCHMARK}/pass@1"
    tokens, curve, steps = 0.0, [], [row for row in rows if row["step"] > 0]
    for row in rows:
        if row["step"] > 0:
            tokens += row["completion_len_mean"] * per_step
        if row.get(key) is not None:
            curve.append((row["step"], tokens, row[key]))
    timed = run / "bench_wall.json"
    wall = json.loads(timed.read_text())["wall_s"] if timed.is_file() else None
    return {"curve": curve, "tokens": tokens, "pass@1": curve[-1][2] if curve else None,
            "best": max(curve, key=lambda point: point[2]) if curve else None,
            "windows": [row["max_new_tokens"] for row in steps],
            "lengths": [row["completion_len_mean"] for row in steps],
            "truncated": sum(row["truncated_frac"] for row in steps) / max(1, len(steps)),
            "train_s": sum(row["time_step"] for row in steps), "wall_s": wall, "steps": len(steps)}


def table(results: dict[str, dict]) -> str:
    """The Markdown table of the runs."""
    lines = ["| run | window (first → last) | steps | held-out pass@1 (start → end) | best (step) | training "
             "completion tokens | mean truncated share | time in steps | wall time (evals included) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        wall = f"{r['wall_s']:.0f} s" if r["wall_s"] is not None else "—"
        cells = [name, f"{r['windows'][0]} → {r['windows'][-1]}", str(r["steps"]),
                 f"{r['curve'][0][2]:.1%} → {r['pass@1']:.1%}", f"{r['best'][2]:.1%} ({r['best'][0]})",
                 f"{r['tokens']:,.0f}", f"{r['truncated']:.1%}", f"{r['train_s']:.0f} s", wall]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict[str, dict], path: Path) -> None:
    """Left: held-out pass@1 against training tokens (symlog: the short runs' tokens are a few percent of
    the long run's); right: each run's mean completion length (solid) and window (dotted) per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for name, r in results.items():
        _, tokens, scores = zip(*r["curve"])
        line = left.plot(tokens, scores, marker="o", label=name)[0]
        steps = range(1, len(r["windows"]) + 1)
        right.plot(steps, r["lengths"], color=line.get_color())
        right.step(steps, r["windows"], where="post", linestyle=":", color=line.get_color())
    left.set_xscale("symlog", linthresh=1e4)
    left.set(xlabel="completion tokens generated in training (symlog)",
             ylabel=f"held-out pass@1 ({BENCHMARK})",
             title="pass@1 against training tokens")
    right.set(xlabel="step", ylabel="tokens", title="mean completion length (solid) and window (dotted)")
    left.legend(fontsize=8)  # one legend: a run has the same colour in both panels
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    if args.model:
        for name, overrides in run_overrides(args).items():
            if not (out / name / "bench_wall.json").is_file():
                train(args.model, out / name, overrides)
    results = {name: summarise(out / name) for name in args.runs if (out / name / "log.jsonl").is_file()}
    if not results:
        sys.exit(f"no runs under {out}: give --model to run them")
    print(table(results))
    path = Path(args.plot or out / "context-window.png")
    plot(results, path)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
