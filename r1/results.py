"""output_dir/results.md of a pipeline: what each stage's evaluation measured, as tables.

- model stages: pass@1, cons@k, length, format and mixed-language rate per temperature and family
  (their eval/T*/<benchmark>/summary.json, written by `r1 eval`);
- reward models: held-out pair accuracy, or accuracy and AUROC (their eval.json);
- RL stages with held-out general prompts (stage 4): reward-model and oracle scores at the first and
  the last evaluation (their log.jsonl), the over-optimisation check in numbers;
- trained models: parameters, training FLOPs and time (their final/r1_final.json), so runs given the
  same compute (distillation against RL) can be checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from r1.progress import console
from r1.train.telemetry import read_log


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def model_rows(stages) -> list[dict[str, Any]]:
    """One row per (model stage, temperature, benchmark family) from the stages' eval summaries."""
    return [row for planned in stages for path in sorted((planned.out / "eval").glob("T*/*/summary.json"))
            for row in summary_rows(planned.entry.name, path.parent.parent.name[1:], path)]


def summary_rows(stage: str, temperature: str, summary_path: Path) -> list[dict[str, Any]]:
    """One row per benchmark family of an `r1 eval` summary.json; "dir" is the eval's directory (its
    samples.jsonl and problems.jsonl)."""
    summary = json.loads(summary_path.read_text())
    return [{"stage": stage, "T": temperature, "family": family, "dir": summary_path.parent, **m}
            for family, m in (summary.get("by_family") or {summary_path.parent.name: summary}).items()]


def model_table(stages) -> list[str]:
    lines = ["| stage | T | family | problems | k | pass@1 | cons@k | mean tokens | R1-Zero format | readable format "
             "| mixed language |", "|" + "---|" * 11]
    for r in model_rows(stages):
        k = r["k"]
        lines.append(f"| {r['stage']} | {r['T']} | {r['family']} | {r['n']} | {k} | {pct(r['pass@1'])} "
                     f"| {pct(r.get(f'cons@{k}'))} | {r['mean_tokens']:.1f} | {pct(r.get('format_r1_zero'))} "
                     f"| {pct(r.get('format_readable'))} | {pct(r.get('mixed_language'))} |")
    return lines


def reward_model_rows(stages) -> list[dict[str, Any]]:
    """Each reward model's held-out metrics (its eval.json), with "stage" its name: the stage's, or
    <stage>/<model> for a stage of several (reward-models)."""
    rows = []
    for planned in stages:
        if planned.stage.produces == "reward_model":
            found = [(planned.entry.name, planned.out / "eval.json")]
        elif planned.stage.produces == "reward_models":
            found = [(f"{planned.entry.name}/{path.parent.name}", path)
                     for path in sorted(planned.out.glob("*/eval.json"))]
        else:
            continue
        rows += [{"stage": name, **json.loads(path.read_text())} for name, path in found if path.is_file()]
    return rows


REWARD_MODEL_COLUMNS = ["reward model", "objective", "reads", "held-out pair accuracy", "accuracy", "AUROC",
                        "accuracy, harm only in the reasoning"]


def reward_model_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    """reward_model_rows as text, one cell per REWARD_MODEL_COLUMNS (results.md and the HTML report)."""
    return [[m["stage"], str(m.get("objective")), str(m.get("on")), pct(m.get("pair_accuracy")),
             pct(m.get("accuracy")), "—" if m.get("auroc") is None else f"{m['auroc']:.3f}",
             pct(m.get("accuracy_harm_in_reasoning"))] for m in rows]


def reward_model_table(stages) -> list[str]:
    return _table(REWARD_MODEL_COLUMNS, reward_model_cells(reward_model_rows(stages)))


def general_rows(stages) -> list[dict[str, Any]]:
    """RL stages with held-out general prompts: their log row at the first and the last evaluation, with
    "stage" and "label" (start, end) added."""
    rows = []
    for planned in stages:
        path = planned.out / "log.jsonl"
        evals = [row for row in read_log(path) if "general/oracle/helpfulness" in row] if path.is_file() else []
        rows += [{"stage": planned.entry.name, "label": label, **r}
                 for label, r in ((("start", evals[0]), ("end", evals[-1])) if evals else ())]
    return rows


GENERAL_COLUMNS = ["held-out general prompts", "RM helpfulness", "RM harmlessness", "oracle helpfulness",
                   "oracle harmlessness"]


def general_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    """general_rows as text, one cell per GENERAL_COLUMNS (results.md and the HTML report)."""
    return [[f"{r['stage']}, {r['label']} (step {r['step']})",
             f"{r.get('general/rm/helpfulness', float('nan')):.3f}",
             f"{r.get('general/rm/harmlessness', float('nan')):.3f}",
             f"{r['general/oracle/helpfulness']:.3f}", f"{r['general/oracle/harmlessness']:.3f}"] for r in rows]


def general_table(stages) -> list[str]:
    return _table(GENERAL_COLUMNS, general_cells(general_rows(stages)))


def _table(columns: list[str], cells: list[list[str]]) -> list[str]:
    """A Markdown table of `cells` under `columns`; nothing when there are no rows."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *["| " + " | ".join(row) + " |" for row in cells]] if cells else []


def compute_rows(stages) -> list[dict[str, Any]]:
    """Each trained model's parameters, training FLOPs and training seconds (its final/r1_final.json, as
    the trainers count them: r1.train.flops); a distillation adds the teacher's generation FLOPs."""
    from r1.train.checkpoint import final_info  # torch: only when a pipeline writes its results

    rows = []
    for planned in stages:
        info = final_info(planned.out / "final")
        if "flops" not in info:
            continue
        distill = planned.out / "distill.json"
        teacher = json.loads(distill.read_text()).get("teacher_flops") if distill.is_file() else None
        rows.append({**info, "stage": planned.entry.name, "teacher_flops": teacher})
    return rows


COMPUTE_COLUMNS = ["trained model", "parameters", "steps", "training FLOPs", "training time", "teacher FLOPs"]


def compute_table(stages) -> list[str]:
    return _table(COMPUTE_COLUMNS, [
        [r["stage"], f"{r.get('parameters', 0):,}", str(r.get("steps", "—")), f"{r['flops']:.3g}",
         f"{r.get('train_s', 0):.0f} s", "—" if r["teacher_flops"] is None else f"{r['teacher_flops']:.3g}"]
        for r in compute_rows(stages)])


def write_results(output_dir: str | Path, stages) -> Path:
    """output_dir/results.md from every stage's evaluation (see the module docstring)."""
    lines = model_table(stages)
    for table in (reward_model_table(stages), general_table(stages), compute_table(stages)):
        if table:
            lines += ["", *table]
    out = Path(output_dir) / "results.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    console.print(f"pipeline: results table in {out}")
    return out
