"""GRPO's compute count on the session's tiny model: the FLOPs of a step are the formula of
r1.train.flops over the tokens it sampled and trained on; max_flops stops the run after the step that
reaches it; match_flops_of reads another run's r1_final.json; bad budgets fail in one line."""

import json
import shutil

import pytest
from typer.testing import CliRunner

import r1.grpo.trainer as trainer
from r1.cli import app
from r1.config import load_config
from r1.errors import R1Error
from r1.grpo.config import GRPOConfig
from r1.models.load import load_model
from r1.prompts import build_prompt
from r1.train.telemetry import read_log
from tests.test_cli import assert_one_line_error

PROBLEMS = ["Compute 347+285.", "Compute 120+466.", "Compute 903+118.", "Compute 555+321."]  # equal lengths
SMALL = dict(prompts_per_step=2, group_size=3, max_new_tokens=24, stop=[], task="gsm8k", save_every=0,
             log_completions_every=0)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("flops") / "train.jsonl"
    path.write_text("".join(json.dumps({"id": i, "problem": p, "answer": str(eval(p[8:-1]))}) + "\n"
                            for i, p in enumerate(PROBLEMS)))
    return path


def config(model_dir, data, out, **overrides) -> GRPOConfig:
    return GRPOConfig(output_dir=str(out), model=str(model_dir), data=str(data), **{**SMALL, **overrides})


def final_info(out) -> dict:
    return json.loads((out / "final" / "r1_final.json").read_text())


def test_step_flops_are_the_formula_over_sampled_and_trained_tokens(tiny_model_dir, tiny_tokenizer, data,
                                                                    tmp_path):
    """rows = 2 prompts x 3 completions of P prompt tokens; no stop strings, so a completion that finished
    sampled an eos, which training appends. Generation 2N (P + L) per row; the update 6N per token for
    each of mu = 2 passes, plus 2N each for the reference (beta > 0) and the entropy pass (q < 1)."""
    n = sum(p.numel() for p in load_model(tiny_model_dir).parameters())
    lengths = {len(tiny_tokenizer.encode(build_prompt(tiny_tokenizer, p), add_special_tokens=False))
               for p in PROBLEMS}
    assert len(lengths) == 1
    p, rows = lengths.pop(), 2 * 3
    out = tmp_path / "run"
    trainer.train(config(tiny_model_dir, data, out, max_steps=2, beta=0.04, mu=2, top_entropy_quantile=0.5))
    log, total = read_log(out / "log.jsonl"), 0.0
    for row in log:
        assert row["skipped"] is False  # beta > 0: every step updates
        sampled = rows * (p + row["completion_len_mean"])
        trained = sampled + rows * (1 - row["truncated_frac"])  # + the eos of each finished completion
        expected = 2 * n * sampled + (6 * 2 + 2 + 2) * n * trained
        assert row["step_flops"] == pytest.approx(expected, rel=1e-6)
        total += row["step_flops"]
        assert row["flops"] == pytest.approx(total, rel=1e-9)
    done = final_info(out)
    assert done["flops"] == pytest.approx(total, rel=1e-9) and done["parameters"] == n and done["train_s"] > 0


def test_max_flops_stops_after_the_step_that_reaches_it_and_match_flops_of_reads_it(tiny_model_dir, data,
                                                                                    tmp_path):
    full = tmp_path / "full"
    trainer.train(config(tiny_model_dir, data, full, max_steps=3))
    counts = [row["flops"] for row in read_log(full / "log.jsonl")]
    assert len(counts) == 3 and counts[0] < counts[1] < counts[2]

    halfway = tmp_path / "halfway"  # between steps 1 and 2: step 2 reaches it and is the last
    trainer.train(config(tiny_model_dir, data, halfway, max_steps=3, max_flops=(counts[0] + counts[1]) / 2))
    assert [row["flops"] for row in read_log(halfway / "log.jsonl")] == counts[:2]
    assert (final_info(halfway)["steps"], final_info(halfway)["flops"]) == (2, counts[1])

    exact = tmp_path / "exact"  # reached exactly at step 1
    trainer.train(config(tiny_model_dir, data, exact, max_steps=3, max_flops=counts[0]))
    assert final_info(exact)["steps"] == 1

    matched = tmp_path / "matched"  # the full run's count (its r1_final.json) is the budget; max_steps is not
    trainer.train(config(tiny_model_dir, data, matched, max_steps=10, match_flops_of=str(full)))
    assert (final_info(matched)["steps"], final_info(matched)["flops"]) == (3, counts[2])


def test_bad_budgets_are_refused_in_one_line_before_any_work(tiny_model_dir, data, tmp_path):
    with pytest.raises(R1Error, match="key 'max_flops' = 0: Input should be greater than 0"):
        load_config(GRPOConfig, overrides=[f"model={tiny_model_dir}", "output_dir=x", "max_flops=0"])
    with pytest.raises(R1Error, match="give max_flops or match_flops_of, not both"):
        config(tiny_model_dir, data, tmp_path / "a", max_flops=1e9, match_flops_of=str(tiny_model_dir)).check()
    unfinished = tmp_path / "unfinished"  # a model directory no r1 stage finished: no r1_final.json
    shutil.copytree(tiny_model_dir, unfinished)
    (unfinished / "r1_final.json").unlink()
    with pytest.raises(R1Error, match=f"match_flops_of: {unfinished} has no r1_final.json"):
        trainer.train(config(tiny_model_dir, data, tmp_path / "b", match_flops_of=str(unfinished)))
    (unfinished / "r1_final.json").write_text(json.dumps({"stage": "pretrain", "steps": 80}))
    result = CliRunner().invoke(app, ["grpo", f"model={tiny_model_dir}", f"output_dir={tmp_path / 'c'}",
                                      f"match_flops_of={unfinished}"])
    assert_one_line_error(result, "match_flops_of:", "records no FLOPs count")
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()  # refused before any work


def test_a_pipeline_stage_may_match_the_flops_of_an_earlier_one(tiny_model_dir, tmp_path):
    from r1.pipeline import load_pipeline

    recipe = tmp_path / "pipeline.yaml"
    recipe.write_text(json.dumps({"output_dir": str(tmp_path / "runs"), "stages": [
        {"name": "student", "kind": "model", "settings": {"model": str(tiny_model_dir)}},
        {"name": "rl", "kind": "grpo", "settings": {"model": "student", "match_flops_of": "student"}}]}))
    rl = load_pipeline(recipe).find("rl")
    assert rl.config.match_flops_of == str(tmp_path / "runs" / "student" / "final")
