"""`r1 demo`: the tiny world end to end on a CPU.

    tiny base model (pretrained once, then reused) -> held-out eval per task family
    -> R1-Zero (GRPO on arithmetic, rule rewards) -> the same eval -> a before/after table + curves

Later stages (cold start, rejection sampling, distillation) extend this same entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from rich.console import Console
from rich.table import Table

from r1.config import StageConfig, build_config, save_config
from r1.progress import console


class DemoConfig(StageConfig):
    output_dir: str = "runs/demo"
    """Everything the demo writes goes below this directory."""
    base_model: str | None = None
    """The tiny base model: a pretrain run directory (its final/ is the model) or a model directory;
    default `<output_dir>/base`. Built by pretraining unless finished already, then reused."""
    pretrain: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the pretrain stage's fields (see `r1 pretrain`), e.g. pretrain.max_steps=50."""
    zero: dict[str, Any] = Field(default_factory=lambda: {"max_steps": 30, "eval_every": 10})
    """Overrides of the R1-Zero (GRPO) stage's fields (see `r1 grpo`); zero.max_steps=0 skips it."""
    families: list[str] = ["arithmetic", "linear", "countdown"]
    """Task families to evaluate."""
    eval_problems: int = 100
    """Held-out problems per family."""
    k: int = 8
    """Samples per problem."""
    temperature: float = 1.0
    """Sampling temperature of the eval (1.0: the model's own distribution)."""
    max_new_tokens: int = 300
    """Longest completion."""


def run_demo(cfg: DemoConfig) -> dict[str, dict[str, Any]]:
    from r1.grpo.config import GRPOConfig
    from r1.grpo.trainer import train
    from r1.models.pretrain import PretrainConfig, is_pretrained, pretrain
    from r1.plot import plot_run

    out = Path(cfg.output_dir)
    save_config(cfg, out / "demo_config.yaml")
    base = Path(cfg.base_model or out / "base")  # a run directory stands for its final/ model
    # both stages' configs built and checked before minutes of work start
    pre_cfg = build_config(PretrainConfig, {"output_dir": str(base), "seed": cfg.seed, **cfg.pretrain},
                           "demo: pretrain")
    zero_cfg = build_config(GRPOConfig, {"model": str(base), "output_dir": str(out / "zero"), "seed": cfg.seed,
                                         **cfg.zero}, "demo: zero")
    if is_pretrained(base):
        console.print(f"demo: reusing the base model in {base}")
    else:
        pretrain(pre_cfg)
    results = {"base": _evaluate(cfg, base, out / "eval_base")}
    if zero_cfg.max_steps > 0:
        final = train(zero_cfg)
        plot_run(zero_cfg.output_dir)
        results["R1-Zero"] = _evaluate(cfg, final, out / "eval_zero")
    _report(results, cfg, base, out)
    from r1.report import write_report

    console.print(f"demo: report in {write_report(out)}")
    return results


def _evaluate(cfg: DemoConfig, model: Path, out: Path) -> dict[str, Any]:
    from r1.eval.run import EvalConfig, run_eval

    return {family: run_eval(EvalConfig(
        model=str(model), benchmark=f"tiny:{family}", n=cfg.eval_problems, k=cfg.k,
        temperature=cfg.temperature, top_p=1.0, suffix="", max_new_tokens=cfg.max_new_tokens,
        output_dir=str(out / family), seed=cfg.seed)) for family in cfg.families}


def _report(results: dict[str, dict[str, Any]], cfg: DemoConfig, base: Path, out: Path) -> None:
    """One row per family: pass@1 and mean length for each model, printed and saved as markdown."""
    models = list(results)
    columns = ["family", "problems"] + [f"{m} pass@1" for m in models] + [f"{m} tokens" for m in models]
    table = Table(title=f"Held-out problems, pass@1 over k={cfg.k} samples at T={cfg.temperature}")
    for column in columns:
        table.add_column(column)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for family in cfg.families:
        row = [family, str(results["base"][family]["n"])]
        row += [f"{100 * results[m][family]['pass@1']:.1f}%" for m in models]
        row += [f"{results[m][family]['mean_tokens']:.1f}" for m in models]
        table.add_row(*row)
        lines.append("| " + " | ".join(row) + " |")
    stdout = Console()  # results on stdout; progress bars and notes stay on stderr
    stdout.print(table)
    (out / "results.md").write_text("\n".join(lines) + "\n")
    stdout.print(f"base model: {base}\nsamples and summaries: {out}/eval_*\ntable: {out / 'results.md'}")
    if "R1-Zero" in results:
        stdout.print(f"R1-Zero policy: {out / 'zero' / 'final'}\ncurves: {out / 'zero' / 'plots'}")
