"""What a report shows, read from a run directory: the stages, their evaluations, the GRPO runs whose
curves it draws and the reward-model and general-prompt rows of a pipeline.

Two kinds of directory are recognised (`r1 demo` writes a pipeline's):
- an `r1 pipeline` output_dir: a subdirectory per stage with its r1_stage.json; the stages in the
  recipe's order when the pipeline gives it, else in the order they finished (their markers' times);
- an `r1 grpo` output_dir (log.jsonl beside grpo_config.yaml or an r1_stage.json of kind grpo): its
  held-out evaluations during training (eval/step_N/) and, as a pipeline stage, after it (eval/T*/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1.errors import R1Error
from r1.pipeline import MARKER, DATA_FILE, StageEntry
from r1.results import general_rows, model_rows, pct, reward_model_rows, summary_rows
from r1.stages import Stage, get_stage

MAIN_TEMPERATURE = "0.6"  # the paper's; the table's style columns and the samples use it when measured


@dataclass
class Found:
    """A stage found on disk, shaped like r1.pipeline.Planned for r1.results' row functions."""

    entry: StageEntry
    stage: Stage
    out: Path
    finished: bool = True


@dataclass
class StageRow:
    """One row of the stage table; its evaluations are the `evals` rows whose "stage" is `name`."""

    name: str
    kind: str
    note: str = ""


@dataclass
class Run:
    """Everything a report shows (see the module docstring)."""

    what: str
    """pipeline or GRPO run."""
    run_dir: Path
    stages: list[StageRow]
    """The stage table's rows, in order (a GRPO run: one per evaluation)."""
    evals: list[dict[str, Any]]
    """r1.results.summary_rows rows: stage, T, family, dir (samples and problems) and the metrics."""
    curves: list[tuple[str, Path]]
    """(name, output_dir) of each GRPO run to draw, one section each."""
    reward_models: list[dict[str, Any]] = field(default_factory=list)
    general: list[dict[str, Any]] = field(default_factory=list)


def collect(run_dir: str | Path, order: list[str] | None = None) -> Run:
    """The report's content for RUN_DIR (a pipeline or a GRPO run; the module docstring)."""
    run = Path(run_dir)
    if not run.is_dir():
        raise R1Error(f"report: {run} is not a directory (give the output_dir of a pipeline, the demo or a GRPO run)")
    if (run / "log.jsonl").is_file() and ((run / "grpo_config.yaml").is_file() or _kind(run) == "grpo"):
        return _grpo(run)
    if _stage_dirs(run):
        return _pipeline(run, order)
    raise R1Error(f"report: {run} is not a run directory: expected <stage>/{MARKER} (an `r1 pipeline` "
                  "output_dir), log.jsonl with grpo_config.yaml (an `r1 grpo` output_dir)")


def _kind(stage_dir: Path) -> str | None:
    return _marker(stage_dir / MARKER).get("kind")


def _marker(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise R1Error(f"report: {path} is not JSON") from None


def _stage_dirs(run: Path) -> list[Path]:
    """Stage directories (an older copy set aside as <name>.stale is not a stage of the run)."""
    return [m.parent for m in run.glob(f"*/{MARKER}") if not m.parent.name.endswith(".stale")]


def _pipeline(run: Path, order: list[str] | None) -> Run:
    dirs = _stage_dirs(run)
    if order:
        known = {d.name: d for d in dirs}
        dirs = [known[name] for name in order if name in known]
    else:  # the order they finished in: the recipe's, unless a stage was re-run alone
        dirs.sort(key=lambda d: (d / MARKER).stat().st_mtime)
    found = []
    for stage_dir in dirs:
        marker = _marker(stage_dir / MARKER)
        try:
            stage = get_stage(str(marker.get("kind")))
        except R1Error as err:
            raise R1Error(f"report: {stage_dir / MARKER}: {err}") from None
        found.append(Found(StageEntry(name=stage_dir.name, kind=stage.name), stage, stage_dir,
                           bool(marker.get("finished"))))
    evals = model_rows(found)
    reward_models = reward_model_rows(found)
    rows = [StageRow(f.entry.name, f.stage.name, _note(f, evals, reward_models)) for f in found]
    curves = [(f.entry.name, f.out) for f in found if f.stage.name == "grpo" and (f.out / "log.jsonl").is_file()]
    return Run("pipeline", run, rows, evals, curves, reward_models, general_rows(found))


def _note(found: Found, evals: list[dict[str, Any]], reward_models: list[dict[str, Any]]) -> str:
    """What the stage table says of a stage besides its evaluations."""
    if not found.finished:
        return "not finished"
    if found.stage.produces == "data" and (found.out / DATA_FILE).is_file():
        with open(found.out / DATA_FILE, "rb") as f:
            return f"{sum(1 for _ in f)} records"
    notes = []
    for m in reward_models:
        name, _, member = m["stage"].partition("/")
        if name == found.entry.name:
            metric = (f"held-out pair accuracy {pct(m['pair_accuracy'])}" if m.get("pair_accuracy") is not None
                      else f"held-out accuracy {pct(m.get('accuracy'))}")
            notes.append(f"{member}: {metric}" if member else metric)
    if notes:
        return "; ".join(notes)
    if found.stage.produces == "model" and not any(r["stage"] == found.entry.name for r in evals):
        return "not evaluated"
    return ""


def _temperature(eval_dir: Path) -> str:
    """The sampling temperature of an `r1 eval` directory, written like the pipeline's T<t> names."""
    try:
        return f"{json.loads((eval_dir / 'eval_source.json').read_text())['temperature']:g}"
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


def _eval_rows(label: str, summaries: list[Path]) -> list[dict[str, Any]]:
    return [row for path in summaries for row in summary_rows(label, _temperature(path.parent), path)]


def _grpo(run: Path) -> Run:
    """One table row per held-out evaluation: each in-training one (step N), then the pipeline's (final)."""
    evals = []
    for step_dir in sorted((run / "eval").glob("step_*")):
        evals += _eval_rows(f"step {int(step_dir.name.removeprefix('step_'))}",
                            sorted(step_dir.glob("*/summary.json")))
    evals += _eval_rows("final", sorted((run / "eval").glob("T*/*/summary.json")))
    labels = list(dict.fromkeys(row["stage"] for row in evals))
    rows = [StageRow(label, "held-out eval") for label in labels]
    this = Found(StageEntry(name=run.name, kind="grpo"), get_stage("grpo"), run)
    return Run("GRPO run", run, rows, evals, [(run.name, run)], general=general_rows([this]))
