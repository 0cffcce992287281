"""The stage skeleton: resumed runs keep their settings, the final model appears whole or not at all,
a stage's output_dir stands for its final model, and every stage takes the same schedule."""

from pathlib import Path

import pytest
import torch

import r1.sft.trainer as sft
from r1.errors import R1Error
from r1.models.load import check_model_dir
from r1.sft.config import SFTConfig
from r1.train.checkpoint import FINAL_MARKER, is_final, save_final

SMALL = dict(families=["arithmetic"], train_problems=16, batch_size=4, max_steps=2, save_every=1, lr=1e-3)


def test_a_resumed_run_refuses_changed_settings_but_may_run_longer(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    sft.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), **SMALL))
    with pytest.raises(R1Error) as err:  # before: the new lr was silently ignored on resume
        sft.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), **{**SMALL, "lr": 5e-3}))
    assert "started with lr=0.001, this run has lr=0.005" in str(err.value) and "\n" not in str(err.value)
    longer = sft.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), **{**SMALL, "max_steps": 3}))
    assert torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)["step"] == 3
    assert is_final(longer) and (longer / FINAL_MARKER).is_file()


def test_the_disk_a_checkpoint_costs_is_printed_once(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "run"
    sft.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), **SMALL))  # saves at steps 1 and 2
    err = capsys.readouterr().err
    size = sum(f.stat().st_size for f in (out / "checkpoint").rglob("*") if f.is_file())
    assert err.count("checkpoint: ") == 1 and size > 0
    assert f"checkpoint: {size / 1e6:.1f} MB each" in err and "one is kept" in err
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint")) == ["checkpoint"]


def test_save_total_limit_keeps_earlier_checkpoints_and_resumes_from_the_latest(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    settings = {**SMALL, "max_steps": 4, "save_total_limit": 3}
    sft.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), **settings))  # saves at 1, 2, 3, 4
    kept = sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint"))
    assert kept == ["checkpoint", "checkpoint-2", "checkpoint-3"]
    for name, step in (("checkpoint", 4), ("checkpoint-3", 3), ("checkpoint-2", 2)):
        assert torch.load(out / name / "trainer_state.pt", weights_only=False)["step"] == step, name
        check_model_dir(out / name)  # each a whole model directory
    sft.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), **{**settings, "max_steps": 5}))
    assert torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)["step"] == 5
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-3", "checkpoint-4"]


def test_the_final_model_appears_whole_or_not_at_all(tiny_model, tiny_tokenizer, tmp_path):
    from accelerate import Accelerator

    class Broken:
        def save_pretrained(self, path):
            raise OSError("disk full")

    out = tmp_path / "final"
    with pytest.raises(OSError):
        save_final(Accelerator(cpu=True), tiny_model, Broken(), out)
    assert not out.exists() and not is_final(out)  # the half-written copy is only final.tmp
    save_final(Accelerator(cpu=True), tiny_model, tiny_tokenizer, out, {"stage": "test"})
    assert is_final(out) and (out / "config.json").is_file() and not (tmp_path / "final.tmp").exists()


def test_an_output_dir_stands_for_its_final_model(tiny_model_dir):
    run_dir = Path(tiny_model_dir).parent  # the session's pretrain run
    assert check_model_dir(run_dir) == Path(tiny_model_dir)
    assert check_model_dir(tiny_model_dir) == Path(tiny_model_dir)
