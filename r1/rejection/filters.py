"""The filters of rejection sampling: which correct responses are kept as SFT data.

DeepSeek-R1 (section 2.3.3) keeps only correct responses and filters out chain-of-thought with mixed
languages, long paragraphs and code blocks. Each filter here is a small pure function, switched on
or off in `FilterSettings`. They run in two passes, and a removed response is counted once, under
the first filter that removed it:

1. per response, in this order: unfinished (cut at max_new_tokens), max_response_tokens,
   mixed_language, max_paragraph_chars, code_blocks;
2. per prompt, over the responses left, in sample order: exact_duplicates, near_duplicate, then
   max_per_prompt (the first ones left are kept: samples are i.i.d., so that is a random subset).

Duplicates are looked for only among the responses to the same prompt: each response is compared
with the ones already kept for its prompt (at most k, or max_per_prompt), so the cost grows with
prompts × k², linearly in the number of prompts, never quadratically over the whole set.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from r1.rewards.extract import think_text
from r1.rewards.language import is_mixed_language

SHINGLE_WORDS = 3
"""Words per shingle of the near-duplicate test (word trigrams)."""
_TOKEN = re.compile(r"\w+|[^\w\s]")  # a word, or one punctuation mark (so "7+5=12" is 5 tokens)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_CODE_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)


class FilterSettings(BaseModel):
    """Which filters run, and their limits. A filter that is off removes nothing and is not counted."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    unfinished: bool = True
    """Drop responses cut at max_new_tokens: they never reached the end of their answer."""
    max_response_tokens: Annotated[int, Field(ge=1)] | None = None
    """Drop responses longer than this many tokens (None: no limit beyond max_new_tokens)."""
    mixed_language: bool = True
    """Drop responses whose reasoning has words of both English and Chinese."""
    max_paragraph_chars: Annotated[int, Field(ge=1)] | None = None
    """Drop responses whose reasoning has a paragraph (text between blank lines) longer than this
    many characters (None: no limit)."""
    code_blocks: bool = True
    """Drop responses with a fenced code block (``` or ~~~) inside the reasoning."""
    exact_duplicates: bool = True
    """Of identical responses to the same prompt, keep the first."""
    near_duplicate: Annotated[float, Field(gt=0, le=1)] | None = None
    """Drop a response whose word-trigram Jaccard similarity to an already kept response to the same
    prompt is at least this (e.g. 0.9; None: off)."""

    def enabled(self) -> list[str]:
        """Names of the filters that are on, in the order they run (the keys of the removed counts)."""
        on = {"unfinished": self.unfinished, "max_response_tokens": self.max_response_tokens is not None,
              "mixed_language": self.mixed_language,
              "max_paragraph_chars": self.max_paragraph_chars is not None,
              "code_blocks": self.code_blocks, "exact_duplicates": self.exact_duplicates,
              "near_duplicate": self.near_duplicate is not None}
        return [name for name, is_on in on.items() if is_on]


def longest_paragraph(reasoning: str) -> int:
    """Characters in the longest paragraph; paragraphs are separated by blank lines.

    >>> longest_paragraph("one line\\nsame paragraph\\n\\nsecond")
    23
    >>> longest_paragraph("")
    0
    """
    return max((len(part.strip()) for part in _PARAGRAPH_BREAK.split(reasoning)), default=0)


def has_code_block(reasoning: str) -> bool:
    """Whether the text has a fenced code block (a line starting with ``` or ~~~).

    >>> has_code_block("try it:\\n```python\\nprint(12)\\n```\\nso 12")
    True
    >>> has_code_block("the `x` in 3x=12 is 4")
    False
    """
    return bool(_CODE_FENCE.search(reasoning))


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """The set of `size` consecutive tokens (words or punctuation marks), lowercased.

    >>> sorted(shingles("7+5=12", 3))
    [('+', '5', '='), ('5', '=', '12'), ('7', '+', '5')]
    >>> shingles("Yes", 3)  # shorter than a shingle: the whole text is one
    frozenset({('yes',)})
    """
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) <= size:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets are identical (1.0).

    >>> jaccard(shingles("we add 7 and 5 and we get 12"), shingles("we add 7 and 5 and we get 13"))
    0.75
    """
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def response_rejection(response: str, tokens: int, finished: bool, settings: FilterSettings) -> str | None:
    """The first per-response filter that removes this response, or None when it passes them all.

    >>> on = FilterSettings(max_paragraph_chars=20)
    >>> [response_rejection(text, 9, True, on) for text in
    ...  ["<think>7+5=12</think><answer>12</answer>", "<think>7+5=12 所以 carry</think>",
    ...   "<think>this paragraph is too long to keep</think>"]]
    [None, 'mixed_language', 'max_paragraph_chars']
    >>> response_rejection("<think>7+5", 64, False, on), response_rejection("<think>7+5", 64, False,
    ...                                                                    FilterSettings(unfinished=False))
    ('unfinished', None)
    """
    if settings.unfinished and not finished:
        return "unfinished"
    if settings.max_response_tokens is not None and tokens > settings.max_response_tokens:
        return "max_response_tokens"
    reasoning = think_text(response)
    if settings.mixed_language and is_mixed_language(reasoning):
        return "mixed_language"
    limit = settings.max_paragraph_chars
    if limit is not None and longest_paragraph(reasoning) > limit:
        return "max_paragraph_chars"
    if settings.code_blocks and has_code_block(reasoning):
        return "code_blocks"
    return None


def select_group(responses: list[str], settings: FilterSettings, cap: int | None
                 ) -> tuple[list[int], Counter]:
    """(indices kept, removed per filter) of one prompt's responses, after the per-response pass:
    exact duplicates, near duplicates (against the kept ones), then the cap, in sample order.

    >>> kept, removed = select_group(["a b c d", "a b c d", "a b c e", "x y z"],
    ...                              FilterSettings(near_duplicate=0.3), cap=1)
    >>> kept, dict(removed)
    ([0], {'exact_duplicates': 1, 'near_duplicate': 1, 'max_per_prompt': 1})
    """
    kept: list[int] = []
    kept_shingles: list[frozenset] = []
    seen: set[str] = set()
    removed: Counter = Counter()
    for i, text in enumerate(responses):
        if settings.exact_duplicates:
            if text.strip() in seen:
                removed["exact_duplicates"] += 1
                continue
            seen.add(text.strip())
        if settings.near_duplicate is not None:
            mine = shingles(text)
            if any(jaccard(mine, other) >= settings.near_duplicate for other in kept_shingles):
                removed["near_duplicate"] += 1
                continue
        if cap is not None and len(kept) >= cap:
            removed["max_per_prompt"] += 1
            continue
        kept.append(i)
        if settings.near_duplicate is not None:
            kept_shingles.append(mine)
    return kept, removed


def select(groups: list[list[dict[str, Any]]], settings: FilterSettings, cap: int | None
           ) -> tuple[list[dict[str, Any]], Counter]:
    """The kept candidates of every prompt and the count each filter removed.

    A candidate is {"response", "tokens", "finished", ...} for a correct sample; `groups` holds one
    list per prompt, in sample order.
    """
    kept: list[dict[str, Any]] = []
    removed: Counter = Counter({name: 0 for name in settings.enabled()})
    if cap is not None:
        removed["max_per_prompt"] = 0
    for group in groups:
        passing = []
        for candidate in group:
            reason = response_rejection(candidate["response"], candidate["tokens"], candidate["finished"],
                                        settings)
            if reason is None:
                passing.append(candidate)
            else:
                removed[reason] += 1
        index, group_removed = select_group([c["response"] for c in passing], settings, cap)
        removed.update(group_removed)
        kept += [passing[i] for i in index]
    return kept, removed
