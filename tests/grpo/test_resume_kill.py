"""A GRPO run killed with SIGKILL mid-run and resumed ends with exactly the weights of an uninterrupted run."""

import pytest
import torch
from safetensors.torch import load_file

from r1.grpo.config import GRPOConfig
from r1.train.telemetry import read_log
from r1.grpo.trainer import train
from tests.killing import kill_after_checkpoint

# A checkpoint every step, so the kill lands between two checkpoints with steps still to go.
RUN = dict(max_steps=12, prompts_per_step=2, group_size=2, max_new_tokens=24, train_problems=20,
           save_every=1, rollout_batch_size=16, precision="fp32", seed=3, log_completions_every=1)


def _config(model_dir, out) -> GRPOConfig:
    return GRPOConfig(output_dir=str(out), model=str(model_dir), **RUN)


def _child_script(model_dir, out) -> str:
    return (
        "import torch; torch.set_num_threads(1)\n"
        "from r1.grpo.config import GRPOConfig\n"
        "from r1.grpo.trainer import train\n"
        f"train(GRPOConfig(output_dir={str(out)!r}, model={str(model_dir)!r}, **{RUN!r}))\n"
    )


@pytest.mark.slow
def test_grpo_resumed_after_sigkill_matches_an_uninterrupted_run(tiny_model_dir, tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    stopped_at = kill_after_checkpoint(_child_script(tiny_model_dir, killed), killed, 2, timeout=300)
    assert 2 <= stopped_at < RUN["max_steps"], stopped_at  # killed mid-run, past the first checkpoint
    assert not (killed / "final").exists()

    resumed = train(_config(tiny_model_dir, killed))
    straight = train(_config(tiny_model_dir, whole))
    a, b = load_file(resumed / "model.safetensors"), load_file(straight / "model.safetensors")
    assert a.keys() == b.keys()
    print(f"killed after the step-{stopped_at} checkpoint")
    # same samples and rewards step by step (where a mismatch starts, if one does), then same weights
    rewards = [[row["reward"] for row in read_log(out / "log.jsonl")] for out in (killed, whole)]
    assert rewards[0] == rewards[1], f"resumed after step {stopped_at}"
    differ = [name for name in b if not torch.equal(a[name], b[name])]
    assert not differ, f"resumed after step {stopped_at}: weights differ in {differ[:5]}"
    base = load_file(tiny_model_dir / "model.safetensors")
    assert any(not torch.equal(base[name], b[name]) for name in b)  # the policy did move
    # the log holds each step once: the rows the killed run wrote after its last checkpoint are dropped
    assert [row["step"] for row in read_log(killed / "log.jsonl")] == list(range(1, RUN["max_steps"] + 1))
    completions = [read_log(out / "completions.jsonl") for out in (killed, whole)]
    assert completions[0] == completions[1] and len(completions[0]) == RUN["max_steps"] * 2 * 2
