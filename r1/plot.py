"""`r1 plot RUN_DIR`: the curves of a GRPO run as PNGs, from its log.jsonl (the paper's Figures 2 and 3).

    r1 plot runs/tiny-zero    # -> runs/tiny-zero/plots/{accuracy,length,reward}.png

Noisy per-step curves get a moving average drawn over them; held-out pass@1 and mean length (eval
rows, step 0 = before RL) are drawn as points; the length plot shows each step's context window.
"""

from __future__ import annotations

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


def plot_run(run_dir: str | Path) -> list[Path]:
    """Write accuracy.png, length.png and reward.png under RUN_DIR/plots; returns their paths."""
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
    out = run / "plots"
    out.mkdir(exist_ok=True)
    figures = {
        "accuracy": ("accuracy", ["accuracy"], "pass@1"),
        "length": ("mean response length (tokens)", ["completion_len_mean"], "mean_tokens"),
        "reward": ("reward", [k for k in rows[-1] if k == "reward" or k.startswith("reward/")], None),
    }
    written = []
    for name, (ylabel, keys, with_eval) in figures.items():
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for key in keys:
            _draw(ax, *_series(rows, key), label=f"training batch {key}" if name != "reward" else key)
        if name == "length":
            _window(ax, rows)
        if with_eval:
            evals = {k for row in rows for k in row if k.startswith("eval/") and k.endswith(with_eval)}
            for key in sorted(evals):
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
    return written
