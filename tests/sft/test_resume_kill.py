"""An SFT run killed with SIGKILL mid-run and resumed ends with exactly the weights of an uninterrupted
run."""

import torch
from safetensors.torch import load_file

from r1.train.telemetry import read_log
from r1.sft import SFTConfig, train
from tests.killing import kill_after_checkpoint

# A checkpoint every step, so the kill lands between two checkpoints with steps still to go; the cosine
# schedule and grad_accum make a wrong resume (lr, data position, optimizer state) show in the weights.
RUN = dict(max_steps=30, batch_size=16, grad_accum=2, families=["arithmetic"], train_problems=200, lr=3e-3,
           warmup_steps=3, save_every=1, seed=5)


def _config(model_dir, out) -> SFTConfig:
    return SFTConfig(output_dir=str(out), model=str(model_dir), **RUN)


def test_sft_resumed_after_sigkill_matches_an_uninterrupted_run(tiny_model_dir, tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    script = ("import torch; torch.set_num_threads(1)\n"
              "from r1.sft import SFTConfig, train\n"
              f"train(SFTConfig(output_dir={str(killed)!r}, model={str(tiny_model_dir)!r}, **{RUN!r}))\n")
    stopped_at = kill_after_checkpoint(script, killed, 3, timeout=120)
    assert 3 <= stopped_at < RUN["max_steps"], stopped_at  # killed mid-run, past the first checkpoints
    assert not (killed / "final").exists()

    resumed = train(_config(tiny_model_dir, killed))
    straight = train(_config(tiny_model_dir, whole))
    print(f"killed after the step-{stopped_at} checkpoint")
    losses = [[row["loss"] for row in read_log(out / "log.jsonl")] for out in (killed, whole)]
    assert losses[0] == losses[1], f"resumed after step {stopped_at}"
    a, b = load_file(resumed / "model.safetensors"), load_file(straight / "model.safetensors")
    differ = [name for name in b if not torch.equal(a[name], b[name])]
    assert not differ, f"resumed after step {stopped_at}: weights differ in {differ[:5]}"
    # the log holds each step once: rows the killed run wrote after its last checkpoint are dropped
    assert [row["step"] for row in read_log(killed / "log.jsonl")] == list(range(1, RUN["max_steps"] + 1))
