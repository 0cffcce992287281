"""The writer: the quality mix is what the settings say (measured over a seeded sample), the oracle
agrees with what the writer says it did, responses are short, ASCII and readable."""

import random

import pytest
from pydantic import ValidationError

from r1.rewards.format import is_readable_format
from r1.tasks.general_prompts import general_prompt_records
from r1.tasks.oracle import claims, harm_in, helpfulness, is_true, sentences
from r1.rewards.extract import summary_text
from r1.tasks.writer import TWINS, WriterSettings, claim_twin, general_sft_records, twin_replies, write_response

PROMPTS = general_prompt_records(600, "train", seed=3)


def written(settings: WriterSettings, kinds=None):
    rng = random.Random(0)
    return [(r, *write_response(r, settings, rng)) for r in PROMPTS if kinds is None or r["kind"] in kinds]


def test_the_mix_follows_the_settings():
    settings = WriterSettings(min_facts=2, max_facts=3, wrong_rate=0.5, verbose_rate=0.3, off_topic_rate=0.2,
                              leaks={"none": 0.2, "summary": 0.3, "reasoning": 0.5})
    numbers = [q for r, _, q in written(settings, {"about_number", "secret_aside"})]
    facts = sum(q["facts"] for q in numbers)
    assert {q["facts"] for q in numbers} == {2, 3}
    assert sum(q["wrong"] for q in numbers) / facts == pytest.approx(0.5, abs=0.05)
    assert sum(q["verbose"] for q in numbers) / len(numbers) == pytest.approx(0.3, abs=0.06)
    assert sum(q["off_topic"] for q in numbers) / len(numbers) == pytest.approx(0.2, abs=0.05)
    secrets = [(r, text, q) for r, text, q in written(settings, {"secret", "secret_aside"})]
    for where, share in (("none", 0.2), ("summary", 0.3), ("reasoning", 0.5)):
        assert sum(q["leak"] == where for _, _, q in secrets) / len(secrets) == pytest.approx(share, abs=0.06)
    for record, text, quality in secrets:  # the oracle finds the leak where the writer put it
        assert harm_in(record, text) == (None if quality["leak"] == "none" else quality["leak"])


def test_the_oracle_counts_the_false_facts_the_writer_wrote():
    for record, text, quality in written(WriterSettings(off_topic_rate=0.0), {"about_number"}):
        stated = [c for s in sentences(summary_text(text)) for c in claims(s)]
        assert len(stated) == quality["facts"]
        assert sum(not is_true(c, record["fields"]["n"]) for c in stated) == quality["wrong"]


def test_clean_settings_write_perfect_responses_and_sloppy_ones_do_not():
    clean = WriterSettings(min_facts=3, max_facts=3, wrong_rate=0, verbose_rate=0, off_topic_rate=0,
                           leaks={"none": 1.0})
    sloppy = WriterSettings(wrong_rate=0.6, verbose_rate=0.5, off_topic_rate=0.3)
    assert all(helpfulness(r, text) == 1.0 for r, text, _ in written(clean))
    mean = sum(helpfulness(r, text) for r, text, _ in written(sloppy)) / len(PROMPTS)
    assert mean < 0.4


def test_responses_are_short_ascii_and_readable_and_seeded():
    records = general_sft_records(300, seed=0)
    assert all(is_readable_format(r["response"]) and r["response"].isascii() for r in records)
    assert max(len(r["response"]) for r in records) < 300
    assert sum(len(r["response"]) for r in records) / len(records) < 180
    assert general_sft_records(300, seed=0) == records and general_sft_records(300, seed=1) != records


@pytest.mark.parametrize("bad", [{"min_facts": 3, "max_facts": 2}, {"leaks": {"never": 1.0}},
                                 {"leaks": {"none": 0.0}}, {"wrong_rate": 1.5}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        WriterSettings(**bad)


def test_the_command_and_the_stage_write_sft_records(tmp_path):
    import json

    from typer.testing import CliRunner

    from r1.cli import app
    from r1.sft.data import conversation
    from r1.stages import get_stage

    out = tmp_path / "general.jsonl"
    result = CliRunner().invoke(app, ["tasks", "general-prompts", "--n", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == general_sft_records(12)
    for i, row in enumerate(rows):
        conversation(row, f"{out}:{i + 1}")  # r1 sft reads it
    stage = get_stage("general-data")
    cfg = stage.config_class()(output_dir=str(tmp_path / "stage"), n=12, responses=False)
    prompts = [json.loads(line) for line in stage.run_fn()(cfg).read_text().splitlines()]
    assert prompts == general_prompt_records(12) and "response" not in prompts[0]


def test_twin_replies_differ_in_one_thing_and_the_oracle_prefers_the_reply():
    rng = random.Random(0)
    seen = set()
    for record in PROMPTS[:300]:
        reply, twin, what = twin_replies(record, rng)
        seen.add(what)
        a, b = summary_text(reply), summary_text(twin)
        good, worse = helpfulness(record, reply), helpfulness(record, twin)
        longer = {"extra": 1, "repeat": 1, "fewer": -1}.get(what, 0)  # the twin's length against the reply's
        assert a != b and (len(sentences(b)) > len(sentences(a))) - (len(sentences(b)) < len(sentences(a))) == longer
        if what == "thing":  # a refusal naming the prompt's thing beats one naming another
            assert record["kind"] == "secret" and record["fields"]["thing"] in a
            assert (good, worse) == (1.0, 0.6)
        elif what == "fact":  # the same facts, one of them false in the twin
            assert sum(x != y for x, y in zip(sentences(a), sentences(b))) == 1
            assert good - worse >= 0.3
        elif what == "extra":  # the same true facts, and one or two false ones among them
            added = [s for s in sentences(b) if s not in sentences(a)]
            assert [s for s in sentences(b) if s in sentences(a)] == sentences(a) and 1 <= len(added) <= 2
            assert good - worse >= 0.3
        elif what == "fewer":  # one of the reply's three true facts alone
            assert len(sentences(a)) == 3 and sentences(b)[0] in sentences(a)
            assert (good, worse) == (1.0, pytest.approx(1 / 3))
        elif what == "repeat":  # one of the reply's true facts, said more times than the reply has sentences
            assert len(set(sentences(b))) == 1 and sentences(b)[0] in sentences(a)
            assert worse <= 1 / 3 and good >= 2 / 3  # one distinct fact (shrunk when the repeats run long)
        else:  # true facts about another number score nothing
            assert what == "number" and not any(s.startswith(f"{record['fields']['n']} ") for s in sentences(b))
            assert good >= 2 / 3 and worse == 0.0
    assert seen == set(TWINS)
    assert twin_replies(PROMPTS[0], random.Random(1)) == twin_replies(PROMPTS[0], random.Random(1))
    number = next(r for r in PROMPTS if r["kind"] != "secret")
    assert {twin_replies(number, rng, ("fewer",))[2] for _ in range(20)} == {"fewer"}


def test_claim_twin_is_one_claim_true_against_the_same_claim_false():
    rng = random.Random(0)
    kinds = set()
    for record in [r for r in PROMPTS if "n" in r["fields"]][:200]:
        n = int(record["fields"]["n"])
        reply, twin = claim_twin(record, rng)
        (true_claim,), (false_claim,) = (claims(summary_text(x)) for x in (reply, twin))
        assert is_true(true_claim, n) and not is_true(false_claim, n)
        assert true_claim[0] == false_claim[0]  # the same kind of fact
        kinds.add(true_claim[0])
        assert helpfulness(record, reply) == 1 / 3 and helpfulness(record, twin) == 0.0
    assert kinds == {"parity", "prime", "divisible", "digit_sum", "square"}
