"""`r1 demo`: the whole tiny world on a CPU. For now: the base model and its held-out pass@1 per task family.

Later stages (R1-Zero, cold start, rejection sampling, distillation) extend this same entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from rich.console import Console
from rich.table import Table

from r1.config import StageConfig, save_config
from r1.errors import R1Error
from r1.eval.report import markdown_table
from r1.progress import console


class DemoConfig(StageConfig):
    output_dir: str = "runs/demo"
    """Everything the demo writes goes below this directory."""
    base_model: str | None = None
    """Directory of the tiny base model; default `<output_dir>/base`. Reused once built."""
    pretrain: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the pretrain stage's fields (see `r1 pretrain`), e.g. pretrain.max_steps=50."""
    families: list[str] = ["arithmetic", "linear", "countdown"]
    """Task families to evaluate."""
    eval_problems: int = 100
    """Held-out problems per family."""
    k: int = 8
    """Samples per problem."""
    temperature: float = 1.0
    """Sampling temperature of the eval (1.0: the base model's own distribution)."""
    max_new_tokens: int = 300
    """Longest completion."""


def run_demo(cfg: DemoConfig) -> dict[str, Any]:
    from pydantic import ValidationError

    from r1.config import describe_validation_error
    from r1.eval.run import EvalConfig, run_eval
    from r1.models.pretrain import PretrainConfig, is_pretrained, pretrain

    out = Path(cfg.output_dir)
    save_config(cfg, out / "demo_config.yaml")
    base = Path(cfg.base_model or out / "base")
    try:
        pre_cfg = PretrainConfig(output_dir=str(base), seed=cfg.seed, **cfg.pretrain)
    except ValidationError as err:
        raise R1Error(describe_validation_error(err, PretrainConfig, "demo: pretrain")) from None
    if is_pretrained(base):
        console.print(f"demo: reusing the base model in {base}")
    else:
        pretrain(pre_cfg)
    results: dict[str, Any] = {}
    for family in cfg.families:
        eval_cfg = EvalConfig(model=str(base), benchmark=f"tiny:{family}", n=cfg.eval_problems, k=cfg.k,
                              temperature=cfg.temperature, top_p=1.0, suffix="",
                              max_new_tokens=cfg.max_new_tokens, output_dir=str(out / "eval_base" / family),
                              seed=cfg.seed)
        results[family] = run_eval(eval_cfg)
    _print_table(results, cfg, base, out)
    return results


def _print_table(results: dict[str, Any], cfg: DemoConfig, base: Path, out: Path) -> None:
    table = Table(title=f"Tiny base model, held-out problems, pass@1 over k={cfg.k} at T={cfg.temperature}")
    for column in ("family", "problems", "pass@1", f"pass@{cfg.k}", "mean tokens"):
        table.add_column(column)
    for family, s in results.items():
        table.add_row(family, str(s["n"]), f"{100 * s['pass@1']:.1f}%", f"{100 * s[f'pass@{cfg.k}']:.1f}%",
                      f"{s['mean_tokens']:.1f}")
    stdout = Console()  # results on stdout; progress bars and notes stay on stderr
    stdout.print(table)
    (out / "results.md").write_text(markdown_table(results, cfg.k))
    stdout.print(f"base model: {base}\nsamples and summaries: {out / 'eval_base'}\ntable: {out / 'results.md'}")
