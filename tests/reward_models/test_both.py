"""`r1 reward-models`: R1's two reward models as one stage, each exactly what `r1 train-rm` makes with
the same settings; bad settings fail as one line before either model trains; a pipeline names them
<stage>/helpfulness and <stage>/harmlessness."""

import json

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from r1.cli import app
from r1.errors import R1Error
from r1.reward_models.trainer import train
from tests.reward_models.conftest import FAST, harm_records, pair_records, rm_config, write_jsonl
from tests.test_cli import assert_one_line_error

STEPS = dict(max_steps=6, batch_size=8)


@pytest.fixture
def recipe(tiny_model_dir, tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", pair_records(40, seed=1, wrong_share=1.0))
    harm = write_jsonl(tmp_path / "harm.jsonl", harm_records(40, seed=2))
    settings = json.dumps({**FAST, **STEPS})
    path = tmp_path / "reward-models.yaml"
    path.write_text(f"output_dir: {tmp_path / 'both'}\nmodel: {tiny_model_dir}\nseed: 3\n"
                    f"helpfulness: {{<<: &s {settings}, data: {pairs}}}\n"
                    f"harmlessness: {{<<: *s, data: {harm}, lr: 2.0e-3}}\n")
    return path


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_both_models_are_the_train_rm_runs_of_their_settings(recipe, tiny_model_dir, tmp_path):
    result = invoke("reward-models", "-c", recipe)
    assert result.exit_code == 0, result.output
    both = tmp_path / "both"
    for name, data, settings in (("helpfulness", "pairs.jsonl", dict(objective="pairwise", on="summary", pool="sum")),
                                 ("harmlessness", "harm.jsonl", dict(objective="pointwise", on="whole", lr=2e-3))):
        info = json.loads((both / name / "final" / "r1_final.json").read_text())["reward_model"]
        assert (info["objective"], info["on"], info["pool"]) == (
            settings["objective"], settings["on"], settings.get("pool", "last")), name
        alone = tmp_path / f"alone-{name}"
        train(rm_config(tiny_model_dir, alone, tmp_path / data, seed=3, **{**STEPS, **settings}))
        mine, theirs = (load_file(d / "final" / "model.safetensors") for d in (both / name, alone))
        assert mine.keys() == theirs.keys() and all(mine[k].equal(theirs[k]) for k in mine), name
        assert json.loads((both / name / "eval.json").read_text()) == json.loads((alone / "eval.json").read_text())


def test_a_bad_setting_of_either_model_is_one_line_before_any_training(recipe, tmp_path):
    for override in ("harmlessness.lrr=1", "helpfulness.model=x", "harmlessness.objective=both",
                     "helpfulness.output_dir=x"):
        name, field = override.split("=")[0].split(".")
        assert_one_line_error(invoke("reward-models", "-c", recipe, override), name, field)
    assert not (tmp_path / "both").exists()
    # a problem found once a model's training starts names the model; the one trained before it is kept
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = invoke("reward-models", "-c", recipe, f"harmlessness.data={empty}")
    assert result.exit_code == 2 and "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"error: reward-models: harmlessness: data: {empty} holds no records"
    assert (tmp_path / "both" / "helpfulness" / "final" / "model.safetensors").is_file()


def test_a_pipeline_names_each_model_and_refuses_the_stage_alone(tiny_model_dir, tmp_path):
    from r1.pipeline import load_pipeline

    data = write_jsonl(tmp_path / "pairs.jsonl", pair_records(8, seed=1))
    recipe = tmp_path / "p.yaml"
    stages = [{"name": "rms", "kind": "reward-models",
               "settings": {"model": str(tiny_model_dir), "helpfulness": {"data": str(data)},
                            "harmlessness": {"data": str(data)}}},
              {"name": "rl", "kind": "grpo",
               "settings": {"model": str(tiny_model_dir), "reward": {"rewards": {"helpfulness": "rm:REF"}}}}]
    for ref, expected in (("rms/helpfulness", f"rm:{tmp_path}/out/rms/helpfulness"), ("rms", None)):
        stages[1]["settings"]["reward"]["rewards"]["helpfulness"] = f"rm:{ref}"
        recipe.write_text(json.dumps({"output_dir": str(tmp_path / "out"), "stages": stages}))
        if expected is None:
            with pytest.raises(R1Error, match="holds several reward models; name one as rms/<name>"):
                load_pipeline(recipe)
        else:
            plan = load_pipeline(recipe)
            assert plan.stages[1].config.reward.rewards["helpfulness"] == expected
            assert plan.stages[1].digest != load_pipeline(recipe, ["rms.helpfulness.lr=0.5"]).stages[1].digest


def test_members_are_seeded_runs_and_rm_names_their_ensemble(recipe, tmp_path):
    """members: {helpfulness: 2} trains two runs (seeds 3 and 4), lists them, and scores their ensemble
    held out: the mean of their centred scores, before the sigmoid, as `rm:<dir>` and a list of both score."""
    from r1.reward_models.reward import RewardModelReward, reward_model
    from r1.rewards import RewardCombiner, RewardWeights

    rows = pair_records(24, seed=5, wrong_share=0.5)
    held = write_jsonl(tmp_path / "pairs_test.jsonl", rows)
    assert_one_line_error(invoke("reward-models", "-c", recipe, "members.helpfulness=2"), "helpfulness", "eval_data")
    result = invoke("reward-models", "-c", recipe, "members.helpfulness=2", f"helpfulness.eval_data={held}")
    assert result.exit_code == 0, result.output
    helpful = tmp_path / "both" / "helpfulness"
    members = [helpful / "member0", helpful / "member1"]
    assert json.loads((helpful / "ensemble.json").read_text()) == {"members": ["member0", "member1"]}
    assert ["seed: 3" in (m / "train-rm_config.yaml").read_text().splitlines() for m in members] == [True, False]
    assert "seed: 4" in (members[1] / "train-rm_config.yaml").read_text().splitlines()
    assert (tmp_path / "both" / "harmlessness" / "final").is_dir()  # one model unless members says more
    assert not (tmp_path / "both" / "harmlessness" / "ensemble.json").exists()

    prompts = [r["prompt"] for r in rows]
    alone = [RewardModelReward(f"rm:{m}?transform=raw") for m in members]
    centred = {side: [rm.scores([r[side] for r in rows], prompt=prompts) - rm.spec.center for rm in alone]
               for side in ("chosen", "rejected")}
    mean = {side: (a + b) / 2 for side, (a, b) in centred.items()}
    report = json.loads((helpful / "eval.json").read_text())
    assert report["members"] == 2 and report["objective"] == "pairwise" and report["n"] == 24
    assert report["member_pair_accuracy"] == [json.loads((m / "eval.json").read_text())["pair_accuracy"]
                                              for m in members]
    assert report["pair_accuracy"] == pytest.approx(float((mean["chosen"] > mean["rejected"]).float().mean()))
    sigmoid = pytest.approx(torch.sigmoid(mean["chosen"]).tolist(), abs=1e-5)
    chosen = [r["chosen"] for r in rows]
    assert reward_model(f"rm:{helpful}")(chosen, prompt=prompts) == sigmoid
    listed = RewardCombiner(RewardWeights(rewards={"helpfulness": [f"rm:{m}" for m in members]}))
    assert listed.reward_fn("helpfulness")(chosen, prompt=prompts) == sigmoid
