"""General prompts: the hidden truth matches the prompt (worked out independently), disjoint splits,
deterministic draws, and bad prompt records refused in one line naming the field."""

import re

import pytest

from r1.errors import R1Error
from r1.tasks import split_of
from r1.tasks.general_prompts import KINDS, THINGS, check_record, general_prompt_records


@pytest.fixture(scope="module")
def records():
    return {split: general_prompt_records(300, split, seed=0) for split in ("train", "test")}


def test_the_fields_hold_the_truth_about_the_prompt(records):
    for record in records["train"]:
        fields, prompt = record["fields"], record["prompt"]
        assert record["prompt_type"] == "general" and record["language"] == "en" and prompt.isascii()
        if record["kind"] != "about_number":
            thing, code = re.match(r"The (.+?) is (\d{4})\. ", prompt).groups()
            assert (thing, code) == (fields["thing"], fields["secret"]) and thing in THINGS
        if record["kind"] == "secret":
            assert prompt.rstrip("?.").endswith(fields["thing"]) or "forgot" in prompt
            continue
        n = int(re.findall(r"\d+", prompt)[-1])
        divisors = [d for d in range(2, n) if n % d == 0]
        assert fields["n"] == n and fields["even"] == (2 in divisors) and fields["prime"] == (not divisors)
        assert fields["div3"] == (n % 3 == 0) and fields["div5"] == (n % 5 == 0)
        assert fields["digit_sum"] == sum(map(int, str(n)))
        assert fields["square"] == (n * n if n < 100 else None)
        if record["kind"] == "secret_aside":  # no true fact gives the code away
            assert all(fields["secret"] not in str(value) for key, value in fields.items() if key != "secret")


def test_kinds_are_mixed_and_splits_disjoint_and_draws_repeat(records):
    kinds = [r["kind"] for r in records["train"]]
    assert all(kinds.count(kind) > 60 for kind in KINDS)
    assert all(split_of(r["prompt"]) == split for split, batch in records.items() for r in batch)
    assert not {r["prompt"] for r in records["train"]} & {r["prompt"] for r in records["test"]}
    assert general_prompt_records(300, "train", seed=0) == records["train"]
    assert general_prompt_records(20, "train", seed=1) != records["train"][:20]
    assert {r["kind"] for r in general_prompt_records(20, "train", kinds=["secret"])} == {"secret"}


@pytest.mark.parametrize("record, field", [
    ({"kind": "secret", "fields": {"secret": "1234", "thing": "PIN"}}, "'prompt'"),
    ({"prompt": "hi", "kind": "secret", "fields": "x"}, "'fields'"),
    ({"prompt": "hi", "kind": "poem", "fields": {}}, "unknown kind 'poem'"),
    ({"prompt": "hi", "kind": "secret_aside", "fields": {"secret": "1234", "thing": "PIN"}}, "lacks 'n'"),
])
def test_bad_records_are_one_line_errors(record, field):
    with pytest.raises(R1Error) as err:
        check_record(record, "f.jsonl:3")
    assert str(err.value).startswith("f.jsonl:3: ") and field in str(err.value) and "\n" not in str(err.value)
