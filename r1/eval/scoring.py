"""Score completions against records. The same rewards serve GRPO rollouts, `r1 eval` and `r1 score`."""

from __future__ import annotations

from typing import Any

from r1.rewards.combine import task_accuracy
from r1.rewards.extract import extract_answer, normalize_number, think_text

TASKS = ("math", "gsm8k", "code", "tiny")


def extracted(task: str, completion: str) -> str | None:
    """The answer a majority vote compares (None for code: programs are not voted on)."""
    if task == "code":
        return None
    if task == "gsm8k":
        return normalize_number(extract_answer(completion, "last_number"))
    return extract_answer(completion)


def style(completion: str, prefilled: bool = False) -> dict[str, bool]:
    """What a sample looks like, beside whether it is right: the R1-Zero format, R1's readable format
    (reasoning then summary), and mixed language (its reasoning holds English and Chinese words)."""
    from r1.rewards.format import is_r1_zero_format, is_readable_format
    from r1.rewards.language import is_mixed_language

    return {"format_r1_zero": is_r1_zero_format(completion, prefilled),
            "format_readable": is_readable_format(completion, prefilled),
            "mixed_language": is_mixed_language(think_text(completion))}


def vote_key(task: str, record: dict[str, Any], answer: str | None) -> str | None:
    """What cons@k votes on for a sample whose extracted answer is `answer` (None: no vote).

    Tiny tasks: the family's key, so forms the verifier accepts alike vote together and answers the
    verifier tells apart (countdown expressions reaching the target with other numbers) do not.
    """
    if answer is None or task == "code":
        return None
    if task == "tiny":
        from r1.tasks import get_family

        return get_family(record["task"]).vote_key(record, answer)
    return answer


def votes_equal(task: str):
    """Equality of two vote keys: math answers by equivalence, every other task's keys are canonical."""
    if task == "math":
        from r1.rewards.math import same_answer

        return same_answer
    return str.__eq__


def score_batch(task: str, records: list[dict[str, Any]], completions: list[str]
                ) -> list[tuple[str | None, bool]]:
    """(extracted answer, correct) per (record, completion) pair, scored by the task's accuracy reward."""
    fields: dict[str, list] = {}
    for key in {key for record in records for key in record}:
        fields[key] = [record.get(key) for record in records]
    if task != "tiny":  # tiny records carry their family in `task`; benchmarks are scored by `task`
        fields["task"] = [task] * len(records)
    scores = task_accuracy(completions, **fields)
    return [(extracted(task, c), score == 1.0) for c, score in zip(completions, scores)]

