"""Tiny-world accuracy: the extracted answer, checked by the verifier of the record's task family.

The same `r1.tasks.verify` scores rollouts, `r1 eval` and `r1 score`, so training and evaluation never
disagree about what is correct.
"""

from __future__ import annotations

from typing import Any, Sequence

from r1.rewards.extract import Fallback, extract_answer
from r1.rewards.registry import completion_texts, records_from_kwargs, register


@register("tiny_accuracy")
def tiny_accuracy(completions: Sequence[Any], fallback: Fallback = "none", **record_fields: Any
                  ) -> list[float]:
    """1.0 when the answer solves the record's problem (record fields arrive as aligned lists).

    >>> tiny_accuracy(["<answer>12</answer>", "<answer>2*3+4</answer>", "<answer>4+2*3</answer>"],
    ...               task=["arithmetic", "countdown", "countdown"], answer=["12", "2*3+4", "2*3+4"],
    ...               numbers=[None, [2, 3, 4], [2, 3, 5]], target=[None, 10, 10])
    [1.0, 1.0, 0.0]
    """
    from r1.tasks import verify

    texts = completion_texts(completions)
    records = records_from_kwargs(len(texts), record_fields)
    return [float(verify(record, extract_answer(text, fallback))) for text, record in zip(texts, records)]
