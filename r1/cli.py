"""The `r1` command line: one subcommand per stage, each `r1 CMD -c recipe.yaml key=value ...`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand

from r1.errors import R1Error
from r1.files import describe_os_error
from r1.stages import STAGES

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


REPORT_HINT = ("this is a bug in r1, not in your input: please report it with the command you ran and "
               "the traceback above")


def _run(fn, *args) -> None:
    """Run a stage. The one place where expected failures (bad input: R1Error; a file operation the
    machine refused: a path that is a file, unwritable, a full disk) become one line on stderr and exit
    status 2; anything else is a bug, shown with its traceback and a line asking to report it."""
    _quiet_libraries()
    try:
        fn(*args)
        _leave_process_group()
    except R1Error as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except OSError as err:
        line = describe_os_error(err)
        if line is None:
            _report_bug()
        typer.echo(f"error: {line}", err=True)
        raise typer.Exit(2) from None
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted: everything written so far is kept; run the same command to resume",
                   err=True)
        raise typer.Exit(130) from None
    except Exception:
        _report_bug()


def _leave_process_group() -> None:
    """Leave a launched run's process group once the stage is done (r1.runtime.leave_process_group);
    torch is imported only if the stage did."""
    if "torch.distributed" in sys.modules:
        from r1.runtime import leave_process_group

        leave_process_group()


def _report_bug() -> None:
    import traceback

    traceback.print_exc()
    typer.echo(f"internal error: {REPORT_HINT}", err=True)
    raise typer.Exit(1) from None


def _load(cls, config: Optional[Path], overrides: Optional[list[str]], **defaults):
    from r1.config import load_config

    return load_config(cls, config, overrides or [], **defaults)


@app.command()
def demo(
    config: Annotated[Optional[Path], typer.Option(
        "--config", "-c", help="Pipeline recipe (default: recipes/tiny/paper.yaml).")] = None,
    overrides: Annotated[Optional[list[str]], typer.Argument(
        help="key=value overrides of the pipeline: output_dir, seed, <stage>.<field>.")] = None,
) -> None:
    """The paper in miniature on the tiny world: pretraining (cached), R1-Zero, the R1 stages and
    distillation through `r1 pipeline`; prints one table and the paper's findings checked here."""
    from r1.demo import run_demo

    _run(lambda: run_demo(config, overrides or []))


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
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Delete samples an earlier eval left in "
                                            "the output directory (resume=false).")] = False,
) -> None:
    """Sample k completions per problem and report pass@1, pass@k (and cons@k); resumes if stopped."""
    from r1.eval.report import markdown_table, summary_rows
    from r1.eval.run import EvalConfig, run_eval

    flags = {"model": model, "benchmark": benchmark, "data": data, "task": task, "k": k,
             "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens, "n": n,
             "output_dir": out, "resume": False if overwrite else None}
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


def _write_records(make, out: Path, what: str) -> None:
    """Run a stage that writes `make()`'s records to `out` as JSONL, then says how many."""
    import json

    def go():
        records = make()
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        typer.echo(f"wrote {len(records)} {what} to {out}")

    _run(go)


def _names(text: Optional[str]) -> Optional[list[str]]:
    """A comma-separated option as a list (None: the command's default)."""
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


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
    from r1.tasks import generate

    _write_records(lambda: generate(family, split, n, seed=seed, difficulty=difficulty), out,
                   f"{split} problems")


@tasks_app.command("cold-start")
def tasks_cold_start(
    n: Annotated[int, typer.Option(help="Number of records, split evenly over the families.")],
    out: Annotated[Path, typer.Option(help="Output JSONL file (r1 sft reads it as data=FILE).")],
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    families: Annotated[Optional[str], typer.Option(help="Comma-separated families (default: all).")] = None,
    difficulty: Annotated[Optional[int], typer.Option(help="Difficulty (default: each family's).")] = None,
    style: Annotated[str, typer.Option(help="prose (English sentences) or steps (the base corpus's steps, "
                                            "in English).")] = "prose",
) -> None:
    """Write n cold-start SFT records: train problems solved step by step in English, then a summary."""
    from r1.tasks.cold_start import cold_start_records

    _write_records(lambda: cold_start_records(n, seed=seed, families=_names(families), difficulty=difficulty,
                                              style=style), out, "cold-start records")


@tasks_app.command("non-reasoning")
def tasks_non_reasoning(
    n: Annotated[int, typer.Option(help="Number of records.")],
    out: Annotated[Path, typer.Option(help="Output JSONL file (r1 sft reads it as data=FILE).")],
    split: Annotated[str, typer.Option(help="train or test.")] = "train",
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    kinds: Annotated[Optional[str], typer.Option(help="Comma-separated kinds (default: all).")] = None,
) -> None:
    """Write n non-reasoning SFT records (identity, numbers in words, translation, ...): empty reasoning."""
    from r1.tasks.general import non_reasoning_records

    _write_records(lambda: non_reasoning_records(n, split=split, seed=seed, kinds=_names(kinds)),
                   out, f"non-reasoning {split} records")


@tasks_app.command("general-prompts")
def tasks_general_prompts(
    n: Annotated[int, typer.Option(help="Number of records.")],
    out: Annotated[Path, typer.Option(help="Output JSONL file (r1 sft reads it as data=FILE).")],
    split: Annotated[str, typer.Option(help="train or test.")] = "train",
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    kinds: Annotated[Optional[str], typer.Option(help="Comma-separated kinds (default: all).")] = None,
    responses: Annotated[bool, typer.Option(help="Add a written response of mixed quality to each.")] = True,
) -> None:
    """Write n general prompts (about a number, secrets) with their hidden truth, and a written response."""
    from r1.tasks.stages import general_records

    _write_records(lambda: general_records(n, split, seed, _names(kinds), responses), out,
                   f"general {split} records")


@tasks_app.command("list")
def tasks_list() -> None:
    """The task families and their default difficulty."""
    from r1.tasks import FAMILIES

    for name, family in FAMILIES.items():
        about = sys.modules[type(family).__module__].__doc__.splitlines()[0]
        typer.echo(f"{name}\t(default difficulty {family.default_difficulty})\t{about}")


def _stage_command(stage):
    def command(config: ConfigOpt = None, overrides: Overrides = None) -> None:
        _run(lambda: stage.run_fn()(_load(stage.config_class(), config, overrides)))

    command.__doc__ = stage.help
    return command


class _StageHelp(TyperCommand):
    """`r1 STAGE --help` ends with every config key and its help text, read from the config class when
    the help is shown (so `r1 --help` imports no stage)."""

    def format_help(self, ctx, formatter) -> None:
        from rich.markup import escape

        from r1.config import describe_fields

        self.epilog = escape("Config keys (in the recipe, or key=value):\n\n"
                             + describe_fields(STAGES[self.name].config_class()))
        super().format_help(ctx, formatter)


for _stage in STAGES.values():  # r1 pretrain, r1 sft, r1 grpo, ...: one command per registered stage
    if _stage.command:
        app.command(_stage.name, help=_stage.help, cls=_StageHelp)(_stage_command(_stage))


@app.command()
def pipeline(
    config: Annotated[Path, typer.Option("--config", "-c", help="Pipeline recipe (YAML with `stages`).")],
    overrides: Overrides = None,
    start: Annotated[Optional[str], typer.Option("--from", help="Re-run from this stage on.")] = None,
    only: Annotated[Optional[str], typer.Option("--only", help="Run only this stage.")] = None,
) -> None:
    """Run the stages of a recipe in order; finished stages are skipped, an interrupted one resumes."""
    from r1.pipeline import load_pipeline, run_pipeline

    _run(lambda: run_pipeline(load_pipeline(config, overrides or []), start=start, only=only))


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="A GRPO output_dir (with log.jsonl).")],
    completions: Annotated[bool, typer.Option(
        "--completions", help="Instead: the logged completions as RUN_DIR/completions.md.")] = False,
) -> None:
    """Write PNG curves of a GRPO run (accuracy, response length, reward, KL vs step) into RUN_DIR/plots."""
    from r1.plot import completions_view, plot_run

    def go():
        for path in [completions_view(run_dir)] if completions else plot_run(run_dir):
            typer.echo(f"wrote {path}")

    _run(go)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="An `r1 pipeline`, `r1 grpo` or `r1 demo` output_dir.")],
    out: Annotated[Optional[Path], typer.Option(help="Where to write it (default RUN_DIR/report.html).")] = None,
) -> None:
    """Write one self-contained HTML page of a run: stage table, curves, samples of each stage side by side."""
    from r1.report import write_report

    _run(lambda: typer.echo(f"wrote {write_report(run_dir, out)}"))


if __name__ == "__main__":
    app()
