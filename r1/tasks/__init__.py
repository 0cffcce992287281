"""Tiny-world tasks: procedurally generated problems with rule-based verifiers, plus benchmark loaders."""

from __future__ import annotations

import random
from typing import Any

from r1.errors import R1Error
from r1.tasks.arithmetic import Arithmetic
from r1.tasks.base import SPLITS, Problem, Step, TaskFamily, split_of
from r1.tasks.countdown import Countdown
from r1.tasks.linear import Linear

FAMILIES: dict[str, TaskFamily] = {f.name: f for f in (Arithmetic(), Countdown(), Linear())}

__all__ = ["FAMILIES", "Problem", "Step", "TaskFamily", "generate", "get_family", "per_family",
           "sample_problems", "split_of", "verify"]


def get_family(name: str) -> TaskFamily:
    if name not in FAMILIES:
        raise R1Error(f"unknown task family {name!r} (known: {', '.join(FAMILIES)})")
    return FAMILIES[name]


def sample_problems(family: str, split: str, n: int, seed: int = 0,
                    difficulty: int | None = None) -> list[Problem]:
    """`n` distinct problems of one family from one split, the same for the same arguments."""
    if split not in SPLITS:
        raise R1Error(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    fam = get_family(family)
    if difficulty is not None and difficulty < 1:  # 0 would silently mean the default, below 1 degenerate problems
        raise R1Error(f"difficulty must be >= 1 (1 = easiest), got {difficulty}")
    level = difficulty or fam.default_difficulty
    rng = random.Random(f"{family}/{split}/{seed}/{level}")
    seen: set[str] = set()
    out: list[Problem] = []
    for _ in range(max(1000, 200 * n)):
        if len(out) == n:
            return out
        problem = fam.sample(rng, level)
        if problem.problem not in seen and split_of(problem.problem) == split:
            seen.add(problem.problem)
            out.append(problem)
    raise R1Error(f"{family}: only {len(out)} distinct {split} problems of difficulty {level} exist; "
                  f"asked for {n}")


def per_family(n: int, names: list[str]) -> list[tuple[str, int]]:
    """(family, count) pairs: `n` split as evenly as possible, the first families taking the remainder."""
    return [(name, n // len(names) + (1 if index < n % len(names) else 0))
            for index, name in enumerate(names)]


def generate(family: str, split: str, n: int, seed: int = 0,
             difficulty: int | None = None) -> list[dict[str, Any]]:
    """Records (`id`, `task`, `problem`, `answer`, `solution`, …); `family='all'` mixes every family."""
    names = list(FAMILIES) if family == "all" else [family]
    records = []
    for name, count in per_family(n, names):
        level = difficulty or get_family(name).default_difficulty
        for i, problem in enumerate(sample_problems(name, split, count, seed, difficulty)):
            records.append(problem.record(f"{name}-{split}-{seed}-{i:05d}", level))
    return records


def verify(record: dict[str, Any], answer: str | None) -> bool:
    """Score an extracted answer with the verifier of the record's `task` family."""
    return answer is not None and get_family(record["task"]).verify(record, answer)
