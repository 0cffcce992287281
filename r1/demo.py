"""`r1 demo`: the paper in miniature, on the tiny world, on a CPU.

It is `r1 pipeline` over recipes/tiny/paper.yaml (pretrained base model, cached by the pipeline ->
R1-Zero with and without the language reward; cold start -> reasoning RL -> rejection sampling -> SFT
-> reward models -> all-scenario RL; distillation into a small student beside RL on it), then one
table per stage and the paper's findings checked against the run (`r1.paper`), printed and written
to output_dir/paper.md. `key=value` overrides are the pipeline's (output_dir, seed, <stage>.<field>).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

import r1
from r1.errors import R1Error

RECIPE = Path(r1.__file__).resolve().parent.parent / "recipes" / "tiny" / "paper.yaml"


def run_demo(recipe: Path | None = None, overrides: list[str] | None = None) -> Path:
    """Run (or resume) the paper in miniature; returns output_dir/paper.md."""
    from r1.pipeline import load_pipeline, run_pipeline
    from r1.results import model_rows

    recipe = recipe or RECIPE
    if not recipe.is_file():
        raise R1Error(f"demo: no recipe at {recipe}; r1 demo runs from a clone of the repository "
                      "(pip install -e .), or name a pipeline recipe with -c")
    plan = load_pipeline(recipe, overrides or [])
    run_pipeline(plan)
    out = Path(plan.recipe.output_dir)
    temperature = f"{plan.recipe.eval.temperatures[0]:g}"
    rows = [r for r in model_rows(plan.stages) if r["T"] == temperature]
    return _print_and_save(rows, out, temperature)


def _families(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["family"] for r in rows))


def stage_table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """One row per model stage: pass@1 and cons@k per family, then means over families of length,
    mixed-language and readable-format shares."""
    from r1.results import pct

    families = _families(rows)
    k = rows[0]["k"] if rows else 0
    columns = ["stage"] + [f"{f} {m}" for f in families for m in ("pass@1", f"cons@{k}")]
    columns += ["mean tokens", "mixed language", "readable format"]
    body = []
    for stage in dict.fromkeys(r["stage"] for r in rows):
        mine = {r["family"]: r for r in rows if r["stage"] == stage}
        cells = [stage]
        for family in families:
            r = mine.get(family)
            cells += [pct(r and r["pass@1"]), pct(r and r.get(f"cons@{r['k']}"))]
        present = list(mine.values())
        cells += [f"{sum(r['mean_tokens'] for r in present) / len(present):.0f}",
                  pct(sum(r.get("mixed_language") or 0 for r in present) / len(present)),
                  pct(sum(r.get("format_readable") or 0 for r in present) / len(present))]
        body.append(cells)
    return columns, body


def _print_and_save(rows: list[dict], out: Path, temperature: str) -> Path:
    from r1.paper import findings, findings_table

    columns, body = stage_table(rows)
    n, k = (rows[0]["n"], rows[0]["k"]) if rows else (0, 0)
    title = f"Held-out problems per family: {n}, k={k} samples at T={temperature}"
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for cells in body:
        table.add_row(*cells)
    found = findings(rows, temperature, out)
    verdicts = Table(title="The paper's findings, here")
    for column in ("finding", "measured", "holds"):
        verdicts.add_column(column)
    for f in found:
        verdicts.add_row(f.claim, f.measured, "yes" if f.holds else "no")
    stdout = Console()  # results on stdout; progress bars and notes stay on stderr
    stdout.print(table)
    stdout.print(verdicts)
    lines = [f"{title}.", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    lines += ["", *findings_table(found)]
    path = out / "paper.md"
    path.write_text("\n".join(lines) + "\n")
    stdout.print(f"tables: {path}\nevery stage's numbers: {out / 'results.md'}\n"
                 f"the report (curves, chains of thought side by side): {out / 'report.html'}")
    return path
