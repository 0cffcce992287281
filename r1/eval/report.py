"""Summaries of scored samples: per-problem and overall metrics, written as JSON and a markdown table."""

from __future__ import annotations

import json
from collections import defaultdict
from math import comb
from pathlib import Path
from typing import Any


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k), for n samples of which c are right."""
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def summarize(records: list[dict], rows: list[dict], task: str, k: int) -> dict[str, Any]:
    """Overall metrics plus a per-`task`-family breakdown (tiny tasks) over scored sample rows."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_id[str(row["id"])].append(row)
    groups: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        groups[record.get("task", task) if task == "tiny" else task].append(record)
    summary = _metrics(records, by_id, k)
    summary["task"] = task
    if len(groups) > 1 or task == "tiny":
        summary["by_family"] = {name: _metrics(recs, by_id, k) for name, recs in sorted(groups.items())}
    return summary


def _metrics(records: list[dict], by_id: dict[str, list[dict]], k: int) -> dict[str, Any]:
    samples = [row for r in records for row in by_id[str(r["id"])]]
    n = len(records)
    correct = [sum(bool(s["correct"]) for s in by_id[str(r["id"])]) for r in records]
    return {
        "n": n,
        "k": k,
        "pass@1": sum(bool(s["correct"]) for s in samples) / max(1, len(samples)),
        f"pass@{k}": sum(pass_at_k(len(by_id[str(r["id"])]), c, k) for r, c in zip(records, correct)) / max(1, n),
        "mean_tokens": sum(s["tokens"] for s in samples) / max(1, len(samples)),
        "truncated": sum(not s.get("finished", True) for s in samples) / max(1, len(samples)),
    }


def markdown_table(rows: dict[str, dict[str, Any]], k: int) -> str:
    """One row per named set of metrics."""
    head = f"| set | problems | pass@1 | pass@{k} | mean tokens |\n|---|---|---|---|---|\n"
    return head + "".join(
        f"| {name} | {m['n']} | {100 * m['pass@1']:.1f}% | {100 * m[f'pass@{k}']:.1f}% | {m['mean_tokens']:.1f} |\n"
        for name, m in rows.items())


def summary_rows(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return summary.get("by_family", {}) | {"all": summary}


def write_summary(out: Path, summary: dict[str, Any], title: str) -> None:
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(f"# {title}\n\n{markdown_table(summary_rows(summary), summary['k'])}")
