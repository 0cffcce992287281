"""Rejection sampling's filters on hand-made responses: what each removes, that each can be switched
off, that a removed response is counted once, duplicates per prompt, the cap; and the doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

from r1.rejection import RejectionConfig
from r1.rejection.filters import FilterSettings, select
from r1.rejection.judge import JudgeSettings

OK = "<think>7+5=12\ncarry 1\n4+3+1=8</think><answer>82</answer>"
MIXED = "<think>7+5=12 carry 1\n4+3+1=8, 进位 0</think><answer>82</answer>"
ALL_ZH = "<think>7加5得12,进1\n4加3加1得8</think><answer>82</answer>"
ZH_ONLY_IN_ANSWER = "<think>7+5=12\ncarry 1</think><answer>82 (八十二)</answer>"
LONG_PARAGRAPH = "<think>" + "7+5=12 carry 1 " * 5 + "</think><answer>82</answer>"  # one 75-char paragraph
SHORT_PARAGRAPHS = "<think>" + "\n\n".join(["7+5=12 carry 1 " * 2] * 3) + "</think><answer>82</answer>"
CODE = "<think>check it:\n```python\nprint(47+35)\n```\n82</think><answer>82</answer>"
INLINE_CODE = "<think>the `+` of 47+35 is 82</think><answer>82</answer>"
MIXED_AND_CODE = "<think>检查:\n```\nprint(47+35)\n```</think><answer>82</answer>"


def candidate(response: str, tokens: int = 20, finished: bool = True) -> dict:
    return {"response": response, "tokens": tokens, "finished": finished}


def responses(kept: list[dict]) -> list[str]:
    return [c["response"] for c in kept]


def test_each_per_response_filter_removes_what_it_should_and_counts_it():
    group = [candidate(OK), candidate(MIXED), candidate(ALL_ZH), candidate(ZH_ONLY_IN_ANSWER),
             candidate(LONG_PARAGRAPH), candidate(SHORT_PARAGRAPHS), candidate(CODE), candidate(INLINE_CODE),
             candidate("<think>7+5=12 carry", tokens=64, finished=False),
             candidate("<think>" + "7+5=12\n" * 20 + "</think><answer>82</answer>", tokens=141)]
    settings = FilterSettings(max_paragraph_chars=60, max_response_tokens=100, exact_duplicates=False)
    kept, removed = select([group], settings, cap=None)
    assert responses(kept) == [OK, ALL_ZH, ZH_ONLY_IN_ANSWER, SHORT_PARAGRAPHS, INLINE_CODE]
    assert dict(removed) == {"unfinished": 1, "max_response_tokens": 1, "mixed_language": 1,
                             "max_paragraph_chars": 1, "code_blocks": 1}  # exact_duplicates is off


@pytest.mark.parametrize("switch, item", [
    ({"unfinished": False}, candidate("<think>7+5=12 carry", finished=False)),
    ({"max_response_tokens": None}, candidate(OK, tokens=500)),
    ({"mixed_language": False}, candidate(MIXED)),
    ({"max_paragraph_chars": None}, candidate(LONG_PARAGRAPH)),
    ({"code_blocks": False}, candidate(CODE)),
])
def test_a_filter_switched_off_keeps_what_it_removed_and_is_not_counted(switch, item):
    on = FilterSettings(max_response_tokens=100, max_paragraph_chars=60)
    kept, removed = select([[item]], on, cap=None)
    assert kept == [] and sum(removed.values()) == 1
    kept, removed = select([[item]], on.model_copy(update=switch), cap=None)
    assert kept == [item] and sum(removed.values()) == 0
    assert next(iter(switch)) not in removed  # off: no count at all


def test_a_response_is_counted_once_under_the_first_filter():
    kept, removed = select([[candidate(MIXED_AND_CODE)]], FilterSettings(), cap=None)
    assert kept == [] and removed["mixed_language"] == 1 and removed["code_blocks"] == 0


def test_exact_duplicates_are_found_per_prompt():
    twice = [candidate(OK), candidate(OK + "  "), candidate(ALL_ZH), candidate(OK)]
    kept, removed = select([twice, [candidate(OK)]], FilterSettings(), cap=None)
    # the second prompt's OK is kept: the same text answering another prompt is no duplicate
    assert responses(kept) == [OK, ALL_ZH, OK]
    assert removed["exact_duplicates"] == 2
    kept, _ = select([twice], FilterSettings(exact_duplicates=False), cap=None)
    assert len(kept) == 4


def test_near_duplicates_by_word_trigram_jaccard():
    steps = "\n".join(f"digit {i}: {i}+{i}={2 * i} carry 0" for i in range(10))
    base = f"<think>{steps}</think><answer>1</answer>"
    one_word = base.replace("digit 9", "column 9")  # trigram sets of 105 and 106, 103 shared: 0.954
    other = "<think>first 12 then 30 and so 42 in all</think><answer>42</answer>"
    group = [candidate(base), candidate(one_word), candidate(other)]
    kept, removed = select([group], FilterSettings(near_duplicate=0.95), cap=None)
    assert responses(kept) == [base, other] and removed["near_duplicate"] == 1
    kept, removed = select([group], FilterSettings(near_duplicate=0.96), cap=None)
    assert len(kept) == 3 and removed["near_duplicate"] == 0


def test_near_duplicates_are_compared_with_kept_responses_only():
    # a ~ b and b ~ c, but a !~ c: with a kept and b dropped, c stays
    a = "<think>one two three four five six</think>"
    b = "<think>one two three four five seven</think>"
    c = "<think>one two three four nine seven</think>"
    kept, removed = select([[candidate(a), candidate(b), candidate(c)]], FilterSettings(near_duplicate=0.5),
                           cap=None)
    assert responses(kept) == [a, c] and removed["near_duplicate"] == 1


def test_the_cap_keeps_the_first_responses_of_each_prompt():
    first = [candidate(f"<think>{i}+{i}={2 * i}</think><answer>{2 * i}</answer>") for i in range(5)]
    second = [candidate(f"<think>{i}*{i}={i * i}</think><answer>{i * i}</answer>") for i in range(2, 4)]
    kept, removed = select([first, second, []], FilterSettings(), cap=2)
    assert responses(kept) == responses(first[:2] + second)
    assert removed["max_per_prompt"] == 3
    _, removed = select([first], FilterSettings(), cap=None)
    assert "max_per_prompt" not in removed


def test_every_response_is_kept_or_removed_once():
    group = [candidate(r) for r in (OK, OK, MIXED, CODE, ALL_ZH, LONG_PARAGRAPH, MIXED_AND_CODE, INLINE_CODE)]
    kept, removed = select([group, group[:3]], FilterSettings(max_paragraph_chars=60, near_duplicate=0.9),
                           cap=2)
    assert len(kept) + sum(removed.values()) == len(group) + 3
    assert len(kept) == 2 + 1


@pytest.mark.parametrize("cls", [RejectionConfig, FilterSettings, JudgeSettings])
def test_every_setting_is_documented(cls):
    assert [name for name, field in cls.model_fields.items() if not field.description] == []


@pytest.mark.parametrize("name", ["filters", "judge", "run"])
def test_docstring_examples(name):
    module = importlib.import_module(f"r1.rejection.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
