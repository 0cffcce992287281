"""`r1 pipeline`: stages in order, each config checked before anything runs, finished stages skipped,
changed stages (and what depends on them) re-run, and a real SIGKILL inside each kind of stage resumed
to the same final weights as an uninterrupted run."""

import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

from r1.cli import app
from r1.errors import R1Error
from r1.pipeline import MARKER, load_pipeline, run_pipeline
from r1.stages import STAGES
from tests.killing import kill_after_checkpoint

PRETRAIN = dict(max_steps=12, batch_size=4, block_size=64, hidden_size=32, num_layers=1, num_heads=2,
                intermediate_size=64, warmup_steps=2, log_every=1, save_every=2, precision="fp32")
SFT = dict(model="base", families=["arithmetic"], train_problems=24, batch_size=4, max_steps=6, lr=3e-3,
           save_every=2, max_seq_len=256)
GRPO = dict(model="cold_start", families=["arithmetic"], train_problems=20, prompts_per_step=2, group_size=2,
            max_new_tokens=16, max_steps=5, save_every=1, rollout_batch_size=16, lr=1e-3)


def write_recipe(path: Path, out: Path, **changes) -> Path:
    stages = [{"name": "base", "kind": "pretrain", "settings": dict(PRETRAIN)},
              {"name": "cold_start", "kind": "sft", "settings": dict(SFT)},
              {"name": "rl", "kind": "grpo", "settings": dict(GRPO)}]
    for stage in stages:
        stage["settings"].update(changes.get(stage["name"], {}))
    path.write_text(yaml.safe_dump({"output_dir": str(out), "seed": 1, "stages": stages}))
    return path


def weights(out: Path, stage: str) -> dict[str, torch.Tensor]:
    return load_file(out / stage / "final" / "model.safetensors")


def test_every_stage_is_checked_before_the_first_runs(tmp_path):
    out = tmp_path / "run"
    bad = write_recipe(tmp_path / "bad.yaml", out, rl={"loss_type": "cispo", "delta": 2})
    for stage in STAGES.values():  # imports (torch, transformers) done, so the clock measures the check
        stage.config_class()
    tick = time.time()
    with pytest.raises(R1Error, match=r"stage 'rl'.*loss_type=cispo has none"):
        load_pipeline(bad)
    assert time.time() - tick < 5 and not out.exists()  # not after minutes of pretraining
    typo = write_recipe(tmp_path / "typo.yaml", out, rl={"lrr": 1.0})
    with pytest.raises(R1Error, match=r"stage 'rl'.*unknown key 'lrr'"):
        load_pipeline(typo)
    later = write_recipe(tmp_path / "later.yaml", out, cold_start={"model": "rl"})
    with pytest.raises(R1Error, match="names stage 'rl', which runs later"):
        load_pipeline(later)
    missing = write_recipe(tmp_path / "missing.yaml", out, cold_start={"model": "bse"})
    with pytest.raises(R1Error, match="'bse' is neither an earlier stage"):
        load_pipeline(missing)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({"output_dir": str(out), "stages": [{"name": "x", "kind": "distil"}]}))
    with pytest.raises(R1Error, match="unknown stage kind 'distil'"):
        load_pipeline(unknown)
    result = CliRunner().invoke(app, ["pipeline", "-c", str(bad)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_reruns_skip_finished_stages_and_redo_changed_ones(tmp_path):
    out = tmp_path / "run"
    recipe = write_recipe(tmp_path / "r.yaml", out)
    run_pipeline(load_pipeline(recipe))
    stamps = {s: (out / s / "final" / "model.safetensors").stat().st_mtime_ns for s in ("base", "cold_start", "rl")}
    run_pipeline(load_pipeline(recipe))  # nothing changed: every stage skipped
    assert {s: (out / s / "final" / "model.safetensors").stat().st_mtime_ns for s in stamps} == stamps
    changed = write_recipe(tmp_path / "r2.yaml", out, cold_start={"lr": 1e-3})
    run_pipeline(load_pipeline(changed))  # sft changed: it and the RL stage after it re-run
    after = {s: (out / s / "final" / "model.safetensors").stat().st_mtime_ns for s in stamps}
    assert after["base"] == stamps["base"]
    assert after["cold_start"] != stamps["cold_start"] and after["rl"] != stamps["rl"]
    assert (out / "cold_start.stale").is_dir()  # the old stage directory kept aside, not mixed in
    run_pipeline(load_pipeline(changed), only="rl")  # --only forces that one stage
    assert (out / "rl" / "final" / "model.safetensors").stat().st_mtime_ns != after["rl"]
    assert (out / "base" / "final" / "model.safetensors").stat().st_mtime_ns == stamps["base"]


@pytest.mark.slow
def test_a_kill_inside_each_kind_of_stage_resumes_to_the_same_weights(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    run_pipeline(load_pipeline(write_recipe(tmp_path / "whole.yaml", whole)))
    recipe = write_recipe(tmp_path / "killed.yaml", killed)
    script = ("import sys\nfrom r1.cli import app\n"
              f"sys.argv = ['r1', 'pipeline', '-c', {str(recipe)!r}]\napp()\n")
    for stage in ("base", "cold_start", "rl"):  # pretrain, sft, grpo
        stopped_at = kill_after_checkpoint(script, killed / stage, 2, timeout=300)
        assert stopped_at >= 2 and not (killed / stage / "final").exists(), stage
        marker = yaml.safe_load((killed / stage / MARKER).read_text())
        assert marker["finished"] is False
    run_pipeline(load_pipeline(recipe))
    for stage in ("base", "cold_start", "rl"):
        a, b = weights(whole, stage), weights(killed, stage)
        assert a.keys() == b.keys()
        for name in a:
            torch.testing.assert_close(b[name], a[name], rtol=0, atol=0, msg=f"{stage}: {name}")


def test_a_file_of_an_earlier_stage_is_named_stage_slash_file(tmp_path):
    out = tmp_path / "run"
    stages = [{"name": "cs", "kind": "cold-start-data", "settings": {"n": 3}},
              {"name": "tune", "kind": "sft", "settings": {**SFT, "model": "base", "data": "cs/other.jsonl"}}]
    stages.insert(0, {"name": "base", "kind": "pretrain", "settings": dict(PRETRAIN)})
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    plan = load_pipeline(path)
    tune = plan.find("tune")
    assert tune.config.data == str(out / "cs" / "other.jsonl")
    stages[1]["settings"]["n"] = 4  # the file's stage changed: the reader's hash changes with it
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    assert load_pipeline(path).find("tune").digest != tune.digest
    stages[1], stages[2] = stages[2], stages[1]
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    with pytest.raises(R1Error, match="names stage 'cs/other.jsonl', which runs later"):
        load_pipeline(path)


def test_a_reward_model_stage_is_named_in_the_reward_weights_as_rm_stage(tmp_path):
    out = tmp_path / "run"
    rm = {"name": "rm", "kind": "train-rm", "settings": {"model": "base", "data": "pairs/pairs.jsonl",
                                                         "objective": "pairwise", "on": "summary"}}
    rl = {"name": "rl", "kind": "grpo", "settings": {**GRPO, "model": "base", "reward": {
        "general": {"helpfulness": 1.0, "harmlessness": 1.0}, "rewards": {
            "helpfulness": "rm:rm?on=whole", "harmlessness": ["rm:rm", "format_readable"],
            "format": "format_r1_zero"}}}}
    stages = [{"name": "base", "kind": "pretrain", "settings": dict(PRETRAIN)},
              {"name": "pairs", "kind": "cold-start-data", "settings": {"n": 3}}, rm, rl]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    plan = load_pipeline(path)
    rewards = plan.find("rl").config.reward.rewards
    assert rewards["helpfulness"] == f"rm:{out / 'rm' / 'final'}?on=whole"
    assert rewards["format"] == "format_r1_zero"
    assert rewards["harmlessness"] == [f"rm:{out / 'rm' / 'final'}", "format_readable"]  # an ensemble
    rm["settings"]["lr"] = 1e-3  # the reward model changed: the RL stage that uses it re-runs
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    assert load_pipeline(path).find("rl").digest != plan.find("rl").digest
    stages[2], stages[3] = stages[3], stages[2]
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    with pytest.raises(R1Error, match=r"reward.rewards.h\w+ness names stage 'rm', which runs later"):
        load_pipeline(path)


def test_an_existing_model_is_a_stage_later_ones_can_name(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    stages = [{"name": "base", "kind": "model", "settings": {"model": str(tiny_model_dir)}},
              {"name": "tune", "kind": "sft", "settings": {**SFT, "model": "base"}}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    plan = load_pipeline(path)
    assert plan.find("tune").config.model == str(out / "base" / "final")
    alone = tmp_path / "alone.yaml"
    alone.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages[:1]}))
    run_pipeline(load_pipeline(alone))
    final = out / "base" / "final"
    assert final.is_symlink() and (final / "config.json").read_bytes() == \
        (tiny_model_dir / "final" / "config.json" if (tiny_model_dir / "final").is_dir() else
         tiny_model_dir / "config.json").read_bytes()
    stages[0]["settings"]["model"] = str(tmp_path / "nowhere")
    path.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    with pytest.raises(R1Error, match="neither an earlier stage .* nor an existing path"):
        load_pipeline(path)


def test_an_included_recipe_runs_first_and_plans_the_same_stages(tmp_path):
    out = tmp_path / "run"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base-stage.yaml").write_text(yaml.safe_dump(PRETRAIN))
    first = tmp_path / "sub" / "first.yaml"  # its stage recipe is found beside it, not beside the includer
    first.write_text(yaml.safe_dump({"output_dir": str(out), "seed": 1, "eval": {"n": 3},
                                     "stages": [{"name": "base", "kind": "pretrain", "recipe": "base-stage.yaml"}]}))
    more = tmp_path / "more.yaml"
    more.write_text(yaml.safe_dump({"include": "sub/first.yaml", "seed": 1,
                                    "stages": [{"name": "cold_start", "kind": "sft", "settings": dict(SFT)}]}))
    alone, both = load_pipeline(first), load_pipeline(more)
    assert [p.entry.name for p in both.stages] == ["base", "cold_start"]
    assert both.stages[0].digest == alone.stages[0].digest  # a run of `first` is skipped by `more`
    assert both.recipe.output_dir == str(out) and both.recipe.eval.n == 3
    assert both.stages[1].config.model == f"{out}/base/final"
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump({"include": "loop.yaml", "stages": []}))
    with pytest.raises(R1Error, match="includes itself"):
        load_pipeline(tmp_path / "loop.yaml")
    (tmp_path / "gone.yaml").write_text(yaml.safe_dump({"include": "nope.yaml", "stages": []}))
    with pytest.raises(R1Error, match="nope.yaml: recipe file not found"):
        load_pipeline(tmp_path / "gone.yaml")
