"""Summaries of scored samples: per-problem and overall metrics, written as JSON and a markdown table."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from r1.eval.metrics import cons_at_k, pass_at_k
from r1.eval.scoring import vote_key, votes_equal


def summarize(records: list[dict], rows: list[dict], task: str, k: int) -> dict[str, Any]:
    """Overall metrics plus a per-`task`-family breakdown (tiny tasks) over scored sample rows."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_id[str(row["id"])].append(row)
    groups: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        groups[record.get("task", task) if task == "tiny" else task].append(record)
    summary = _metrics(records, by_id, k, task)
    summary["task"] = task
    if len(groups) > 1 or task == "tiny":
        summary["by_family"] = {name: _metrics(recs, by_id, k, task) for name, recs in sorted(groups.items())}
    return summary


def _metrics(records: list[dict], by_id: dict[str, list[dict]], k: int, task: str) -> dict[str, Any]:
    """pass@1 = mean correctness over all samples; cons@k = majority vote (None for code)."""
    samples = [row for r in records for row in by_id[str(r["id"])]]
    n = len(records)
    groups = [by_id[str(r["id"])] for r in records]
    equal = votes_equal(task)
    cons = None if task == "code" else sum(
        cons_at_k([vote_key(task, r, s["answer"]) for s in g], [bool(s["correct"]) for s in g], equal)
        for r, g in zip(records, groups)) / max(1, n)
    return {
        "n": n,
        "k": k,
        "pass@1": sum(bool(s["correct"]) for s in samples) / max(1, len(samples)),
        f"cons@{k}": cons,
        f"pass@{k}": sum(pass_at_k(len(g), sum(bool(s["correct"]) for s in g), k) for g in groups) / max(1, n),
        "mean_tokens": sum(s["tokens"] for s in samples) / max(1, len(samples)),
        "truncated": sum(not s.get("finished", True) for s in samples) / max(1, len(samples)),
        **{key: _share(samples, key) for key in STYLE_KEYS},
    }


STYLE_KEYS = ("format_r1_zero", "format_readable", "mixed_language")
"""Shares of samples in the R1-Zero format, in R1's readable format, and with mixed-language reasoning
(None for samples written before r1 recorded them)."""


def _share(samples: list[dict], key: str) -> float | None:
    flags = [bool(s[key]) for s in samples if key in s]
    return sum(flags) / len(flags) if flags else None


def markdown_table(rows: dict[str, dict[str, Any]], k: int) -> str:
    """One row per named set of metrics."""

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.1f}%"

    def in_format(m: dict[str, Any]) -> float | None:  # the two formats exclude each other
        zero, readable = m.get("format_r1_zero"), m.get("format_readable")
        return None if zero is None or readable is None else zero + readable

    pass_k = f" pass@{k} |" if k > 1 else ""  # with k = 1 it is pass@1 again
    head = (f"| set | problems | pass@1 | cons@{k} |{pass_k} mean tokens | format | mixed language |\n"
            "|---|---|---|---|" + "---|" * (3 + (k > 1)) + "\n")
    return head + "".join(
        f"| {name} | {m['n']} | {pct(m['pass@1'])} | {pct(m[f'cons@{k}'])} |"
        + (f" {pct(m[f'pass@{k}'])} |" if k > 1 else "")
        + f" {m['mean_tokens']:.1f} | {pct(in_format(m))} | {pct(m.get('mixed_language'))} |\n"
        for name, m in rows.items())


def summary_rows(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return summary.get("by_family", {}) | {"all": summary}


def write_summary(out: Path, summary: dict[str, Any], title: str) -> None:
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(f"# {title}\n\n{markdown_table(summary_rows(summary), summary['k'])}")
