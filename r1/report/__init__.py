"""`r1 report RUN_DIR`: one self-contained HTML page of a run (a pipeline, a GRPO run or the demo).

    r1 report runs/r1                 # -> runs/r1/report.html
    r1 report runs/demo --out demo.html

It holds the stage table (pass@1 and cons@k per family and temperature, length, format and
mixed-language shares: the numbers of r1.results), the curves of each GRPO stage (r1.plot's figures,
as PNG data: URIs), and a few held-out problems with each stage's first sample side by side, the answer
and the non-target-language words marked. `r1 pipeline` and `r1 demo` write it when they finish.
Modules: collect (what a run directory holds), table and samples (what the page shows of it), html.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from r1.errors import R1Error
from r1.report.collect import collect
from r1.report.html import render
from r1.report.samples import pick_problems, snapshots

__all__ = ["collect", "write_report"]


def write_report(run_dir: str | Path, out: str | Path | None = None, order: list[str] | None = None) -> Path:
    """Write the report of RUN_DIR to `out` (default RUN_DIR/report.html); `order`: a pipeline's stage
    names in the recipe's order (otherwise the order they finished in). Returns where it wrote."""
    run = collect(run_dir, order)
    page = render(run, {name: _curves(log_dir) for name, log_dir in run.curves}, pick_problems(snapshots(run)))
    path = Path(out) if out else run.run_dir / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _curves(run_dir: Path) -> list[tuple[str, bytes]]:
    """r1.plot's figures of one GRPO run as (name, PNG bytes), drawn in a scratch directory so the report
    leaves the run as it was; none for a run that has logged no step yet."""
    from r1.plot import plot_run

    with tempfile.TemporaryDirectory() as scratch:
        try:
            paths = plot_run(run_dir, out_dir=scratch)
        except R1Error:  # no step rows yet: the section says so
            return []
        return [(p.stem, p.read_bytes()) for p in paths]

