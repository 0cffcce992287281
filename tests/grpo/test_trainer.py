"""The GRPO trainer on the session's tiny model: a short run logs every field and saves an HF policy,
beta = 0 loads no reference model, resume continues exactly, bad input is refused in one line."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

import r1.grpo.sampling as sampling
import r1.grpo.trainer as trainer
from r1.errors import R1Error
from r1.grpo.config import GRPOConfig
from r1.grpo.loss import grpo_loss
from r1.grpo.batch import build_batch, micro_batches
from r1.grpo.forward import completion_logprobs
from r1.grpo.stream import PromptStream
from r1.grpo.trainer import STEP_KEYS
from r1.train.telemetry import read_log
from r1.rollout import Rollout

SMALL = dict(prompts_per_step=3, group_size=4, max_new_tokens=40, train_problems=50, save_every=0,
             rollout_batch_size=64)


def config(model_dir, out, **overrides) -> GRPOConfig:
    return GRPOConfig(output_dir=str(out), model=str(model_dir), **{**SMALL, **overrides})


def test_short_run_logs_every_field_and_saves_an_hf_policy(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    cfg = config(tiny_model_dir, tmp_path / "run", max_steps=2, eval_every=2, eval_problems=3, eval_k=2)
    final = trainer.train(cfg)
    rows = read_log(tmp_path / "run" / "log.jsonl")
    assert [row["step"] for row in rows] == [0, 1, 2]
    start, rows = rows[0], rows[1:]  # step 0: the held-out eval of the model before any RL
    assert 0 <= start["eval/tiny:arithmetic/pass@1"] <= 1 and start["reward"] is None
    assert (tmp_path / "run" / "eval" / "step_000000" / "tiny_arithmetic" / "summary.json").is_file()
    for row in rows:
        missing = [key for key in (*STEP_KEYS, "reward/accuracy", "reward/format") if key not in row]
        assert not missing, missing
        assert 0 <= row["reward"] <= 1 and 0 <= row["accuracy"] <= 1 and row["lr"] == pytest.approx(1e-4)
        assert row["completion_len_max"] <= cfg.max_new_tokens and row["grad_norm"] >= 0
        assert row["skipped"] is False and row["kl"] == 0 and row["time_generate"] > 0
        # the reward is the spec's weighted sum of its parts
        expected = 0.7 * row["reward/accuracy"] + 0.3 * row["reward/format"]
        assert row["reward"] == pytest.approx(expected, abs=1e-5)
    assert 0 <= rows[-1]["eval/tiny:arithmetic/pass@1"] <= 1
    assert (tmp_path / "run" / "eval" / "step_000002" / "tiny_arithmetic" / "summary.json").is_file()
    assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))
    policy = AutoModelForCausalLM.from_pretrained(final)
    assert sum(p.numel() for p in policy.parameters()) > 0
    before = load_file(tiny_model_dir / "model.safetensors")
    after = load_file(final / "model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the policy moved
    assert (tmp_path / "run" / "checkpoint" / "trainer_state.pt").is_file()


def _count_model_loads(monkeypatch) -> list:
    import r1.models.load

    calls, real = [], r1.models.load.load_model

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "load_model", counting)
    monkeypatch.setattr(r1.models.load, "load_model", counting)
    return calls


def test_lora_trains_adapters_against_the_adapter_free_base(tiny_model_dir, tmp_path, monkeypatch):
    calls = _count_model_loads(monkeypatch)
    final = trainer.train(config(tiny_model_dir, tmp_path, max_steps=2, beta=0.1, lr=1e-2, save_every=1,
                                 lora={"enabled": True, "r": 4}))
    assert len(calls) == 1  # the policy only: the reference is the same weights with adapters off
    rows = read_log(tmp_path / "log.jsonl")
    assert rows[0]["kl"] == 0 and rows[1]["kl"] > 0  # after one update the adapters moved off the base
    assert (tmp_path / "checkpoint" / "adapter_model.safetensors").is_file()
    assert not (tmp_path / "checkpoint" / "model.safetensors").exists()
    merged, base = load_file(final / "model.safetensors"), load_file(tiny_model_dir / "model.safetensors")
    assert set(merged) == set(base)  # a plain model, adapters folded in
    moved = [k for k in base if not torch.equal(merged[k], base[k])]
    assert moved and all(k.endswith("proj.weight") for k in moved)
    # resuming loads the base, then the checkpoint's adapters (the checkpoint has no full model)
    run = trainer.setup(config(tiny_model_dir, tmp_path, max_steps=3, beta=0.1, lr=1e-2, save_every=1,
                               lora={"enabled": True, "r": 4}))
    assert run.start == 2
    saved = load_file(tmp_path / "checkpoint" / "adapter_model.safetensors")
    live = {k: v for k, v in run.model.state_dict().items() if "lora_" in k}
    assert len(saved) == len(live) > 0
    assert all(torch.equal(v, live[k.replace(".weight", ".default.weight")]) for k, v in saved.items())


@pytest.mark.parametrize("beta, loads", [(0.0, 1), (0.04, 2)])
def test_a_reference_model_is_loaded_only_when_beta_is_positive(tiny_model_dir, tmp_path, monkeypatch,
                                                                beta, loads):
    calls = _count_model_loads(monkeypatch)
    trainer.train(config(tiny_model_dir, tmp_path, max_steps=1, beta=beta))
    assert len(calls) == loads
    row = read_log(tmp_path / "log.jsonl")[0]
    assert row["kl"] == 0  # one update from the reference: policy == reference at sampling time


def test_resume_continues_to_identical_weights(tiny_model_dir, tmp_path):
    straight = trainer.train(config(tiny_model_dir, tmp_path / "a", max_steps=3))
    trainer.train(config(tiny_model_dir, tmp_path / "b", max_steps=2))
    resumed = trainer.train(config(tiny_model_dir, tmp_path / "b", max_steps=3))
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [row["step"] for row in read_log(tmp_path / "b" / "log.jsonl")] == [1, 2, 3]


def test_bad_input_is_refused_with_one_clear_line(tiny_model_dir, tmp_path):
    def refused(match, **overrides):
        with pytest.raises(R1Error, match=match):
            trainer.train(config(tiny_model_dir, tmp_path / "bad", max_steps=1, **overrides))

    refused("loss_type=cispo has none", loss_type="cispo", delta=2.0)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    refused("holds no records", data=str(empty))
    refused("longer than max_prompt_tokens=5", max_prompt_tokens=5)
    refused("exceeds the model's context", max_new_tokens=10_000)
    refused("unknown task family", families=["nope"])
    trainer.train(config(tiny_model_dir, tmp_path / "done", max_steps=1))
    with pytest.raises(R1Error, match="already holds a grpo run"):
        trainer.train(config(tiny_model_dir, tmp_path / "done", max_steps=2, resume=False))


def test_nan_losses_skip_the_step_then_abort(tiny_model_dir, tmp_path, monkeypatch):
    def nan_loss(*args, **kwargs):
        loss, metrics = grpo_loss(*args, **kwargs)
        return loss * math.nan, metrics

    monkeypatch.setattr(trainer, "grpo_loss", nan_loss)
    with pytest.raises(R1Error, match="2 steps in a row had a NaN/inf loss"):
        trainer.train(config(tiny_model_dir, tmp_path, max_steps=5, max_bad_steps=2))
    rows = read_log(tmp_path / "log.jsonl")
    assert [(row["step"], row["skipped"]) for row in rows] == [(1, True), (2, True)]


def test_dynamic_sampling_drops_equal_groups_and_draws_more(tiny_model_dir, tmp_path, monkeypatch):
    def every_other_group_equal(combiner, records, rollouts):
        groups = len(rollouts) // 4
        rewards = torch.tensor([[0.0] * 4 if g % 2 == 0 else [1.0, 0.0, 0.0, 0.0] for g in range(groups)])
        return rewards.flatten(), {"accuracy": rewards.flatten().tolist()}

    monkeypatch.setattr(sampling, "score", every_other_group_equal)
    trainer.train(config(tiny_model_dir, tmp_path, max_steps=1, filter_equal_groups=True,
                         max_sample_rounds=4))
    row = read_log(tmp_path / "log.jsonl")[0]
    # rounds draw 3, 2, 1, 1 prompts; the odd-numbered group of the first two rounds is kept
    assert row["groups"] == 2 and row["equal_groups_frac"] == pytest.approx(5 / 7)
    assert row["skipped"] is False


def test_all_groups_equal_means_no_update(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(sampling, "score", lambda c, records, rollouts: (torch.zeros(len(rollouts)), {}))
    final = trainer.train(config(tiny_model_dir, tmp_path, max_steps=1, filter_equal_groups=True,
                                 max_sample_rounds=2))
    row = read_log(tmp_path / "log.jsonl")[0]
    assert row["groups"] == 0 and row["skipped"] is True and row["grad_norm"] is None
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(final / "model.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_all_advantages_zero_skips_the_forward_and_backward(tiny_model_dir, tmp_path, monkeypatch):
    forwards = []

    def counting(*args, **kwargs):
        forwards.append(1)
        return completion_logprobs(*args, **kwargs)

    monkeypatch.setattr(sampling, "score", lambda c, records, rollouts: (torch.ones(len(rollouts)), {}))
    monkeypatch.setattr(trainer, "completion_logprobs", counting)
    final = trainer.train(config(tiny_model_dir, tmp_path, max_steps=2))  # filter_equal_groups off
    rows = read_log(tmp_path / "log.jsonl")
    assert [(r["groups"], r["skipped"], r["zero_advantage_steps"]) for r in rows] == [(3, True, 1), (3, True, 2)]
    assert forwards == [] and rows[-1]["grad_norm"] is None
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(final / "model.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_several_updates_per_batch_move_the_ratio(tiny_model_dir, tmp_path):
    trainer.train(config(tiny_model_dir, tmp_path, max_steps=1, mu=3, lr=1e-2))
    row = read_log(tmp_path / "log.jsonl")[0]
    assert row["ratio_mean"] != 1.0 and row["clip_frac"] >= 0


def test_prompts_from_a_jsonl_file(tiny_model_dir, tmp_path, capsys):
    from r1.tasks import generate

    data = tmp_path / "train.jsonl"
    records = generate("arithmetic", "train", 6)
    records.append(dict(records[0], problem=records[0]["problem"] * 40))  # longer than max_prompt_tokens
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    trainer.train(config(tiny_model_dir, tmp_path / "run", max_steps=1, data=str(data), overlong_prompts="drop"))
    assert read_log(tmp_path / "run" / "log.jsonl")[0]["reward"] is not None
    assert "grpo: dropped 1 prompts longer than max_prompt_tokens=256" in capsys.readouterr().err
    with pytest.raises(R1Error, match="eval_every with data needs eval_benchmarks"):
        trainer.train(config(tiny_model_dir, tmp_path / "run2", max_steps=1, data=str(data), eval_every=1))


def _fake_rollouts(lengths, finished, vocab=20, offset=10):
    g = torch.Generator().manual_seed(0)
    return [Rollout(0, i, "", (torch.randint(0, vocab, (n,), generator=g) + offset).tolist(), f,
                    eos_id=1 if f else None) for i, (n, f) in enumerate(zip(lengths, finished))]


def test_batch_layout_appends_eos_to_finished_and_positions_skip_padding(tiny_model):
    prompts = [[4, 28, 39, 1, 5], [4, 28, 39, 40, 37, 41, 1, 5]]  # different lengths: left padding
    rollouts = _fake_rollouts([3, 6], [True, False])
    batch = build_batch(prompts, rollouts, torch.tensor([1.0, -1.0]), pad_id=0)
    assert batch.prompt_width == 8 and batch.completion_mask.sum(1).tolist() == [4, 6]
    assert batch.input_ids[0, 8:12].tolist() == rollouts[0].token_ids + [1]  # eos after a finished one
    assert batch.truncated.tolist() == [False, True]
    with torch.no_grad():
        logp, _ = completion_logprobs(tiny_model, batch, temperature=0.7)  # [2, 6]
        for row, (prompt, ro) in enumerate(zip(prompts, rollouts)):
            ids = torch.tensor([prompt + ro.token_ids + ([1] if ro.finished else [])])
            alone = tiny_model(input_ids=ids).logits[:, len(prompt) - 1:] / 0.7
            expect = alone[0, :-1].log_softmax(-1).gather(-1, ids[0, len(prompt):, None])[:, 0]
            assert torch.allclose(logp[row, :len(expect)], expect, atol=1e-5)


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
@pytest.mark.parametrize("mask_truncated", [False, True])
def test_grad_accum_changes_memory_not_the_gradient(tiny_model, loss_type, mask_truncated):
    model = tiny_model
    prompts = [[4, 28, 39, 1, 5]] * 3 + [[4, 28, 39, 40, 37, 1, 5]] * 4
    rollouts = _fake_rollouts([3, 9, 1, 5, 7, 2, 4], [True, False, True, True, False, True, True])
    batch = build_batch(prompts, rollouts, torch.linspace(-1, 1, 7), pad_id=0)

    def grads(accum):
        cfg = GRPOConfig(output_dir="x", model="x", loss_type=loss_type, mask_truncated=mask_truncated,
                         grad_accum=accum, max_new_tokens=12)
        model.zero_grad()
        parts, counts = micro_batches(cfg, batch, accum)
        weights = [c / sum(counts) for c in counts]
        assert len(parts) == accum and sum(len(p) for p in parts) == max(len(batch), accum)
        for part, weight in zip(parts, weights):
            logp, _ = completion_logprobs(model, part, 1.0)
            loss, _ = grpo_loss(logp, logp.detach(), None, part.advantages, part.completion_mask,
                                loss_type=loss_type, max_len=13, truncated=part.truncated,
                                mask_truncated=mask_truncated)
            (loss * weight).backward()
        return [p.grad.clone() for p in model.parameters()]

    whole, split, padded = grads(1), grads(3), grads(10)  # 10 > 7 rows: 3 fillers that count 0
    model.zero_grad()
    for a, b, c in zip(whole, split, padded):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4) and torch.allclose(a, c, atol=1e-6, rtol=1e-4)


def test_overlong_prompts_are_dropped_on_request_keeping_general_after_reasoning(tiny_model_dir,
                                                                                 tiny_tokenizer, tmp_path):
    from r1.grpo.stream import build_stream

    short, long_ = {"problem": "1+2"}, {"problem": "1+2 " * 30}
    reasoning = [dict(short, id="r0"), dict(long_, id="r1"), dict(short, id="r2")]
    general = [dict(long_, id="g0"), dict(short, id="g1")]
    limit = len(tiny_tokenizer(build_stream(config(tiny_model_dir, tmp_path, max_prompt_tokens=10_000),
                                            tiny_tokenizer, [short], 0).prompts[0])["input_ids"])
    cfg = config(tiny_model_dir, tmp_path, max_prompt_tokens=limit, overlong_prompts="drop")
    stream = build_stream(cfg, tiny_tokenizer, reasoning, 0, general=general)
    assert [r["id"] for r in stream.records] == ["r0", "r2", "g1"] and stream.dropped == 2
    assert stream.size == 2 and stream.general.size == 1 and len(stream.prompt_ids) == 3
    assert all(len(ids) <= limit for ids in stream.prompt_ids)
    with pytest.raises(R1Error, match="2 prompts are longer than max_prompt_tokens.*overlong_prompts=drop"):
        build_stream(config(tiny_model_dir, tmp_path, max_prompt_tokens=limit), tiny_tokenizer, reasoning, 0,
                     general=general)
    with pytest.raises(R1Error, match="general_data: every prompt is longer than max_prompt_tokens"):
        build_stream(cfg, tiny_tokenizer, reasoning, 0, general=general[:1])
    with pytest.raises(R1Error, match="^data: every prompt is longer than max_prompt_tokens"):
        build_stream(cfg, tiny_tokenizer, reasoning[1:2], 0)


def test_prompt_stream_is_a_function_of_seed_and_cursor():
    records = [{"problem": str(i)} for i in range(5)]
    stream = PromptStream(records, [r["problem"] for r in records], [[1]] * 5, seed=3)
    first = stream.take(7)
    assert sorted(first[:5]) == list(range(5))  # every record once per pass
    again = PromptStream(records, [r["problem"] for r in records], [[1]] * 5, seed=3)
    again.cursor = 4
    assert again.take(3) == first[4:7]


def test_lr_schedule_reaches_its_floor_at_the_last_optimizer_step(tiny_model_dir, tmp_path):
    """One schedule for every stage (r1.train.schedule); before, GRPO's cosine stopped short of its floor."""
    cfg = config(tiny_model_dir, tmp_path / "s", warmup_steps=2, lr_schedule="cosine", max_steps=6, mu=2,
                 min_lr_ratio=0.1)
    run = trainer.setup(cfg)
    factors = []
    for _ in range(cfg.max_steps * cfg.mu):
        factors.append(run.scheduler.get_last_lr()[0] / cfg.lr)
        run.optimizer.step()
        run.scheduler.step()
    assert factors[:3] == [0.5, 1.0, 1.0] and factors[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(factors[1:], factors[2:]))


def test_recipe_loads(tmp_path):
    from pathlib import Path

    from r1.config import load_config

    recipe = Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "zero.yaml"
    cfg = load_config(GRPOConfig, recipe, [f"output_dir={tmp_path}"])
    assert (cfg.beta, cfg.group_size, cfg.prompts_per_step, cfg.lr) == (0.0, 8, 16, 1e-4)
    assert cfg.reward.weights_for("reasoning") == {"accuracy": 0.7, "format": 0.3}


def test_cli_grpo_refuses_in_one_line(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from r1.cli import app

    result = CliRunner().invoke(app, ["grpo", f"model={tiny_model_dir}", f"output_dir={tmp_path}",
                                      "group_size=1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        "error: command line: key 'group_size' = 1: Input should be greater than or equal to 2"]


def test_batch_carries_sampler_logprobs_with_nan_where_unknown():
    rollouts = [Rollout(0, 0, "", [5, 6], True, [-0.5, -0.25], eos_id=1), Rollout(0, 1, "", [7], False, [-1.0])]
    batch = build_batch([[3, 4], [3, 4]], rollouts, torch.zeros(2), pad_id=0)
    assert batch.sampler_logp.shape == batch.completion_mask.shape == (2, 3)
    assert batch.sampler_logp[0, :2].tolist() == [-0.5, -0.25] and math.isnan(batch.sampler_logp[0, 2])
    assert batch.sampler_logp[1, 0] == -1.0 and batch.sampler_logp[1, 1:].isnan().all()
    assert batch.rows(1, 2).sampler_logp.shape == (1, 1)  # columns cut with the rest
    plain = build_batch([[3, 4]], [Rollout(0, 0, "", [5], True)], torch.zeros(1), pad_id=0)
    assert plain.sampler_logp is None
    known = build_batch([[3]], [Rollout(0, 0, "", [5], True, [-0.5], eos_id=2, eos_logprob=-0.1)],
                        torch.zeros(1), pad_id=0)
    assert known.input_ids[0].tolist() == [3, 5, 2] and known.sampler_logp[0].tolist() == pytest.approx([-0.5, -0.1])


def test_batch_trains_only_on_sampled_tokens():
    """A completion ended by a stop string gets no eos (none was sampled; before, one was appended and
    trained on); one ended on an eos id gets the id it sampled, whichever of the model's eos ids."""
    rollouts = [Rollout(0, 0, "", [5, 6], True), Rollout(0, 1, "", [7], True, eos_id=9),
                Rollout(0, 2, "", [8], False)]
    batch = build_batch([[3]] * 3, rollouts, torch.zeros(3), pad_id=0)
    assert batch.completion_mask.sum(1).tolist() == [2, 2, 1]
    assert batch.input_ids[:, 1:].tolist() == [[5, 6], [7, 9], [8, 0]]
    assert batch.truncated.tolist() == [False, False, True]


def test_compile_sends_sampling_and_both_forwards_through_the_compiled_path(tiny_model_dir, tmp_path,
                                                                             monkeypatch):
    """The wiring only: `compile` reaches the sampler, the policy forward and the reference forward.
    The compiled code itself is checked against eager in tests/models/test_compile.py."""
    import r1.models.fast as fast

    seen = []

    def eager(lm, method):
        seen.append((method, torch.is_grad_enabled()))
        return getattr(lm, method)

    monkeypatch.setattr(fast, "_compiled", eager)
    trainer.train(config(tiny_model_dir, tmp_path, max_steps=1, beta=0.04, compile=True))
    assert {method for method, _ in seen} == {"decode", "forward"}
    assert ("forward", True) in seen and ("forward", False) in seen  # the policy's and the reference's
