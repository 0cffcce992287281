"""`r1 rm-data`: valid pairs (chosen beats rejected by the margin, never identical), balanced pointwise
examples with harm in the reasoning marked, disjoint held-out files; sampling from the session's tiny
model, and a resume after a torn samples file that redraws only what is missing; one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from r1.cli import app
from r1.errors import R1Error
from r1.models.corpus import render_chat
from r1.rm_data import RMDataConfig
from r1.rm_data.run import run
from r1.rewards.extract import summary_text
from r1.tasks import split_of
from r1.tasks.general_prompts import general_prompt_records
from r1.tasks.oracle import harm_in, harmlessness, helpfulness
from tests.test_cli import assert_one_line_error

K = 2


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_prompt(records: list[dict]) -> dict[str, dict]:
    return {r["prompt"]: r for r in records}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A run on written responses only."""
    out = tmp_path_factory.mktemp("rm-written")
    cfg = RMDataConfig(output_dir=str(out), train_prompts=60, test_prompts=15, margin=0.25)
    return cfg, run(cfg)


def test_pairs_are_valid_and_rescored_by_the_oracle(written):
    cfg, pairs_path = written
    out = pairs_path.parent
    records = by_prompt(general_prompt_records(60, "train") + general_prompt_records(15, "test"))
    for name, split in (("pairs.jsonl", "train"), ("pairs_test.jsonl", "test")):
        pairs = read_jsonl(out / name)
        assert len(pairs) > 20 and len({p["id"] for p in pairs}) == len(pairs)
        for pair in pairs:
            record = records[pair["prompt"]]
            assert split_of(pair["prompt"]) == split and pair["chosen"] != pair["rejected"]
            assert pair["chosen_score"] >= pair["rejected_score"] + cfg.margin
            assert pair["chosen_score"] == helpfulness(record, pair["chosen"])
            assert pair["rejected_score"] == helpfulness(record, pair["rejected"])
    stats = json.loads((out / "stats.json").read_text())
    assert stats["pairs"] == {"train": len(read_jsonl(pairs_path)), "test": len(read_jsonl(out / "pairs_test.jsonl"))}
    assert stats["ties_dropped"] > 0 and stats["by_source"]["writer"]["candidates"] > 0
    assert max(stats["by_kind"][k]["pairs"] / stats["by_kind"][k]["prompts"] for k in stats["by_kind"]) <= 8


def test_twin_pairs_join_the_train_pairs_only(written, tmp_path):
    cfg, pairs_path = written
    twinned = run(cfg.model_copy(update={"output_dir": str(tmp_path), "twins_per_prompt": 2}))
    records = by_prompt(general_prompt_records(60, "train"))
    plain, pairs = read_jsonl(pairs_path), read_jsonl(twinned)
    twins = [p for p in pairs if p["chosen_source"] == "twin"]
    assert [p for p in pairs if p["chosen_source"] != "twin"] == plain  # the other pairs are unchanged
    assert (tmp_path / "pairs_test.jsonl").read_text() == (pairs_path.parent / "pairs_test.jsonl").read_text()
    assert 100 <= len(twins) <= 120 == 2 * len(records)  # two per train prompt, the few ties dropped
    assert json.loads((tmp_path / "stats.json").read_text())["twin_pairs"] == len(twins)
    assert {p["twin"] for p in twins} == {"fact", "number", "extra", "fewer", "repeat", "thing"}
    for pair in twins:
        assert pair["rejected_source"] == "twin" and pair["chosen_score"] >= pair["rejected_score"] + cfg.margin
        assert pair["chosen_score"] == helpfulness(records[pair["prompt"]], pair["chosen"])


def test_claim_pairs_are_one_claim_true_against_false_and_change_no_other_pair(written, tmp_path):
    cfg, pairs_path = written
    claimed = run(cfg.model_copy(update={"output_dir": str(tmp_path), "claim_twins_per_prompt": 3}))
    records = by_prompt(general_prompt_records(60, "train"))
    plain, pairs = read_jsonl(pairs_path), read_jsonl(claimed)
    claims = [p for p in pairs if p.get("twin") == "claim"]
    assert [p for p in pairs if p.get("twin") != "claim"] == plain
    about_numbers = [r for r in records.values() if "n" in r["fields"]]
    assert len(claims) == 3 * len(about_numbers) > 60  # margin or not: these are exact contrasts
    assert json.loads((tmp_path / "stats.json").read_text())["claim_pairs"] == len(claims)
    for pair in claims:
        record = records[pair["prompt"]]
        assert len(summary_text(pair["chosen"]).split(". ")) == 1 and pair["chosen"] != pair["rejected"]
        assert pair["chosen_score"] == helpfulness(record, pair["chosen"]) > 0
        assert pair["rejected_score"] == helpfulness(record, pair["rejected"]) < pair["chosen_score"]


def test_world_claims_cover_every_number_on_train_prompts_only(written, tmp_path):
    cfg, pairs_path = written
    world = run(cfg.model_copy(update={"output_dir": str(tmp_path), "world_claims": {"div3": 1, "square": 2}}))
    plain, pairs = read_jsonl(pairs_path), read_jsonl(world)
    added = pairs[len(plain):]
    assert pairs[:len(plain)] == plain  # the other pairs are unchanged
    assert json.loads((tmp_path / "stats.json").read_text())["world_claim_pairs"] == len(added)
    numbers: dict[str, set[int]] = {"divisible by 3": set(), "square": set()}
    for pair in added:
        assert split_of(pair["prompt"]) == "train" and pair["twin"] == "claim"
        n = int(pair["prompt"].rstrip(".?").split()[-1])
        record = {"kind": pair["kind"], "fields": {"n": n}}
        assert pair["chosen_score"] == helpfulness(record, pair["chosen"]) > helpfulness(record, pair["rejected"])
        numbers["square" if "square" in pair["chosen"] else "divisible by 3"].add(n)
    assert numbers["divisible by 3"] == set(range(2, 1000))  # every number, on one of its four prompts at least
    assert numbers["square"] == set(range(2, 100))  # the square is a fact below 100 only
    square_pairs = sum("square" in p["chosen"] for p in added)
    assert square_pairs == 2 * sum(n < 100 for n in (int(p["prompt"].rstrip(".?").split()[-1]) for p in added
                                                      if "divisible by 3" in p["chosen"]))
    assert {p["kind"] for p in added} == {"about_number", "secret_aside"}
    with pytest.raises(ValueError, match="world_claims"):
        RMDataConfig(output_dir=str(tmp_path), world_claims={"cube": 1})


def test_pointwise_examples_are_balanced_and_mark_harm_in_the_reasoning(written):
    _, pairs_path = written
    out = pairs_path.parent
    records = by_prompt(general_prompt_records(60, "train") + general_prompt_records(15, "test"))
    train, test = read_jsonl(out / "pointwise.jsonl"), read_jsonl(out / "pointwise_test.jsonl")
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in test}
    for rows in (train, test):
        harmful = [r for r in rows if not r["label"]]
        assert len(harmful) == len(rows) - len(harmful) > 5  # one harmless per harmful
        assert any(r["harm_in"] == "reasoning" for r in harmful)
        for row in rows:
            record = records[row["prompt"]]
            assert row["label"] == (harmlessness(record, row["completion"]) == 1.0)
            assert row["harm_in"] == harm_in(record, row["completion"])


def test_sampling_from_a_model_and_resuming_a_torn_samples_file(tiny_model_dir, tmp_path, count_generate):
    cfg = RMDataConfig(output_dir=str(tmp_path / "a"), model=str(tiny_model_dir), k=K, max_new_tokens=24,
                       batch_size=K, train_prompts=4, test_prompts=1, writer_per_prompt=3, margin=0.1)
    run(cfg)
    stats = json.loads((tmp_path / "a" / "stats.json").read_text())
    assert stats["by_source"]["model"]["candidates"] + stats["repeats_dropped"] >= 5 * K
    samples = tmp_path / "a" / "samples.jsonl"
    first = samples.read_text()
    assert len(first.splitlines()) == 5 * K and len(count_generate) == 5  # one prompt a call
    lines = first.splitlines(keepends=True)
    samples.write_text("".join(lines[: 2 * K]) + lines[2 * K][:15])  # two prompts done, a torn third
    count_generate.clear()
    before = (tmp_path / "a" / "pairs.jsonl").read_text()
    run(cfg)
    drawn = general_prompt_records(4, "train") + general_prompt_records(1, "test")
    assert count_generate == [[render_chat(r["prompt"])] for r in drawn[2:]]  # the torn third on
    rows = sorted(read_jsonl(samples), key=lambda r: (r["id"], r["sample"]))
    assert rows == sorted((json.loads(x) for x in first.splitlines()), key=lambda r: (r["id"], r["sample"]))
    assert (tmp_path / "a" / "pairs.jsonl").read_text() == before
    with pytest.raises(R1Error, match="holds samples drawn with temperature=0.6, not 0.9"):
        run(cfg.model_copy(update={"temperature": 0.9}))


def test_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "prompts.jsonl"
    bad.write_text(json.dumps({"id": "x", "kind": "secret", "fields": {"secret": "1", "thing": "PIN"}}) + "\n")
    result = CliRunner().invoke(app, ["rm-data", f"output_dir={tmp_path / 'o'}", f"prompts={bad}"])
    assert_one_line_error(result, f"rm-data: prompts: {bad}:1: field 'prompt' is missing")
    for settings, needle in (({"writer": {"min_facts": 3, "max_facts": 3, "wrong_rate": 0, "verbose_rate": 0,
                                          "off_topic_rate": 0, "leaks": {"none": 1}}},
                              "no pairs could be formed"),  # every response perfect: all ties
                             ({"kinds": ["about_number"]}, "pointwise: no harmful train example"),
                             ({"writer_per_prompt": 0}, "no responses to label")):
        with pytest.raises(R1Error, match=needle) as err:
            run(RMDataConfig(output_dir=str(tmp_path / "p"), train_prompts=10, test_prompts=0, **settings))
        assert str(err.value).startswith("rm-data: ") and "\n" not in str(err.value)
        assert not (tmp_path / "p" / "pairs.jsonl").exists()
