"""SFT under `accelerate launch` with 2 CPU processes (gloo): each process takes half of every step's
records, and the weights match 1 process with the whole batch; only the main process writes files.

On a machine without GPUs `accelerate launch --multi_gpu --num_processes 2` starts 2 CPU processes
through torchrun (accelerate's `--cpu` flag alone starts several only through mpirun).
"""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from r1.train.telemetry import read_log
from r1.sft import SFTConfig, train
from tests.launch import launch

ROOT = Path(__file__).resolve().parents[2]

# 2 steps of 8 records: each process 4 per step in 2 micro-batches, against 1 process with all 8 in one
RUN = dict(max_steps=2, batch_size=8, families=["arithmetic"], train_problems=64, lr=3e-3, save_every=1,
           seed=2)


def test_two_processes_with_half_the_batch_each_match_one_process(tiny_model_dir, tmp_path):
    two = tmp_path / "two"
    script = tmp_path / "child.py"
    script.write_text("import torch; torch.set_num_threads(1)\n"
                      "from r1.sft import SFTConfig, train\n"
                      f"train(SFTConfig(output_dir={str(two)!r}, model={str(tiny_model_dir)!r}, "
                      f"grad_accum=2, **{RUN!r}))\n"
                      "from r1.runtime import leave_process_group; leave_process_group()\n")
    done = launch([script], timeout=240)
    output = done.stdout + done.stderr
    assert output.count("2 process(es)") == 1, output[-3000:]  # one setup line, from the main process
    assert output.count("sft: saved the model to") == 1, output[-3000:]

    one = train(SFTConfig(output_dir=str(tmp_path / "one"), model=str(tiny_model_dir), **RUN))
    a, b = load_file(two / "final" / "model.safetensors"), load_file(one / "model.safetensors")
    base = load_file(tiny_model_dir / "model.safetensors")
    for name in b:
        assert (b[name] - base[name]).abs().max() > 1e-4, name  # every tensor moved by about lr
        # 2e-5, not tighter: Adam's first step divides by |g| + eps, so where a gradient is near zero the
        # float noise of another summation order (two processes) moves a weight by a few 1e-6 (seen: 8e-6
        # in 1 of 4096 elements), while every tensor moves by ~lr = 3e-3
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=2e-5, msg=name)
    rows_two, rows_one = read_log(two / "log.jsonl"), read_log(tmp_path / "one" / "log.jsonl")
    assert [r["step"] for r in rows_two] == [1, 2]  # written once per step
    for r2, r1_ in zip(rows_two, rows_one):
        assert abs(r2["loss"] - r1_["loss"]) < 1e-5 and abs(r2["grad_norm"] - r1_["grad_norm"]) < 1e-5
        assert r2["tokens"] == r1_["tokens"]
    written = sorted(p.name for p in two.iterdir())  # no checkpoint.tmp or .old left behind
    assert written == ["checkpoint", "final", "log.jsonl", "sft_config.yaml", "tb"]
    assert torch.load(two / "checkpoint" / "trainer_state.pt", weights_only=False)["step"] == 2


@pytest.mark.slow
def test_fsdp2_sharded_model_on_two_processes_matches_one_process(tiny_model_dir, tmp_path):
    # The model sharded with FSDP2 on a CPU mesh (tests/fsdp2_cli.py): the same update as 1 process,
    # a gathered plain HF checkpoint, and an end-of-run eval that every rank takes part in.
    two = tmp_path / "two"
    overrides = [f"output_dir={two}", f"model={tiny_model_dir}", "grad_accum=2", "max_steps=2", "batch_size=8",
                 "families=[arithmetic]", "train_problems=64", "lr=3e-3", "save_every=1", "seed=2",
                 "eval_benchmarks=[tiny:arithmetic]", "eval_problems=4"]
    launch([ROOT / "tests" / "fsdp2_cli.py", "sft", *overrides], torchrun=True)
    one = train(SFTConfig(output_dir=str(tmp_path / "one"), model=str(tiny_model_dir), **RUN))
    a, b = load_file(two / "final" / "model.safetensors"), load_file(one / "model.safetensors")
    assert sorted(a) == sorted(b)
    for name in b:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-5, msg=name)
    state = torch.load(two / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 2 and state["optimizer_shards"] == 2
    assert "eval/tiny:arithmetic/pass@1" in read_log(two / "log.jsonl")[-1]
