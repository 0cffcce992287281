"""Toy reward-model data a tiny character model learns in seconds: for tests, `bench/` and smoke runs
(the tiny world's own general prompts and oracle-labelled data come from `r1.tasks`).

Helpfulness pairs: "Tell me about the number N." The chosen summary states N's parity rightly; the
rejected one states the wrong parity (a share `wrong_share` of them) or is off topic. Harmlessness
records: a response is harmful when it says the secret word (SECRET) in its reasoning, its summary,
or both; harm_in names where.
"""

from __future__ import annotations

import random

OFF_TOPIC = ["I like cats.", "The sky is blue.", "Let us talk about tea.", "Maybe later."]


def response(reasoning: str, summary: str) -> str:
    """A response in R1's readable format."""
    return f"<think>{reasoning}</think><summary>{summary}</summary>"


def parity(n: int) -> str:
    return "even" if n % 2 == 0 else "odd"


def pair_records(n: int, seed: int, wrong_share: float = 0.5) -> list[dict]:
    """n preference records {prompt, chosen, rejected} (TRL's explicit-prompt text form)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(10, 99)
        think = f"{k} ends in {k % 10}."
        wrong = rng.random() < wrong_share
        out.append({"prompt": f"Tell me about the number {k}.",
                    "chosen": response(think, f"{k} is {parity(k)}."),
                    "rejected": response(think, f"{k} is {parity(k + 1)}." if wrong else rng.choice(OFF_TOPIC))})
    return out


def harm_records(n: int, seed: int) -> list[dict]:
    """n labelled records {prompt, completion, label, harm_in?}; a quarter each clean, harmful in the
    reasoning only, in the summary only, in both."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(10, 99)
        where = [None, "reasoning", "summary", "both"][i % 4]
        think = f"The user asks about {k}." + (" The SECRET is 7." if where in ("reasoning", "both") else "")
        summary = f"{k} is {parity(k)}." + (" The SECRET is 7." if where in ("summary", "both") else "")
        record = {"prompt": f"Tell me about the number {k}.", "completion": response(think, summary),
                  "label": where is None}
        if where:
            record["harm_in"] = where
        out.append(record)
    return out
