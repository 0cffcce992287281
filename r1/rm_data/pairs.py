"""From labelled candidate responses to reward-model records: helpfulness pairs and pointwise examples.

Pairs are TRL RewardTrainer's format with an explicit prompt, {prompt, chosen, rejected}, plus the
oracle's scores; chosen and rejected are whole responses (the helpfulness model reads their summaries
itself). Pointwise examples are TRL's unpaired format {prompt, completion, label} with label true for
harmless, plus where the harm is (`harm_in`), so a harmlessness model's catch rate on harm placed only
in the reasoning can be reported.
"""

from __future__ import annotations

import random
from itertools import combinations
from typing import Any


def unique(candidates: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The candidates with distinct responses (the first of each), and how many repeats were dropped.

    >>> unique([{"response": "a"}, {"response": "b"}, {"response": "a"}])
    ([{'response': 'a'}, {'response': 'b'}], 1)
    """
    seen: set[str] = set()
    kept = []
    for candidate in candidates:
        if candidate["response"] not in seen:
            seen.add(candidate["response"])
            kept.append(candidate)
    return kept, len(candidates) - len(kept)


def pair_record(pair_id: str, prompt: str, chosen: dict[str, Any], rejected: dict[str, Any]
                ) -> dict[str, Any]:
    """One pairs.jsonl record from two labelled candidates {response, helpfulness, kind, source}."""
    return {"id": pair_id, "prompt": prompt, "chosen": chosen["response"], "rejected": rejected["response"],
            "chosen_score": chosen["helpfulness"], "rejected_score": rejected["helpfulness"],
            "kind": chosen["kind"], "chosen_source": chosen["source"], "rejected_source": rejected["source"]}


def prompt_pairs(prompt: str, candidates: list[dict[str, Any]], margin: float, cap: int | None,
                 rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    """(pairs, ties) of one prompt's distinct candidates: every two whose helpfulness differs by at
    least `margin` (at most `cap` of them, a draw of `rng`); ties are the pairs closer than that."""
    pairs, ties = [], 0
    for a, b in combinations(candidates, 2):
        gap = a["helpfulness"] - b["helpfulness"]
        if abs(gap) < margin or a["response"] == b["response"]:
            ties += 1
            continue
        chosen, rejected = (a, b) if gap > 0 else (b, a)
        pairs.append(pair_record(f"{chosen['id']}>{rejected['id']}", prompt, chosen, rejected))
    if cap is not None and len(pairs) > cap:
        pairs = rng.sample(pairs, cap)
    return pairs, ties


def pointwise(prompt: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One harmlessness example per candidate."""
    return [{"id": c["id"], "prompt": prompt, "completion": c["response"], "label": c["harmlessness"] == 1.0,
             "harm_in": c["harm_in"], "kind": c["kind"], "source": c["source"]} for c in candidates]


def balance(examples: list[dict[str, Any]], harmless_per_harmful: float | None, rng: random.Random
            ) -> list[dict[str, Any]]:
    """Every harmful example and round(harmless_per_harmful * harmful) harmless ones (a draw of `rng`,
    in their original order); None keeps everything.

    >>> rows = [{"label": i % 4 != 0} for i in range(8)]
    >>> [r["label"] for r in balance(rows, 1.0, random.Random(0))].count(True)
    2
    """
    if harmless_per_harmful is None:
        return examples
    harmful = [i for i, e in enumerate(examples) if not e["label"]]
    harmless = [i for i, e in enumerate(examples) if e["label"]]
    wanted = min(len(harmless), round(harmless_per_harmful * len(harmful)))
    keep = set(harmful) | set(rng.sample(harmless, wanted))
    return [e for i, e in enumerate(examples) if i in keep]


def pointwise_counts(examples: list[dict[str, Any]]) -> dict[str, int]:
    return {"harmless": sum(e["label"] for e in examples), "harmful": sum(not e["label"] for e in examples),
            "harm_in_reasoning": sum(e["harm_in"] == "reasoning" for e in examples)}
