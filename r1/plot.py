"""`r1 plot RUN_DIR`: the curves of a GRPO run as PNGs, from its log.jsonl (the paper's Figures 2 and 3);
with --completions, the completions it logged as one Markdown page.

    r1 plot runs/tiny-zero                  # -> runs/tiny-zero/plots/{accuracy,length,reward,kl}.png
                                            #    (kl.png when it has a reference model, beta > 0)
                                            #    (+ overoptimisation.png for a stage-4 run)
    r1 plot runs/tiny-zero --completions    # -> runs/tiny-zero/completions.md

Noisy per-step curves get a moving average drawn over them; held-out pass@1 and mean length (eval
rows, step 0 = before RL) are drawn as points; the length plot shows each step's context window.
"""

from __future__ import annotations

import re
from itertools import groupby
from pathlib import Path
from typing import Any

from r1.errors import R1Error


def _series(rows: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    pairs = [(row["step"], row[key]) for row in rows if isinstance(row.get(key), (int, float))]
    return [s for s, _ in pairs], [v for _, v in pairs]


def _smooth(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def _draw(ax, steps: list[int], values: list[float], label: str) -> None:
    if len(values) >= 50:  # noisy: the raw curve faint, a trailing moving average over it
        ax.plot(steps, values, alpha=0.3, linewidth=1)
        color = ax.lines[-1].get_color()
        ax.plot(steps, _smooth(values, max(3, len(values) // 50)), label=label, color=color)
    else:
        ax.plot(steps, values, marker="o", markersize=3, label=label)


def _window(ax, rows: list[dict[str, Any]]) -> None:
    """Each step's context window (max_new_tokens, logged since context_schedule), the lengths' ceiling."""
    steps, windows = _series(rows, "max_new_tokens")
    if windows:
        ax.step(steps, windows, where="post", color="grey", linestyle=":", label="context window")


def plot_run(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write accuracy.png, length.png, reward.png and (with a reference model) kl.png into out_dir (default
    RUN_DIR/plots); returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from r1.train.telemetry import read_log

    run = Path(run_dir)
    log = run / "log.jsonl"
    if not log.is_file():
        raise R1Error(f"plot: {log} not found (give the output_dir of an `r1 grpo` run)")
    rows = [row for row in read_log(log) if "step" in row]
    if not rows:
        raise R1Error(f"plot: {log} has no step rows yet")
    out = Path(out_dir) if out_dir else run / "plots"
    figures = {
        "accuracy": ("accuracy", ["accuracy"], "pass@1"),
        "length": ("mean response length (tokens)", ["completion_len_mean"], "mean_tokens"),
        "reward": ("reward", [k for k in rows[-1] if k == "reward" or k.startswith("reward/")], None),
        "kl": ("KL to the reference model (k3, per token)", ["kl"], None),
    }
    if not any(_series(rows, "kl")[1]):  # beta=0: no reference model, the log's kl is 0, not a measurement
        del figures["kl"]
    evals = {name: sorted({k for row in rows for k in row if spec[2] and k.startswith("eval/")
                           and k.endswith(spec[2])}) for name, spec in figures.items()}
    # a figure with nothing of it in the log is left out: no empty PNG
    figures = {name: spec for name, spec in figures.items()
               if evals[name] or any(_series(rows, key)[0] for key in spec[1])}
    oracle = any(k.startswith("general/oracle/") for row in rows for k in row)
    if figures or oracle:
        out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (ylabel, keys, _) in figures.items():
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for key in keys:
            batch = name in ("accuracy", "length")  # beside held-out points of the same measure
            _draw(ax, *_series(rows, key), label=f"training batch {key}" if batch else key)
        if name == "length":
            _window(ax, rows)
        for key in evals[name]:
            ax.plot(*_series(rows, key), marker="s", linestyle="--", label=f"held-out {key[5:]}")
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.set_title(f"{run.name}: {ylabel} vs step")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    if oracle:
        written.append(_overoptimisation(plt, run, rows, out))
    if not written:
        raise R1Error(f"plot: {log} has no metrics to draw (accuracy, completion_len_mean, reward, kl or "
                      "eval/*); is it the log of an `r1 grpo` run?")
    return written


def _overoptimisation(plt, run: Path, rows: list[dict[str, Any]], out: Path) -> Path:
    """Stage 4: held-out general prompts scored by the reward models (what RL optimises) and by the
    hidden oracle, against step and against the KL to the starting model (Gao et al., 2022)."""
    evals = [row for row in rows if any(k.startswith("general/oracle/") for k in row)]
    oracle = {k.removeprefix("general/oracle/") for row in evals for k in row if k.startswith("general/oracle/")}
    keys = sorted({f"general/{kind}/{name}" for name in oracle for kind in ("rm", "oracle")
                   if any(f"general/{kind}/{name}" in row for row in evals)})  # what both of them judge
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    for ax, x_key, xlabel in ((axes[0], "step", "step"), (axes[1], "kl", "KL to the starting model (k3, per token)")):
        for key in keys:
            points = [(row.get(x_key, 0.0) if row["step"] else 0.0, row[key]) for row in evals if key in row]
            style = "-" if "/oracle/" in key else "--"
            ax.plot([x for x, _ in points], [y for _, y in points], style, marker="o", markersize=3,
                    label=key.removeprefix("general/"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("held-out general prompts: mean score")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{run.name}: reward models (dashed) vs the hidden oracle (solid)")
    fig.tight_layout()
    path = out / "overoptimisation.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def completions_view(run_dir: str | Path) -> Path:
    """Write RUN_DIR/completions.md from completions.jsonl (r1.grpo.completions): per logged step, each
    prompt, then each completion with its reward components, reward and advantage; returns its path."""
    from r1.train.telemetry import read_log

    run = Path(run_dir)
    source = run / "completions.jsonl"
    if not source.is_file():
        raise R1Error(f"plot: {source} not found (an `r1 grpo` run writes it when log_completions_every > 0)")
    rows = read_log(source)
    if not rows:
        raise R1Error(f"plot: {source} has no completions yet")
    lines = [f"# {run.name}: completions", "",
             "Each logged step's first prompts, each with its G completions: reward components, the "
             "weighted reward, and the advantage (the reward against its siblings').", ""]
    for step, in_step in groupby(rows, key=lambda row: row["step"]):
        lines += [f"## Step {step}", ""]
        for _, group in groupby(in_step, key=lambda row: row["group"]):
            group = list(group)
            answer = f", answer `{group[0]['answer']}`" if group[0].get("answer") is not None else ""
            lines += [f"### {group[0].get('id') or 'prompt'}{answer}", "", *_block(group[0]["prompt"])]
            for row in group:
                parts = ", ".join(f"{name} {_number(v)}" for name, v in row["rewards"].items())
                cut = "" if row["finished"] else ", truncated"
                lines += [f"**#{row['sample']}** reward {_number(row['reward'])} ({parts}), "
                          f"advantage {_number(row['advantage'], signed=True)}{cut}", "",
                          *_block(row["completion"])]
    out = run / "completions.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def _number(value: float | None, signed: bool = False) -> str:
    """A score as text; None (a component that does not apply, or NaN) as n/a."""
    if value is None:
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3g}"


def _block(text: str) -> list[str]:
    """`text` verbatim in a fenced block longer than any run of backticks in it (no HTML, no Markdown)."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{fence}text", text, fence, ""]
