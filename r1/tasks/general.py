"""Non-reasoning data for the tiny world: prompts with a reference reply and no chain of thought.

DeepSeek-R1's SFT set mixes reasoning samples with non-reasoning ones (writing, factual QA,
self-cognition, translation) whose chain of thought is empty. This is the tiny world's version, a
few simple kinds:

- `identity`: "Who are you?" -> "I am r1, a small language model ...";
- `number_words`: "Write 347 in words." -> "347 in words is three hundred forty-seven." (and back);
- `translate`: arithmetic sentences between English and Chinese ("7 plus 5 equals 12" / "7加5等于12");
- `compare`: "Which is larger, 347 or 285?" -> "347 is larger than 285."

A response is `<think>\\n</think><summary>reply</summary>`: R1's readable format with an empty
reasoning. The Chinese uses only characters of the base corpus's Chinese steps (加 减 乘 除以 等于
不等于), which the tiny tokenizer knows; number words such as 二十三 are not in its vocabulary.
These are not a TaskFamily (no verifier of an answer; nothing that iterates FAMILIES sees them).
A prompt's split is a hash of its text, as for the task families.

    r1 tasks non-reasoning --n 500 --out data/non-reasoning.jsonl
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from r1.errors import R1Error
from r1.tasks.base import distinct_prompts

_MODEL = "a small language model trained with the DeepSeek-R1 recipe."
_SKILLS = ("I solve arithmetic, countdown and linear equation problems step by step, and I can write "
           "numbers in words and translate simple sums between English and Chinese.")
IDENTITY = {
    **dict.fromkeys(["Who are you?", "What are you?", "Introduce yourself.", "Tell me about yourself.",
                     "Hi! Who are you?", "Hello, who am I talking to?"], f"I am r1, {_MODEL} {_SKILLS}"),
    **dict.fromkeys(["What is your name?", "What should I call you?", "Do you have a name?"],
                    f"My name is r1. I am {_MODEL}"),
    **dict.fromkeys(["What can you do?", "What are you good at?", "How can you help me?"],
                    f"I am r1. {_SKILLS}"),
}
"""Self-identification prompts and their replies."""

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
# English word, Chinese word, the operation: the words the base corpus's Chinese steps use.
_OPERATIONS = (("plus", "加", lambda a, b: a + b), ("minus", "减", lambda a, b: a - b),
               ("times", "乘", lambda a, b: a * b), ("divided by", "除以", lambda a, b: a // b))


def number_words(n: int) -> str:
    """English words for 0 <= n < 1,000,000, e.g. 347 -> "three hundred forty-seven".

    >>> number_words(0), number_words(40), number_words(2024)
    ('zero', 'forty', 'two thousand twenty-four')
    """
    if not 0 <= n < 1_000_000:
        raise ValueError(f"number_words: {n} is out of range")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    head, rest, unit = (n // 100, n % 100, "hundred") if n < 1000 else (n // 1000, n % 1000, "thousand")
    return f"{number_words(head)} {unit}" + (f" {number_words(rest)}" if rest else "")


def identity(rng: random.Random) -> tuple[str, str, str]:
    prompt = rng.choice(sorted(IDENTITY))
    return prompt, IDENTITY[prompt], "en"


def in_words(rng: random.Random) -> tuple[str, str, str]:
    n = rng.choice([rng.randint(0, 99), rng.randint(100, 999), rng.randint(1000, 9999)])
    words = number_words(n)
    if rng.random() < 0.5:
        return f"Write {n} in words.", f"{n} in words is {words}.", "en"
    return f"Write {words} as a number.", f"{words.capitalize()} is {n}.", "en"


def translate(rng: random.Random) -> tuple[str, str, str]:
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    if rng.random() < 0.2:
        b = a + rng.randint(1, 9)
        en, zh = f"{a} is not equal to {b}", f"{a}不等于{b}"
    else:
        en_op, zh_op, apply = rng.choice(_OPERATIONS)
        a, b = (a * b, b) if en_op == "divided by" else (max(a, b), min(a, b))  # whole, non-negative
        en, zh = f"{a} {en_op} {b} equals {apply(a, b)}", f"{a}{zh_op}{b}等于{apply(a, b)}"
    if rng.random() < 0.5:
        return f"Translate into Chinese: {en}", zh, "zh"
    return f"Translate into English: {zh}", en, "en"


def compare(rng: random.Random) -> tuple[str, str, str]:
    a, b = rng.sample(range(1, 1000), 2)
    if rng.random() < 0.5:
        return f"Which is larger, {a} or {b}?", f"{max(a, b)} is larger than {min(a, b)}.", "en"
    return f"Which is smaller, {a} or {b}?", f"{min(a, b)} is smaller than {max(a, b)}.", "en"


KINDS: dict[str, Callable[[random.Random], tuple[str, str, str]]] = {
    "identity": identity, "number_words": in_words, "translate": translate, "compare": compare}
"""Each kind draws (prompt, reply, language of the reply)."""


def non_reasoning_response(reply: str) -> str:
    """R1's readable format with an empty reasoning, as the paper's non-reasoning data has."""
    return f"<think>\n</think><summary>{reply}</summary>"


def non_reasoning_records(n: int, split: str = "train", seed: int = 0,
                          kinds: list[str] | None = None) -> list[dict[str, Any]]:
    """`n` records with distinct prompts from one split, kinds drawn evenly; the same for the same arguments.

    Fields: `id`, `task` ("general"), `kind`, `prompt`, `response` (SFT-ready), `reference` (the reply
    alone), `language` (of the reply) and `prompt_type` ("non_reasoning").
    """
    names = kinds or list(KINDS)
    unknown = [name for name in names if name not in KINDS]
    if unknown:
        raise R1Error(f"kinds: unknown non-reasoning kind {unknown[0]!r} (known: {', '.join(KINDS)})")

    def draw(rng: random.Random) -> tuple[str, tuple[str, str, str]]:
        kind = rng.choice(names)
        prompt, reply, language = KINDS[kind](rng)
        return prompt, (kind, reply, language)

    drawn = distinct_prompts(draw, n, split, random.Random(f"general/{split}/{seed}"), "non-reasoning records",
                             names)
    return [{"id": f"general-{split}-{seed}-{i:05d}", "task": "general", "kind": kind, "prompt": prompt,
             "response": non_reasoning_response(reply), "reference": reply, "language": language,
             "prompt_type": "non_reasoning"} for i, (prompt, (kind, reply, language)) in enumerate(drawn)]
