"""The SFT trainer on the session's tiny model: exact gradient accumulation, a short run that logs and
saves an HF model, exact resume, the recipe, and one clear line (exit 2) for bad input."""

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import r1.sft.trainer as trainer
from r1.config import load_config
from r1.errors import R1Error
from r1.train.telemetry import read_log
from r1.models.load import load_model
from r1.sft.config import SFTConfig
from r1.sft.data import collate
from tests.killing import interrupt_at

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "sft.yaml"
SMALL = dict(families=["arithmetic"], train_problems=40, batch_size=8, lr=3e-3, save_every=0)


def config(model_dir, out, **overrides) -> SFTConfig:
    return SFTConfig(output_dir=str(out), model=str(model_dir), **{**SMALL, **overrides})


def step_gradients(cfg: SFTConfig) -> tuple[dict[str, torch.Tensor], list]:
    """Gradients after the backward passes of optimizer step 1 (no update), and its micro-batches."""
    run = trainer.setup(cfg)
    parts, total = trainer.step_micro_batches(cfg, run, 1)
    trainer.accumulate_gradients(cfg, run, parts, total)
    return {name: p.grad.clone() for name, p in run.model.named_parameters()}, parts


def test_grad_accum_gives_the_gradient_of_the_whole_step(tiny_model_dir, tmp_path):
    one, parts1 = step_gradients(config(tiny_model_dir, tmp_path / "a", grad_accum=1))
    two, parts2 = step_gradients(config(tiny_model_dir, tmp_path / "b", grad_accum=2))
    four, parts4 = step_gradients(config(tiny_model_dir, tmp_path / "c", grad_accum=4, sort_by_length=True))
    assert (len(parts1), len(parts2), len(parts4)) == (1, 2, 4)
    # micro-batches hold different numbers of response tokens, so a plain mean per micro-batch would differ
    counts = [int((p.labels != -100).sum()) for p in parts2]
    assert counts[0] != counts[1]
    # the reference: Hugging Face's own token-mean loss over the whole batch, one backward
    model = load_model(tiny_model_dir).train()
    batch = parts1[0]
    model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=batch.labels).loss.backward()
    for name, p in model.named_parameters():
        for grads in (one, two, four):
            torch.testing.assert_close(grads[name], p.grad, rtol=1e-5, atol=1e-7, msg=name)


def test_short_run_logs_every_field_evaluates_and_saves_an_hf_model(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    final = trainer.train(config(tiny_model_dir, out, epochs=2.0, warmup_steps=2, save_every=5,
                                 eval_benchmarks=["tiny:arithmetic"], eval_problems=3, eval_k=2,
                                 eval_max_new_tokens=40))
    rows = read_log(out / "log.jsonl")
    assert [row["step"] for row in rows] == list(range(1, 11))  # 2 epochs of 40 records, 8 a step
    for row in rows:
        assert all(row[key] is not None for key in trainer.STEP_KEYS), row
        assert row["loss"] > 0 and row["grad_norm"] > 0 and row["tokens"] > 0 and row["tokens_per_s"] > 0
    assert rows[-1]["epoch"] == pytest.approx(2.0)
    lrs = [row["lr"] for row in rows]  # warmup 2 steps, then cosine from lr down to lr * min_lr_ratio
    assert lrs[:3] == pytest.approx([1.5e-3, 3e-3, 3e-3]) and lrs[-1] == pytest.approx(3e-4)
    assert all(a >= b for a, b in zip(lrs[2:], lrs[3:]))
    assert rows[0]["loss"] > rows[-1]["loss"]
    assert 0 <= rows[-1]["eval/tiny:arithmetic/pass@1"] <= 1
    assert rows[-1]["eval/tiny:arithmetic/mean_tokens"] > 0
    assert (out / "eval" / "tiny_arithmetic" / "summary.json").is_file()
    assert list((out / "tb").glob("events.out.tfevents.*"))
    assert (out / "sft_config.yaml").is_file()
    assert torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)["step"] == 10
    model = load_model(final)  # what every later stage loads
    assert sum(p.numel() for p in model.parameters()) > 0
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(final / "model.safetensors")
    assert before.keys() == after.keys() and any(not torch.equal(before[k], after[k]) for k in before)


def test_a_stopped_run_resumes_to_identical_weights(tiny_model_dir, tmp_path, monkeypatch):
    run = dict(max_steps=5, grad_accum=2, save_every=2, warmup_steps=1)  # cosine over 5 steps
    straight = trainer.train(config(tiny_model_dir, tmp_path / "a", **run))
    real_step = trainer.sft_step
    interrupt_at(monkeypatch, trainer, "sft_step", 4)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(config(tiny_model_dir, tmp_path / "b", **run))
    assert [row["step"] for row in read_log(tmp_path / "b" / "log.jsonl")] == [1, 2, 3]
    monkeypatch.setattr(trainer, "sft_step", real_step)
    resumed = trainer.train(config(tiny_model_dir, tmp_path / "b", **run))  # from the step-2 checkpoint
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [row["step"] for row in read_log(tmp_path / "b" / "log.jsonl")] == [1, 2, 3, 4, 5]
    assert [row["loss"] for row in read_log(tmp_path / "b" / "log.jsonl")] == \
        [row["loss"] for row in read_log(tmp_path / "a" / "log.jsonl")]
    with pytest.raises(R1Error, match="already holds a sft run"):
        trainer.train(config(tiny_model_dir, tmp_path / "b", **run, resume=False))


def test_bad_settings_are_refused_with_one_clear_line(tiny_model_dir, tmp_path, monkeypatch):
    def refused(match, **overrides):
        with pytest.raises(R1Error, match=match) as err:
            trainer.train(config(tiny_model_dir, tmp_path / "bad", max_steps=1, **overrides))
        assert "\n" not in str(err.value)

    refused("no training data: give data", families=[])
    refused(r"batch_size \(8\) must be at least processes \(1\) x grad_accum \(16\)", grad_accum=16)
    refused("exceeds the model's context of 256", max_seq_len=5000, train_problems=2,
            data=_long_record(tmp_path))
    refused("unknown task family", families=["nope"])
    refused("benchmark: unknown benchmark 'gsm9k'", eval_benchmarks=["tiny:arithmetic", "gsm9k"])
    with pytest.raises(R1Error, match=r"model: .*missing does not exist"):
        trainer.train(config(tmp_path / "missing", tmp_path / "bad", max_steps=1))
    monkeypatch.setattr(trainer, "response_nll",
                        lambda model, batch: torch.tensor(math.nan, requires_grad=True))
    refused("became NaN/inf at step 1")


def _long_record(tmp_path) -> str:
    path = tmp_path / "long.jsonl"
    record = {"prompt": "Compute 1+2.", "response": "<answer>3</answer>" + "0" * 300}
    path.write_text(json.dumps(record) + "\n")
    return str(path)


def test_recipe_loads_and_the_cli_runs_it(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from r1.cli import app

    recipe = load_config(SFTConfig, RECIPE)
    assert recipe.families == ["arithmetic"] and recipe.template == "chat" and recipe.eval_benchmarks
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(app, ["sft", "-c", str(RECIPE), f"model={tiny_model_dir}", f"output_dir={out}",
                                 "max_steps=2", "train_problems=16", "batch_size=4", "eval_benchmarks=[]"])
    assert result.exit_code == 0, result.output
    assert (out / "final" / "model.safetensors").is_file()
    result = runner.invoke(app, ["sft", "-c", str(RECIPE), f"model={tiny_model_dir}", f"output_dir={out}2",
                                 f"data={tmp_path / 'nope.jsonl'}"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [f"error: data: {tmp_path / 'nope.jsonl'} not found"]


def test_collate_pads_with_the_tokenizers_pad_id(tiny_tokenizer):
    from r1.sft.data import Example

    batch = collate([Example([5], [6, 7]), Example([5, 5, 5], [6, 7])], pad_id=tiny_tokenizer.pad_token_id)
    assert batch.input_ids[0].tolist() == [5, 6, 7, tiny_tokenizer.pad_token_id, tiny_tokenizer.pad_token_id]
    assert batch.tokens == 8


def test_flops_are_six_n_per_trained_token(tiny_model_dir, tiny_tokenizer, tmp_path):
    """Every step trains on all three records (batch_size 3 of 3): 6 N x their prompt + response + eos
    tokens, counted here from the tokenizer; the sum goes to the log and to final/r1_final.json."""
    from r1.prompts import build_prompt

    records = [{"prompt": f"Compute {a}+{b}.", "response": f"<think>{a}+{b}</think><answer>{a + b}</answer>"}
               for a, b in ((12, 5), (301, 44), (7, 999))]
    data = tmp_path / "traces.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    tokens = sum(len(tiny_tokenizer.encode(build_prompt(tiny_tokenizer, r["prompt"]), add_special_tokens=False))
                 + len(tiny_tokenizer.encode(r["response"], add_special_tokens=False)) + 1 for r in records)
    n = sum(p.numel() for p in load_model(tiny_model_dir).parameters())
    out = tmp_path / "run"
    final = trainer.train(SFTConfig(output_dir=str(out), model=str(tiny_model_dir), data=str(data), batch_size=3,
                                    max_steps=3, save_every=0))
    rows = read_log(out / "log.jsonl")
    assert [row["tokens"] for row in rows] == [tokens] * 3
    assert [row["flops"] for row in rows] == [6 * n * tokens * step for step in (1, 2, 3)]
    done = json.loads((final / "r1_final.json").read_text())
    assert (done["flops"], done["parameters"], done["steps"]) == (18 * n * tokens, n, 3)
    assert done["train_s"] > 0 and done["train_s"] == pytest.approx(rows[-1]["train_s"], abs=1e-3)
