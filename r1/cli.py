"""The `r1` command line: one subcommand per stage, each `r1 CMD -c recipe.yaml key=value ...`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from r1.errors import R1Error

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="The DeepSeek-R1 recipe, end to end, from a laptop CPU to GPUs.")
tasks_app = typer.Typer(no_args_is_help=True, help="Tiny-world task generators.")
app.add_typer(tasks_app, name="tasks")

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML recipe.")]
Overrides = Annotated[Optional[list[str]], typer.Argument(help="key=value overrides of the recipe.")]


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _run(fn, *args) -> None:
    """Run a stage; bad input becomes one line on stderr and exit status 2, never a traceback."""
    _quiet_libraries()
    try:
        fn(*args)
    except R1Error as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: everything written so far is kept; run the same command to resume",
                   err=True)
        raise typer.Exit(130) from None


def _load(cls, config: Optional[Path], overrides: Optional[list[str]], **defaults):
    from r1.config import load_config

    return load_config(cls, config, overrides or [], **defaults)


@app.command()
def demo(config: ConfigOpt = None, overrides: Overrides = None) -> None:
    """The main job on the tiny world: pretrain the base model (cached), evaluate it per task family."""
    from r1.demo import DemoConfig, run_demo

    _run(lambda: run_demo(_load(DemoConfig, config, overrides)))


@app.command()
def pretrain(config: ConfigOpt = None, overrides: Overrides = None) -> None:
    """Pretrain the tiny base model (tokenizer + Llama decoder) on the task corpus; resumes if stopped."""
    from r1.models.pretrain import PretrainConfig, pretrain as run

    _run(lambda: run(_load(PretrainConfig, config, overrides)))


@app.command("eval")
def evaluate(
    config: ConfigOpt = None,
    overrides: Overrides = None,
    model: Annotated[Optional[str], typer.Option(help="Local HF model directory.")] = None,
    benchmark: Annotated[Optional[str], typer.Option(help="gsm8k, math500, aime24, mbpp, tiny:<family>.")] = None,
    data: Annotated[Optional[str], typer.Option(help="JSONL file, datasets dir, or hf:NAME.")] = None,
    task: Annotated[Optional[str], typer.Option(help="Scoring of --data: math, gsm8k, code, tiny.")] = None,
    k: Annotated[Optional[int], typer.Option(help="Samples per problem.")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="Sampling temperature.")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Nucleus sampling.")] = None,
    max_new_tokens: Annotated[Optional[int], typer.Option("--max-new-tokens", help="Longest completion.")] = None,
    n: Annotated[Optional[int], typer.Option(help="Only the first n problems.")] = None,
    out: Annotated[Optional[str], typer.Option(help="Output directory.")] = None,
) -> None:
    """Sample k completions per problem and report pass@1, pass@k (and cons@k); resumes if stopped."""
    from r1.eval.report import markdown_table, summary_rows
    from r1.eval.run import EvalConfig, run_eval

    flags = {"model": model, "benchmark": benchmark, "data": data, "task": task, "k": k,
             "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens, "n": n,
             "output_dir": out}
    extra = [f"{key}={value}" for key, value in flags.items() if value is not None]

    def go():
        name = (benchmark or Path(data or "eval").stem).replace(":", "-")
        cfg = _load(EvalConfig, config, [*(overrides or []), *extra], output_dir=f"runs/eval/{name}")
        summary = run_eval(cfg)
        typer.echo(markdown_table(summary_rows(summary), summary["k"]))

    _run(go)


@app.command()
def score(
    data: Annotated[str, typer.Option(help="Problems: JSONL (id, problem, answer or test_list) or datasets dir.")],
    completions: Annotated[str, typer.Option(help="JSONL lines {id, completion}; repeated ids are k samples.")],
    task: Annotated[str, typer.Option(help="math, gsm8k, code or tiny.")],
    out: Annotated[Optional[Path], typer.Option(help="Also write the summary JSON here.")] = None,
) -> None:
    """Score completions: prints a summary, then as its last line one JSON object with pass@1, cons@k, pass@k."""
    import json

    from r1.eval.report import markdown_table, summary_rows
    from r1.eval.score import score_files

    def go():
        summary = score_files(data, completions, task)
        k = summary["k"]
        typer.echo(markdown_table(summary_rows(summary), k))
        if summary["missing_samples"]:
            typer.echo(f"{summary['missing_samples']} missing samples counted as wrong "
                       f"({summary['problems_without_completion']} problems had no completion)")
        line = {"n": summary["n"], "k": k, "pass@1": summary["pass@1"], "cons@k": summary[f"cons@{k}"],
                "pass@k": summary[f"pass@{k}"], "missing_samples": summary["missing_samples"]}
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(summary, indent=2))
        typer.echo(json.dumps(line))

    _run(go)


@tasks_app.command("export")
def tasks_export(
    family: Annotated[str, typer.Option(help="Task family name, or 'all'.")],
    split: Annotated[str, typer.Option(help="train or test.")],
    n: Annotated[int, typer.Option(help="Number of problems.")],
    out: Annotated[Path, typer.Option(help="Output JSONL file.")],
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    difficulty: Annotated[Optional[int], typer.Option(help="Difficulty (default: the family's).")] = None,
) -> None:
    """Write n problems of a family and split as JSONL records (id, task, problem, answer, solution)."""
    import json

    from r1.tasks import generate

    def go():
        records = generate(family, split, n, seed=seed, difficulty=difficulty)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        typer.echo(f"wrote {len(records)} {split} problems to {out}")

    _run(go)


@tasks_app.command("list")
def tasks_list() -> None:
    """The task families and their default difficulty."""
    from r1.tasks import FAMILIES

    for name, family in FAMILIES.items():
        typer.echo(f"{name}\t(default difficulty {family.default_difficulty})\t{sys.modules[type(family).__module__].__doc__.splitlines()[0]}")


@app.command()
def grpo(config: ConfigOpt = None, overrides: Overrides = None) -> None:
    """GRPO (R1-Zero): sample G completions per prompt, reward them, update the policy; resumes if stopped."""
    from r1.grpo.config import GRPOConfig
    from r1.grpo.trainer import train

    _run(lambda: train(_load(GRPOConfig, config, overrides)))


@app.command()
def sft(config: ConfigOpt = None, overrides: Overrides = None) -> None:
    """Supervised fine-tuning on prompt/response or chat records, loss on the responses; resumes if stopped."""
    from r1.sft import SFTConfig, train

    _run(lambda: train(_load(SFTConfig, config, overrides)))


@app.command("rejection-sample")
def rejection_sample(config: ConfigOpt = None, overrides: Overrides = None) -> None:
    """Stage-3 data: k samples per prompt, the correct ones, filtered and mixed, as JSONL for `r1 sft`."""
    from r1.rejection import RejectionConfig
    from r1.rejection.run import run

    _run(lambda: run(_load(RejectionConfig, config, overrides)))


@app.command()
def plot(run_dir: Annotated[Path, typer.Argument(help="A GRPO output_dir (with log.jsonl).")]) -> None:
    """Write PNG curves of a GRPO run (accuracy, response length, reward vs step) into RUN_DIR/plots."""
    from r1.plot import plot_run

    def go():
        for path in plot_run(run_dir):
            typer.echo(f"wrote {path}")

    _run(go)


if __name__ == "__main__":
    app()
