"""The base model's pretraining corpus, generated from the tiny-world tasks.

It is built to make a plausible *base* model for R1-Zero: every document uses the think/answer
format, a minority reason step by step (always right), the rest answer directly (mostly wrong), and
each reasoning step is written in English or Chinese at random, as R1-Zero's mixed-language CoT was.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from r1.tasks import get_family, split_of


def render_chat(prompt: str, completion: str | None = None) -> str:
    """The chat format of r1's tokenizer (kept equal to its chat template by a test)."""
    text = f"<|user|>{prompt}<|end|><|assistant|>"
    return text if completion is None else f"{text}{completion}<|end|>"


def render_completion(reasoning: str, answer: str) -> str:
    return f"<think>{reasoning}</think><answer>{answer}</answer>"


@dataclass
class CorpusMix:
    families: dict[str, float]
    difficulty: int | None
    cot_share: float
    direct_right: float
    zh_step_share: float


def sample_document(mix: CorpusMix, rng: random.Random) -> str:
    """One training document from a train-split problem."""
    names, weights = zip(*mix.families.items())
    family = get_family(rng.choices(names, weights)[0])
    level = mix.difficulty or family.default_difficulty
    while True:
        problem = family.sample(rng, level)
        if split_of(problem.problem) == "train":
            break
    if rng.random() < mix.cot_share:
        steps = family.reasoning(problem, rng)
        lines = [step.zh if rng.random() < mix.zh_step_share else step.en for step in steps]
        completion = render_completion("\n".join(lines), problem.answer)
    else:
        right = rng.random() < mix.direct_right
        completion = render_completion("", problem.answer if right else family.wrong_answer(problem, rng))
    return render_chat(problem.problem, completion)


def document_stream(mix: CorpusMix, seed: int | str) -> Iterator[str]:
    """Documents one after another from one seeded generator: the first n are sample_documents(mix, n, seed)."""
    rng = random.Random(seed)
    while True:
        yield sample_document(mix, rng)


def sample_documents(mix: CorpusMix, n: int, seed: int | str) -> list[str]:
    return list(islice(document_stream(mix, seed), n))
