"""What every tiny-world task family provides, and the record shape shared with the benchmarks.

A record is a dict with `id`, `task`, `problem`, `answer`, `solution` (the shape of
`shared/data/*/test.jsonl` plus `task`), and any family-specific fields its verifier needs.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from r1.errors import R1Error

SPLITS = ("train", "test")
TEST_SHARE = 10  # one problem in TEST_SHARE belongs to the test split


@dataclass(frozen=True)
class Step:
    """One reasoning step, written in English and in Chinese (the base corpus mixes the two)."""

    en: str
    zh: str


@dataclass
class Problem:
    task: str
    problem: str
    """The text shown to the model."""
    answer: str
    """The canonical answer (for countdown: one expression that works)."""
    steps: list[Step]
    """A step-by-step reference solution."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Family-specific record fields the verifier reads (e.g. countdown's numbers and target)."""

    @property
    def solution(self) -> str:
        return "\n".join(step.en for step in self.steps)

    def record(self, id: str, difficulty: int) -> dict[str, Any]:
        return {"id": id, "task": self.task, "problem": self.problem, "answer": self.answer,
                "solution": self.solution, "difficulty": difficulty, **self.fields}


def split_of(problem_text: str) -> str:
    """Train/test membership is a hash of the problem text, so the splits are disjoint by construction."""
    digest = hashlib.sha256(problem_text.encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") % TEST_SHARE == 0 else "train"


def distinct_prompts(draw: Callable[[random.Random], tuple[str, Any]], n: int, split: str, rng: random.Random,
                     what: str, kinds: list[str]) -> list[tuple[str, Any]]:
    """`n` draws `(prompt, item)` of `draw(rng)` whose prompts are distinct and in `split` (the
    non-reasoning records and the general prompts); fewer that exist is a one-line R1Error."""
    if n < 1:
        raise R1Error(f"n: the number of {what} must be >= 1, got {n}")
    if split not in SPLITS:
        raise R1Error(f"split: unknown split {split!r} (known: {', '.join(SPLITS)})")
    seen: set[str] = set()
    out: list[tuple[str, Any]] = []
    for _ in range(max(1000, 200 * n)):
        if len(out) == n:
            return out
        prompt, item = draw(rng)
        if prompt not in seen and split_of(prompt) == split:
            seen.add(prompt)
            out.append((prompt, item))
    raise R1Error(f"{what}: only {len(out)} distinct {split} prompts of kinds {', '.join(kinds)} exist; "
                  f"asked for {n}")


class TaskFamily:
    """A procedurally generated family of problems with a rule-based verifier."""

    name: ClassVar[str]
    default_difficulty: ClassVar[int] = 1

    def sample(self, rng: random.Random, difficulty: int) -> Problem:
        """Draw one problem of the given difficulty (1 = easiest)."""
        raise NotImplementedError

    def verify(self, record: dict[str, Any], answer: str) -> bool:
        """True when `answer` (the text inside <answer>…</answer>) solves the record's problem."""
        raise NotImplementedError

    def vote_key(self, record: dict[str, Any], answer: str) -> str | None:
        """What cons@k votes on: two answers with the same key get the same verdict from `verify`, so
        answer forms the verifier accepts alike (`=12`, `1 2`, `12`) vote together; None is no vote."""
        return answer.strip() or None

    def wrong_answer(self, problem: Problem, rng: random.Random) -> str:
        """A plausible mistake, for the base corpus's direct answers that are wrong."""
        raise NotImplementedError

    def reasoning(self, problem: Problem, rng: random.Random) -> list[Step]:
        """The reasoning a corpus document shows; families with search add failed attempts."""
        return problem.steps
