"""Format rewards: 1.0 when a completion has exactly the shape asked for, else 0.0.

Two shapes, both from the DeepSeek-R1 paper:
- R1-Zero: `<think> reasoning </think> <answer> answer </answer>` and nothing else outside them;
- R1 readable: `<think> reasoning </think> <summary> summary </summary>` (the cold-start format).
Whitespace is allowed around and between the blocks; the reasoning may be empty (the paper's general
data has empty CoT), the answer or summary may not. No reserved tag may appear inside a block, so a
second answer, a nested think or a tag hidden in the reasoning all score 0.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from r1.rewards.registry import completion_texts, register

RESERVED_TAGS = ("<think>", "</think>", "<answer>", "</answer>", "<summary>", "</summary>")
"""Tags the tokenizer reserves as special tokens; none may appear inside a block."""

_R1_ZERO = re.compile(r"\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*", re.DOTALL)
_READABLE = re.compile(r"\s*<think>(.*?)</think>\s*<summary>(.*?)</summary>\s*", re.DOTALL)


def _has_tag(text: str) -> bool:
    return any(tag in text for tag in RESERVED_TAGS)


def _two_blocks(pattern: re.Pattern, text: str, prefilled: bool) -> bool:
    if prefilled:  # the prompt ended with "<think>", so the completion starts inside the reasoning
        text = "<think>" + text
    match = pattern.fullmatch(text)
    if not match:
        return False
    reasoning, final = match.groups()
    return bool(final.strip()) and not _has_tag(reasoning) and not _has_tag(final)


def is_r1_zero_format(text: str, prefilled: bool = False) -> bool:
    """`<think>…</think><answer>…</answer>` and nothing else.

    >>> is_r1_zero_format("<think>\\n7+5=12\\n</think>\\n<answer>12</answer>\\n")
    True
    >>> is_r1_zero_format("<think>7+5=12</think><answer>12</answer> done")
    False
    """
    return _two_blocks(_R1_ZERO, text, prefilled)


def is_readable_format(text: str, prefilled: bool = False) -> bool:
    """`<think>…</think><summary>…</summary>` and nothing else.

    >>> is_readable_format("<think>7+5=12</think>\\n<summary>7+5 is 12, so \\\\boxed{12}.</summary>")
    True
    >>> is_readable_format("<think>7+5=12</think><summary>12")
    False
    """
    return _two_blocks(_READABLE, text, prefilled)


@register("format_r1_zero")
def format_r1_zero(completions: Sequence[Any], prefilled: bool = False, **kwargs: Any) -> list[float]:
    """1.0 for the strict R1-Zero template, else 0.0.

    prefilled: the prompt already opened `<think>`, so completions start inside the reasoning.

    >>> format_r1_zero(["<think>a</think><answer>1</answer>", "<answer>1</answer>"])
    [1.0, 0.0]
    """
    return [float(is_r1_zero_format(text, prefilled)) for text in completion_texts(completions)]


@register("format_readable")
def format_readable(completions: Sequence[Any], prefilled: bool = False, **kwargs: Any) -> list[float]:
    """1.0 for the R1 readable format (reasoning, then a summary), else 0.0.

    >>> format_readable(["<think>a</think><summary>b</summary>", "<think>a</think>b"])
    [1.0, 0.0]
    """
    return [float(is_readable_format(text, prefilled)) for text in completion_texts(completions)]


# For prompts that end with "<think>\n" (e.g. `r1 eval response_prefix=...`).
register("format_r1_zero_prefilled", format_r1_zero, prefilled=True)
register("format_readable_prefilled", format_readable, prefilled=True)
