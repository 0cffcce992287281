"""`r1 score`: metrics for completions someone else generated, by the same code as `r1 eval`."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from r1.errors import R1Error
from r1.eval.data import check_scorable, load_data, read_jsonl
from r1.eval.report import summarize
from r1.eval.scoring import TASKS, score_batch, style


def read_completions(path: str) -> list[dict[str, Any]]:
    rows = read_jsonl(path, "completions")
    for line_no, row in enumerate(rows, 1):
        if "id" not in row or not isinstance(row.get("completion"), str):
            raise R1Error(f"{path}: line {line_no} needs an 'id' and a string 'completion'")
    return rows


def score_files(data: str, completions: str, task: str) -> dict[str, Any]:
    """Score every completion; k is the largest number of samples of any problem.

    A problem with fewer than k completions (none at all included) has the missing ones counted as
    wrong, and the summary says how many; a completion whose id is not in the data is an error.
    """
    if task not in TASKS:
        raise R1Error(f"task: must be one of {', '.join(TASKS)} (got {task!r})")
    records = load_data(data, split="test")
    check_scorable(records, data, task)
    by_id = {str(r["id"]): r for r in records}
    rows = read_completions(completions)
    unknown = sorted({str(r["id"]) for r in rows} - by_id.keys())
    if unknown:
        raise R1Error(f"{completions}: {len(unknown)} ids are not in {data}, e.g. {unknown[0]!r}")
    verdicts = score_batch(task, [by_id[str(r["id"])] for r in rows], [r["completion"] for r in rows])
    samples: dict[str, list[dict]] = defaultdict(list)
    for row, (answer, correct) in zip(rows, verdicts):
        samples[str(row["id"])].append({"id": row["id"], "answer": answer, "correct": correct,
                                        "tokens": row.get("tokens", 0), "finished": row.get("finished", True),
                                        **style(row["completion"])})
    k = max(Counter(str(r["id"]) for r in rows).values(), default=0)
    if k == 0:
        raise R1Error(f"{completions}: no completions")
    missing = 0
    for record in records:
        group = samples[str(record["id"])]
        while len(group) < k:
            group.append({"id": record["id"], "answer": None, "correct": False, "tokens": 0, "finished": False})
            missing += 1
    summary = summarize(records, [s for group in samples.values() for s in group], task, k)
    summary["missing_samples"] = missing
    summary["problems_without_completion"] = sum(
        1 for r in records if all(s["tokens"] == 0 and s["answer"] is None and not s["finished"]
                                  for s in samples[str(r["id"])]))
    return summary
