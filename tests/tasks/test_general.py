"""Non-reasoning records: correct replies, empty reasoning in R1's readable format, disjoint splits,
deterministic draws (their characters are checked with the cold-start records)."""

import re
from collections import Counter

import pytest

from r1.errors import R1Error
from r1.rewards.extract import think_text
from r1.rewards.format import format_readable
from r1.tasks import FAMILIES, split_of
from r1.tasks.general import IDENTITY, KINDS, non_reasoning_records, number_words

ZH = {"plus": "加", "minus": "减", "times": "乘", "divided by": "除以", "equals": "等于",
      "is not equal to": "不等于"}


@pytest.fixture(scope="module")
def records():
    return {split: non_reasoning_records(400, split, seed=0) for split in ("train", "test")}


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (58, "fifty-eight"), (100, "one hundred"),
    (105, "one hundred five"), (347, "three hundred forty-seven"), (1000, "one thousand"),
    (2024, "two thousand twenty-four"), (9999, "nine thousand nine hundred ninety-nine"),
    (120315, "one hundred twenty thousand three hundred fifteen"),
])
def test_number_words(n, words):
    assert number_words(n) == words


def test_responses_have_an_empty_reasoning_in_the_readable_format(records):
    for split, batch in records.items():
        responses = [r["response"] for r in batch]
        assert format_readable(responses) == [1.0] * len(batch)
        assert all(think_text(r).strip() == "" for r in responses)
        assert all(r["response"] == f"<think>\n</think><summary>{r['reference']}</summary>" for r in batch)
        assert {r["prompt_type"] for r in batch} == {"non_reasoning"}
        assert {r["task"] for r in batch} == {"general"}
    assert "general" not in FAMILIES  # RL over the task families never meets these


def check_reply(record) -> bool:
    """Work the reply out from the prompt, independently of the generator."""
    prompt, reply, kind = record["prompt"], record["reference"], record["kind"]
    if kind == "identity":
        return reply == IDENTITY[prompt] and "r1" in reply
    if kind == "number_words":
        if m := re.fullmatch(r"Write (\d+) in words\.", prompt):
            return reply == f"{m[1]} in words is {number_words(int(m[1]))}."
        words = re.fullmatch(r"Write (.+) as a number\.", prompt)[1]
        n = next(i for i in range(10000) if number_words(i) == words)
        return reply == f"{words.capitalize()} is {n}."
    if kind == "compare":
        which, a, b = re.fullmatch(r"Which is (larger|smaller), (\d+) or (\d+)\?", prompt).groups()
        lo, hi = sorted([int(a), int(b)])
        return reply == (f"{hi} is larger than {lo}." if which == "larger" else f"{lo} is smaller than {hi}.")
    target, text = re.fullmatch(r"Translate into (Chinese|English): (.+)", prompt).groups()
    english, chinese = (text, reply) if target == "Chinese" else (reply, text)
    words = re.fullmatch(r"(\d+) (plus|minus|times|divided by) (\d+) equals (\d+)"
                         r"|(\d+) is not equal to (\d+)", english)
    a, op, b, result, x, y = words.groups()
    if op is None:
        return int(x) != int(y) and chinese == f"{x}{ZH['is not equal to']}{y}"
    value = {"plus": int(a) + int(b), "minus": int(a) - int(b), "times": int(a) * int(b),
             "divided by": int(a) / int(b)}[op]
    return value == int(result) and chinese == f"{a}{ZH[op]}{b}{ZH['equals']}{result}"


def test_replies_are_correct(records):
    for batch in records.values():
        wrong = [r for r in batch if not check_reply(r)]
        assert not wrong, wrong[:2]
    languages = Counter((r["kind"], r["language"]) for r in records["train"])
    assert languages[("translate", "zh")] > 20 and languages[("translate", "en")] > 20


def test_kinds_mix_and_identity_prompts_are_few(records):
    kinds = Counter(r["kind"] for r in records["train"])
    assert set(kinds) == set(KINDS)
    assert kinds["identity"] <= len(IDENTITY) and min(kinds[k] for k in KINDS if k != "identity") > 80


def test_splits_are_disjoint_by_prompt_hash_and_prompts_distinct(records):
    for split, batch in records.items():
        assert all(split_of(r["prompt"]) == split for r in batch)
        assert len({r["prompt"] for r in batch}) == len(batch)
        assert len({r["id"] for r in batch}) == len(batch)
    assert not {r["prompt"] for r in records["train"]} & {r["prompt"] for r in records["test"]}


def test_seeded_and_deterministic(records):
    assert non_reasoning_records(400, "train", seed=0) == records["train"]
    other = non_reasoning_records(400, "train", seed=1)
    assert len({r["prompt"] for r in other} & {r["prompt"] for r in records["train"]}) < 100
    only = non_reasoning_records(50, "train", seed=0, kinds=["compare"])
    assert {r["kind"] for r in only} == {"compare"}


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(R1Error, match="unknown split 'dev'"):
        non_reasoning_records(3, "dev")
    with pytest.raises(R1Error, match="unknown non-reasoning kind 'poetry'"):
        non_reasoning_records(3, kinds=["poetry"])
    with pytest.raises(R1Error, match=r"only \d+ distinct train prompts of kinds identity"):
        non_reasoning_records(100, kinds=["identity"])
    with pytest.raises(R1Error, match="n: .* >= 1"):
        non_reasoning_records(0)
