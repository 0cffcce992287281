"""Pretraining the tiny base model: the loss falls, the output is a normal HF checkpoint, resume is exact."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from r1.models.corpus import render_chat
from r1.models.pretrain import PretrainConfig, is_pretrained, pretrain
from r1.train.checkpoint import FINAL_MARKER
from r1.train.telemetry import read_log
from tests.conftest import TINY_PRETRAIN

# Smaller than the session model: the resume test runs it three times.
RESUME = dict(max_steps=40, batch_size=4, block_size=64, hidden_size=32, num_layers=1, num_heads=2,
              intermediate_size=64, warmup_steps=2, log_every=1, save_every=5, precision="fp32")


def test_loss_falls(tiny_model_dir):
    assert tiny_model_dir.name == "final"  # the stage skeleton's place for a finished model
    log = read_log(tiny_model_dir.parent / "log.jsonl")
    losses = [row["loss"] for row in log]
    assert [row["step"] for row in log] == list(range(1, len(log) + 1))  # log_every=1, no gaps or repeats
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first - 1.0, (first, last)
    done = json.loads((tiny_model_dir / FINAL_MARKER).read_text())
    assert done["steps"] == len(log) and done["stage"] == "pretrain"


def test_flops_are_six_n_per_packed_token(tiny_model_dir, tiny_tokenizer):
    """N from the architecture by hand (tied embedding; per layer q, k, v, o, the gated MLP, two norms;
    the final norm), and 6 N FLOPs for every token of every packed batch."""
    d, i, layers = TINY_PRETRAIN["hidden_size"], TINY_PRETRAIN["intermediate_size"], TINY_PRETRAIN["num_layers"]
    n = len(tiny_tokenizer) * d + layers * (4 * d * d + 3 * d * i + 2 * d) + d
    done = json.loads((tiny_model_dir / FINAL_MARKER).read_text())
    assert done["parameters"] == n
    per_step = 6 * n * TINY_PRETRAIN["batch_size"] * TINY_PRETRAIN["block_size"]
    log = read_log(tiny_model_dir.parent / "log.jsonl")
    assert [row["flops"] for row in log] == [per_step * row["step"] for row in log]
    assert done["flops"] == per_step * TINY_PRETRAIN["max_steps"] and done["train_s"] > 0


def test_output_is_a_plain_hf_checkpoint(tiny_model_dir, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    assert is_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    ids = tiny_tokenizer(render_chat("Compute 482+201."), return_tensors="pt", add_special_tokens=False)
    out = model.generate(**ids, max_new_tokens=12, do_sample=False, pad_token_id=tiny_tokenizer.pad_token_id)
    assert out.shape[1] > ids["input_ids"].shape[1]
    text = tiny_tokenizer.decode(out[0, ids["input_ids"].shape[1]:])
    assert text.startswith("<think>")  # the shape every corpus document has


def test_auto_tokenizer_round_trips(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = render_chat("Use 1 4 13 to make 16.", "<think>4-1=3\n13加3得16</think><answer>13+(4-1)</answer>")
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def test_is_pretrained_only_once_finished(tmp_path):
    assert not is_pretrained(tmp_path)
    assert not is_pretrained(tmp_path / "missing")
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "config.json").write_text("{}")
    assert not is_pretrained(tmp_path)  # a model without the done marker, e.g. a killed run
    (tmp_path / "final" / FINAL_MARKER).write_text("{}")
    assert is_pretrained(tmp_path) and is_pretrained(tmp_path / "final")


def test_lr_schedule_warms_up_then_decays_to_its_floor_at_the_last_step():
    from r1.train.schedule import lr_scheduler

    cfg = PretrainConfig(output_dir="x", lr=1e-3, warmup_steps=10, max_steps=100, min_lr_ratio=0.1)
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    scheduler, lrs = lr_scheduler(optimizer, cfg, cfg.max_steps), []
    for _ in range(cfg.max_steps):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert lrs[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=1e-9)  # the floor, reached at the last step


def _child_script(out):
    return (
        "import torch; torch.set_num_threads(1)\n"
        "from r1.models.pretrain import PretrainConfig, pretrain\n"
        f"pretrain(PretrainConfig(output_dir={str(out)!r}, **{RESUME!r}))\n"
    )


@pytest.mark.slow
def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-c", _child_script(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state = killed / "checkpoint" / "trainer_state.pt"
    deadline = time.time() + 120
    while not state.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert not is_pretrained(killed)  # killed mid-run, not after finishing
    stopped_at = torch.load(killed / "checkpoint" / "trainer_state.pt", weights_only=False)["step"]
    assert 0 < stopped_at < RESUME["max_steps"]

    pretrain(PretrainConfig(output_dir=str(killed), **RESUME))
    pretrain(PretrainConfig(output_dir=str(whole), **RESUME))
    resumed = load_file(killed / "final" / "model.safetensors")
    straight = load_file(whole / "final" / "model.safetensors")
    assert resumed.keys() == straight.keys()
    for name in straight:
        assert torch.allclose(resumed[name], straight[name], rtol=0, atol=1e-7), name
    assert is_pretrained(killed)
    counted = [json.loads((run / "final" / FINAL_MARKER).read_text())["flops"] for run in (killed, whole)]
    assert counted[0] == counted[1] > 0  # the count resumes with the checkpoint
