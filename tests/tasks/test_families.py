"""The three tiny-world families: deterministic draws, disjoint splits, verifiers that accept and reject."""

import random
import re
from collections import Counter

import pytest

from r1.errors import R1Error
from r1.tasks import FAMILIES, generate, get_family, sample_problems, split_of, verify
from r1.tasks.expr import evaluate

FAMILY_NAMES = ["arithmetic", "linear", "countdown"]
LEVELS = [1, 2, 3]
CASES = [(f, d) for f in FAMILY_NAMES for d in LEVELS]
FIELDS = {"id", "task", "problem", "answer", "solution"}


def final_answer_from_solution(record):
    """What a reader takes as the answer from the reference solution's last line."""
    last = record["solution"].splitlines()[-1]
    if record["task"] == "countdown":
        return last.split("=")[0]  # "(19+12)-3=28": the expression
    return last.split("=")[-1]      # "482+201=683", "x=36/3=12": the value


def true_answer(record):
    """Solve the problem text independently of the generator's own answer."""
    text = record["problem"]
    if record["task"] == "arithmetic":
        value, _ = evaluate(re.fullmatch(r"Compute (.+)\.", text)[1])
        return int(value)
    if record["task"] == "linear":
        m = re.fullmatch(r"Solve (\d+)x\+(\d+)=(?:(\d+)x\+)?(\d+)\.", text)
        a, b, c, e = int(m[1]), int(m[2]), int(m[3] or 0), int(m[4])
        x, rem = divmod(e - b, a - c)
        assert rem == 0
        return x
    raise AssertionError(record["task"])


@pytest.mark.parametrize("family, level", CASES)
def test_deterministic_by_seed(family, level):
    first = generate(family, "train", 20, seed=5, difficulty=level)
    assert first == generate(family, "train", 20, seed=5, difficulty=level)
    other = generate(family, "train", 20, seed=6, difficulty=level)
    assert [r["problem"] for r in first] != [r["problem"] for r in other]


@pytest.mark.parametrize("family, level", CASES)
def test_records_have_the_shared_shape(family, level):
    records = generate(family, "test", 15, seed=0, difficulty=level)
    assert len(records) == 15
    assert len({r["id"] for r in records}) == 15
    assert len({r["problem"] for r in records}) == 15
    for record in records:
        assert FIELDS <= set(record)
        assert record["task"] == family and record["difficulty"] == level
        assert all(isinstance(record[k], str) and record[k] for k in FIELDS)


@pytest.mark.parametrize("family, level", CASES)
def test_verifier_accepts_the_reference_and_the_solution(family, level):
    for record in generate(family, "train", 60, seed=1, difficulty=level):
        assert verify(record, record["answer"]), record
        assert verify(record, final_answer_from_solution(record)), record
        if family == "countdown":
            value, used = evaluate(record["answer"])
            assert value == record["target"] and Counter(used) == Counter(record["numbers"])
        else:
            assert int(record["answer"]) == true_answer(record), record


@pytest.mark.parametrize("family, level", CASES)
def test_every_solution_line_is_true(family, level):
    """Each "lhs=rhs" step of a reference solution holds (carry/borrow notes and x-steps aside)."""
    for record in generate(family, "train", 40, seed=2, difficulty=level):
        for line in record["solution"].splitlines():
            line = re.sub(r" (carry|borrow) \d$", "", line)
            if "x" in line or "<" in line:
                continue
            sides = line.split("=")
            values = {evaluate("0" + side if side.startswith("-") else side)[0] for side in sides}
            assert len(values) == 1, (record["problem"], line)


@pytest.mark.parametrize("family, level", CASES)
def test_chinese_steps_say_the_same_as_english(family, level):
    fam, rng = FAMILIES[family], random.Random(9)
    for _ in range(60):
        problem = fam.sample(rng, level)
        for step in fam.reasoning(problem, rng):
            assert re.findall(r"\d+", step.en) == re.findall(r"\d+", step.zh), step
            assert re.search(r"[\u4e00-\u9fff]", step.zh) and not re.search(r"[\u4e00-\u9fff]", step.en)


@pytest.mark.parametrize("family", ["arithmetic", "linear"])
@pytest.mark.parametrize("level", LEVELS)
def test_numeric_verifiers_reject_wrong_answers(family, level):
    for record in generate(family, "train", 40, seed=3, difficulty=level):
        truth = int(record["answer"])
        for wrong in (truth - 1, truth + 1, truth + 10, -truth if truth else 1):
            assert not verify(record, str(wrong)), (record, wrong)
        for junk in ("", "abc", f"{truth}abc", f"{truth}.5", f"{truth}+1", "None", f"{truth} {truth}"):
            assert not verify(record, junk), (record, junk)
        assert not verify(record, None)
        assert verify(record, f"  {truth} ")


def test_linear_accepts_x_equals_form():
    record = generate("linear", "train", 1, seed=0)[0]
    x = record["answer"]
    assert verify(record, f"x={x}") and verify(record, f"x = {x}") and verify(record, f"X={x}")
    assert not verify(record, f"y={x}")
    assert not verify(record, f"x={int(x) + 1}")


@pytest.mark.parametrize("level", LEVELS)
def test_countdown_rejects_misused_numbers(level):
    for record in generate("countdown", "train", 40, seed=4, difficulty=level):
        answer, numbers, target = record["answer"], record["numbers"], record["target"]
        n = numbers[0]
        assert not verify(record, f"({answer})+{n}-{n}")          # right value, a number used twice
        assert not verify(record, str(target))                      # omits the numbers
        assert not verify(record, f"({answer})+1")                  # off by one (and a foreign 1)
        assert not verify(record, f"({answer})*{target}/{target}")  # foreign numbers
        assert not verify(record, answer.replace("(", "", 1))       # unbalanced
        for junk in ("", "abc", "__import__('os')", f"{answer};1", "2**3", "0/0"):
            assert not verify(record, junk), junk


def test_countdown_verifier_on_a_hand_made_record():
    record = {"task": "countdown", "numbers": [1, 2, 3, 4], "target": 10}
    assert verify(record, "1+2+3+4")
    assert verify(record, "4*3-2*1")
    assert verify(record, "4×3−2÷1")
    assert verify(record, "(4*3-2)*1=10")
    assert not verify(record, "4*3-2")        # omits 1
    assert not verify(record, "(2+3)*2")      # 2 twice, omits 1 and 4
    assert not verify(record, "4*3-2+1-1")    # 1 twice
    assert not verify(record, "1+2+3*4")      # all used, wrong value (15)
    assert not verify(record, "1+2+3+4+0")    # a number that was not given


@pytest.mark.parametrize("family, level", CASES)
def test_wrong_answers_are_wrong(family, level):
    """The corpus's "plausible mistakes" must never be right answers."""
    fam, rng = FAMILIES[family], random.Random(7)
    for i in range(300):
        problem = fam.sample(rng, level)
        wrong = fam.wrong_answer(problem, rng)
        assert not fam.verify(problem.record("x", level), wrong), (problem.problem, wrong)


@pytest.mark.parametrize("family, level", CASES)
def test_train_and_test_are_disjoint(family, level):
    train = generate(family, "train", 300, seed=0, difficulty=level)
    test = generate(family, "test", 300, seed=0, difficulty=level)
    train_texts, test_texts = {r["problem"] for r in train}, {r["problem"] for r in test}
    assert len(train_texts) == len(test_texts) == 300
    assert not train_texts & test_texts
    assert {split_of(t) for t in train_texts} == {"train"}
    assert {split_of(t) for t in test_texts} == {"test"}


def test_split_share_is_about_one_in_ten():
    texts = [f"Compute {i}+{i + 1}." for i in range(5000)]
    share = sum(split_of(t) == "test" for t in texts) / len(texts)
    assert 0.08 < share < 0.12


@pytest.mark.parametrize("level", LEVELS)
def test_difficulty_shapes_the_problems(level):
    rng = random.Random(8)
    arithmetic = [FAMILIES["arithmetic"].sample(rng, level) for _ in range(200)]
    for p in arithmetic:
        assert len(re.findall(r"\d+", p.problem)) == level + 1
    ops = {op for p in arithmetic for op in re.findall(r"[-+*]", p.problem)}
    assert ops == set("+-*"[:level])
    countdown = [FAMILIES["countdown"].sample(rng, level) for _ in range(100)]
    assert all(len(p.fields["numbers"]) == level + 2 and 10 <= p.fields["target"] <= 200 for p in countdown)
    linear = [FAMILIES["linear"].sample(rng, level) for _ in range(100)]
    assert all(p.problem.count("x") == (1 if level == 1 else 2) for p in linear)


def test_generate_all_mixes_families_with_unique_ids():
    records = generate("all", "test", 10, seed=0)
    counts = Counter(r["task"] for r in records)
    assert set(counts) == set(FAMILY_NAMES) and sum(counts.values()) == 10
    assert max(counts.values()) - min(counts.values()) <= 1
    assert len({r["id"] for r in records}) == 10
    for record in records:
        assert verify(record, record["answer"])


def test_more_problems_extend_fewer():
    """n=5 is a prefix of n=10 with the same seed, so an eval's first problems never change."""
    assert generate("linear", "test", 5, seed=3) == generate("linear", "test", 10, seed=3)[:5]


def test_unknown_family_split_and_impossible_counts():
    with pytest.raises(R1Error, match="bogus"):
        get_family("bogus")
    with pytest.raises(R1Error, match="bogus"):
        generate("bogus", "train", 3)
    with pytest.raises(R1Error, match="valid"):
        sample_problems("linear", "valid", 3)
    with pytest.raises(R1Error, match="distinct"):
        sample_problems("linear", "test", 900, difficulty=1)  # only ~800 exist
