"""Rewards on the shipped benchmarks: every reference solution scores 1, paired with the wrong record ~0.

MBPP is the code reward's (tests/rewards/test_code_reward.py).
"""

import pytest

from r1.eval.data import load_benchmark
from r1.rewards import get_reward, gsm8k_accuracy, math_accuracy
from r1.tasks import FAMILIES, generate


def shifted(items: list) -> list:
    return items[1:] + items[:1]


@pytest.fixture(scope="module")
def gsm8k():
    return load_benchmark("gsm8k")[0]


@pytest.fixture(scope="module")
def gsm8k_train():
    from r1.eval.data import benchmark_path, read_jsonl

    return read_jsonl(benchmark_path("gsm8k", "train"))


@pytest.fixture(scope="module")
def math500():
    return load_benchmark("math500")[0]


@pytest.fixture(scope="module")
def aime24():
    return load_benchmark("aime24")[0]


def test_gsm8k_final_numbers(gsm8k):
    completions = [f"<think>{r['solution']}</think> The answer is $\\boxed{{{r['answer']}}}$." for r in gsm8k]
    answers, ids = [r["answer"] for r in gsm8k], [r["id"] for r in gsm8k]
    assert gsm8k_accuracy(completions, answer=answers, id=ids) == [1.0] * len(gsm8k)
    wrong = gsm8k_accuracy(completions, answer=shifted(answers), id=shifted(ids))
    assert sum(wrong) / len(wrong) < 0.05


def test_gsm8k_reference_solutions_with_answer_tags(gsm8k):
    # the "#### N" line of a reference solution, as a model trained on GSM8K would write it
    completions = [r["solution"].replace("#### ", "<answer>") + "</answer>" for r in gsm8k]
    assert gsm8k_accuracy(completions, answer=[r["answer"] for r in gsm8k]) == [1.0] * len(gsm8k)


def test_gsm8k_train_split_ships_and_its_references_score_one(gsm8k_train, gsm8k):
    assert len(gsm8k_train) == 7473 and len({r["id"] for r in gsm8k_train}) == 7473
    assert not {r["problem"] for r in gsm8k_train} & {r["problem"] for r in gsm8k}  # no test problem
    completions = [r["solution"].replace("#### ", "<answer>") + "</answer>" for r in gsm8k_train]
    answers, ids = [r["answer"] for r in gsm8k_train], [r["id"] for r in gsm8k_train]
    assert gsm8k_accuracy(completions, answer=answers, id=ids) == [1.0] * len(gsm8k_train)
    wrong = gsm8k_accuracy(completions, answer=shifted(answers), id=shifted(ids))
    assert sum(wrong) / len(wrong) < 0.05


@pytest.mark.parametrize("field", ["answer", "solution"])
def test_math500(math500, field):
    completions = [f"\\boxed{{{r['answer']}}}" if field == "answer" else r["solution"] for r in math500]
    answers, ids = [r["answer"] for r in math500], [r["id"] for r in math500]
    assert len(math500) == 500 and len({r["id"] for r in math500}) == 500  # the whole benchmark
    scores = math_accuracy(completions, answer=answers, id=ids)
    assert [r["id"] for r, s in zip(math500, scores) if s != 1.0] == []
    wrong = math_accuracy(completions, answer=shifted(answers), id=shifted(ids))
    assert sum(wrong) / len(wrong) < 0.05


def test_aime24(aime24):
    completions = [f"<think>...</think><answer>{r['answer_raw']}</answer>" for r in aime24]  # e.g. 025
    answers = [r["answer"] for r in aime24]
    assert math_accuracy(completions, answer=answers) == [1.0] * len(aime24)
    wrong = math_accuracy(completions, answer=shifted(answers))
    assert sum(wrong) / len(wrong) < 0.05  # two AIME answers may coincide; none do in 2024


def test_math_scores_agree_through_the_accuracy_dispatch(math500):
    records = math500[:40]
    completions = [r["solution"] for r in records]
    scores = get_reward("accuracy")(completions, task=["math"] * len(records),
                                    answer=[r["answer"] for r in records])
    assert scores == [1.0] * len(records)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_tiny_world_reference_solutions(family):
    records = generate(family, "test", 60, seed=3)
    completions = [f"<think>\n{r['solution']}\n</think>\n<answer>{r['answer']}</answer>" for r in records]
    fields = {key: [r.get(key) for r in records] for key in ("id", "task", "answer", "numbers", "target")}
    accuracy, fmt = get_reward("tiny_accuracy"), get_reward("format_r1_zero")
    assert accuracy(completions, **fields) == [1.0] * len(records)
    assert fmt(completions) == [1.0] * len(records)
    wrong = accuracy(shifted(completions), **fields)
    assert sum(wrong) / len(wrong) < 0.05
