"""Stage 4 in the GRPO trainer: general prompts join the reasoning prompts at a set share from a set
step, are rewarded by the general weights (here reward models), survive a resume, and the held-out
general prompts are scored by the reward models and the hidden oracle side by side."""

import json

import pytest
import torch
from safetensors.torch import load_file

import r1.grpo.trainer as trainer
from r1.errors import R1Error
from r1.grpo.config import GRPOConfig
from r1.grpo.stream import PromptStream
from r1.tasks.general_prompts import general_prompt_records
from r1.train.telemetry import read_log
from tests.reward_models.conftest import harmless_rm, helpful_rm  # noqa: F401 (fixtures)

SMALL = dict(prompts_per_step=4, group_size=2, max_new_tokens=24, train_problems=20, save_every=0,
             rollout_batch_size=64, stop=["</summary>"])


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_general_prompts_join_at_their_share_from_their_step():
    records = [{"problem": f"r{i}"} for i in range(6)] + [{"problem": f"g{i}"} for i in range(3)]
    stream = PromptStream(records, [r["problem"] for r in records], [[1]] * 9, seed=0, n_general=3,
                          general_share=0.5, general_from=3)
    before, after = stream.take_for_step(4, 2), stream.take_for_step(4, 3)
    assert all(i < 6 for i in before)
    assert sum(i >= 6 for i in after) == 2 and sum(i < 6 for i in after) == 2
    assert sorted(after[2:]) == sorted(set(after[2:]))  # two distinct general prompts
    replay = PromptStream(records, [r["problem"] for r in records], [[1]] * 9, seed=0, n_general=3,
                          general_share=0.5, general_from=3)
    replay.cursor, replay.general.cursor = 4, 0
    assert replay.take_for_step(4, 3) == after


@pytest.fixture
def stage4(tiny_model_dir, tmp_path, helpful_rm, harmless_rm):  # noqa: F811 (fixtures)
    def make(out, **overrides):
        train = write(tmp_path / "general.jsonl", general_prompt_records(12, "train", seed=0))
        held_out = write(tmp_path / "general_test.jsonl", general_prompt_records(6, "test", seed=0))
        reward = {"reasoning": {"accuracy": 0.7, "format": 0.3}, "rewards": {
            "format": "format_readable", "helpfulness": f"rm:{helpful_rm}/final",
            "harmlessness": f"rm:{harmless_rm}/final"}}
        settings = {**SMALL, "general_share": 0.5, "general_from": 0.5, "reward": reward, "eval_every": 2,
                    "eval_problems": 4, "eval_k": 1, **overrides}
        return GRPOConfig(output_dir=str(out), model=str(tiny_model_dir), general_data=train,
                          general_eval_data=held_out, **settings)
    return make


def test_all_scenario_run_rewards_general_prompts_with_the_rms_and_logs_rm_beside_oracle(stage4, tmp_path):
    trainer.train(stage4(tmp_path / "run", max_steps=4, log_completions_every=1, log_completions_prompts=4))
    rows = read_log(tmp_path / "run" / "log.jsonl")
    steps = [r for r in rows if r.get("step", 0) > 0 and "reward" in r]
    evals = [r for r in rows if "general/oracle/helpfulness" in r]
    assert [r["step"] for r in evals] == [0, 2, 4]
    for r in evals:
        assert 0 <= r["general/rm/helpfulness"] <= 1 and 0 <= r["general/oracle/harmlessness"] <= 1
        assert 0 <= r["general/reward/readability"] <= 1 and "general/rm/readability" not in r  # a rule
        assert r["general/samples"] == 12  # 6 held-out prompts x general_eval_k
    # general prompts only from step 3 (general_from 0.5 of 4 steps): their components appear then
    import math
    early = [r.get("reward/helpfulness", math.nan) for r in steps if r["step"] <= 2]
    late = [r["reward/helpfulness"] for r in steps if r["step"] > 2]
    assert all(math.isnan(v) for v in early) and all(0 <= v <= 1 for v in late)
    logged = [json.loads(line) for line in (tmp_path / "run" / "completions.jsonl").read_text().splitlines()]
    assert {row.get("prompt_type", "reasoning") for row in logged if row["step"] > 2} >= {"general"}
    sample = (tmp_path / "run" / "eval" / "step_000004" / "general.jsonl").read_text().splitlines()
    assert len(sample) == 12 and "oracle/helpfulness" in json.loads(sample[0])


def test_a_resumed_all_scenario_run_draws_the_same_general_prompts(stage4, tmp_path):
    straight = trainer.train(stage4(tmp_path / "a", max_steps=4, eval_every=0))
    trainer.train(stage4(tmp_path / "b", max_steps=3, eval_every=0))
    resumed = trainer.train(stage4(tmp_path / "b", max_steps=4, eval_every=0))
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_general_prompts_without_a_reward_for_them_are_refused(tiny_model_dir, tmp_path):
    train = write(tmp_path / "general.jsonl", general_prompt_records(4, "train", seed=0))
    cfg = GRPOConfig(output_dir=str(tmp_path / "x"), model=str(tiny_model_dir), general_data=train,
                     reward={"general": {"helpfulness": 1.0}}, **SMALL)
    with pytest.raises(R1Error, match="helpfulness"):
        trainer.train(cfg)
    empty = write(tmp_path / "bad.jsonl", [{"id": "a", "text": "hi"}])
    with pytest.raises(R1Error, match="bad.jsonl: record a has no prompt"):
        trainer.train(GRPOConfig(output_dir=str(tmp_path / "y"), model=str(tiny_model_dir), general_data=empty,
                                 **SMALL))
