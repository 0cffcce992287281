"""Cold-start records: right, in R1's readable format, English only, every reference step written out,
train problems only, deterministic; they and the non-reasoning records use only characters the tiny
tokenizer knows."""

import re

import pytest

from r1.errors import R1Error
from r1.models.corpus import render_chat
from r1.rewards.extract import extract_answer, think_text
from r1.rewards.format import format_readable
from r1.rewards.language import language_consistency
from r1.rewards.tiny import tiny_accuracy
from r1.tasks import FAMILIES, generate, per_family, sample_problems, split_of
from r1.tasks.cold_start import cold_start_records
from r1.tasks.general import non_reasoning_records

N = 300  # per family
HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # CJK characters and punctuation


def scores(records):
    keys = ("task", "answer", "numbers", "target", "language")
    fields = {key: [r.get(key) for r in records] for key in keys}
    responses = [r["response"] for r in records]
    return (tiny_accuracy(responses, **fields), format_readable(responses),
            language_consistency(responses, **fields))


@pytest.fixture(scope="module")
def records():
    return {name: cold_start_records(N, seed=0, families=[name]) for name in FAMILIES}


@pytest.fixture(scope="module")
def step_records():
    return {name: cold_start_records(N, seed=0, families=[name], style="steps") for name in FAMILIES}


@pytest.mark.parametrize("style", ["prose", "steps"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_record_is_right_readable_and_in_one_language(records, step_records, family, style):
    batch = (records if style == "prose" else step_records)[family]
    assert len(batch) == N and {r["task"] for r in batch} == {family}
    accuracy, fmt, language = scores(batch)
    assert accuracy == [1.0] * N and fmt == [1.0] * N and language == [1.0] * N
    for r in batch:
        assert (r["prompt"], r["language"], r["prompt_type"]) == (r["problem"], "en", "reasoning")
        assert not HAN.search(r["response"]), r["response"]
        summary = r["response"].split("<summary>")[1]
        assert summary.endswith(f"so the answer is \\boxed{{{r['answer']}}}.</summary>"), summary
        assert extract_answer(r["response"]) == r["answer"]


@pytest.mark.parametrize("family, difficulty", [("arithmetic", 2), ("arithmetic", 3), ("linear", 2),
                                                ("countdown", 2)])
def test_harder_problems_are_right_too(family, difficulty):
    batch = cold_start_records(100, seed=1, families=[family], difficulty=difficulty)
    accuracy, fmt, language = scores(batch)
    assert accuracy == [1.0] * 100 and fmt == [1.0] * 100 and language == [1.0] * 100
    assert all(r["difficulty"] == difficulty for r in batch)
    if family == "arithmetic":  # a negative intermediate result is rewritten before it is worked out
        assert any("Rewrite it first: " in r["response"] for r in batch)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_reference_step_is_written_out_in_order_one_per_line(records, family):
    problems = sample_problems(family, "train", N, seed=0)
    for record, problem in zip(records[family], problems):
        assert record["problem"] == problem.problem
        lines = think_text(record["response"]).strip("\n").split("\n")
        assert len(lines) > len(problem.steps) and all(line.endswith(".") for line in lines)
        at = 0
        for step in problem.steps:  # `7+5=12 carry 1` is written as `7+5=12, write 2 and carry 1`
            equation = re.split(r" (?:carry|borrow) \d$", step.en)[0]
            found = next((i for i in range(at, len(lines)) if equation in lines[i]), None)
            assert found is not None, (equation, lines)
            at = found


@pytest.mark.parametrize("family", list(FAMILIES))
def test_steps_style_writes_the_base_corpus_steps_in_english_after_an_opening(step_records, family):
    problems = sample_problems(family, "train", N, seed=0)
    for record, problem in zip(step_records[family], problems):
        opening, *steps = think_text(record["response"]).strip("\n").split("\n")
        assert opening.startswith("We need to ") and opening.endswith(".")
        if family != "countdown":  # countdown's search draws its failed attempts afresh
            assert steps == [step.en for step in problem.steps]
        assert record["response"].endswith(f"{steps[-1]}, so the answer is \\boxed{{{record['answer']}}}."
                                           "</summary>")


def test_unknown_style_is_a_one_line_error():
    with pytest.raises(R1Error, match="style: 'poem' is not one of prose, steps"):
        cold_start_records(3, style="poem")


def test_countdown_shows_failed_attempts_before_the_one_that_works(records):
    failed = [r["response"].count("; try another way.") for r in records["countdown"]]
    # the family's reasoning draws 0, 1, 1 or 2 attempts, some of which hit the target by chance
    assert 0.2 < sum(f == 0 for f in failed) / N < 0.4 and max(failed) == 2
    assert sum(failed) / N > 0.7


def test_problems_come_from_the_train_split_only(records):
    test_problems = {r["problem"] for r in generate("all", "test", 600, seed=0)}
    for batch in records.values():
        assert all(split_of(r["prompt"]) == "train" for r in batch)
        assert not test_problems & {r["prompt"] for r in batch}


def test_seeded_and_deterministic(records):
    again = cold_start_records(N, seed=0, families=["countdown"])
    assert again == records["countdown"]
    other = cold_start_records(N, seed=1, families=["countdown"])
    assert len({r["prompt"] for r in other} & {r["prompt"] for r in again}) < N // 2


def test_mixed_families_split_n_evenly():
    batch = cold_start_records(7, seed=0)
    assert [r["task"] for r in batch] == [name for name, count in per_family(7, list(FAMILIES))
                                          for _ in range(count)]
    assert len({r["id"] for r in batch}) == 7


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(R1Error, match="unknown task family 'algebra'"):
        cold_start_records(3, families=["algebra"])
    with pytest.raises(R1Error, match="n: .* >= 1"):
        cold_start_records(0)


def test_every_character_is_in_the_tiny_vocabulary_and_records_fit_the_context(records, step_records,
                                                                               tiny_tokenizer):
    """Cold-start and non-reasoning text, tokenized by a tokenizer built fresh as `r1 pretrain` builds it."""
    general = non_reasoning_records(400, "train") + non_reasoning_records(400, "test")
    cold = [r for batch in [*records.values(), *step_records.values()] for r in batch]
    texts = [render_chat(r["prompt"], r["response"]) for r in cold + general]
    ids = tiny_tokenizer(texts, add_special_tokens=False)["input_ids"]
    unknown = [t for t, i in zip(texts, ids) if tiny_tokenizer.unk_token_id in i]
    assert not unknown, unknown[:1]
    assert any("除以" in t for t in texts) and any("不等于" in t for t in texts)
    longest = max(len(i) for i in ids[:len(cold)])
    assert 350 < longest <= 512, longest  # long chains of thought, within the base model's 512 positions
