"""Score one completion against one record. The same code serves rollouts, `r1 eval` and `r1 score`."""

from __future__ import annotations

from typing import Any

from r1.rewards.extract import extract_answer


def score_completion(task: str, record: dict[str, Any], completion: str) -> tuple[str | None, bool]:
    """(extracted answer, correct) for a completion of `record` under scoring task `task`."""
    if task == "tiny":
        from r1.tasks import verify

        answer = extract_answer(completion)
        return answer, verify(record, answer)
    raise NotImplementedError(task)
