"""GRPO with engine=vllm: vLLM samples, the trainer updates, vLLM gets the new weights after every
update, and truncated importance sampling sees the sampler's log-probs.

Needs vLLM (GPU, or `bash .ci/vllm-cpu`); skipped where it does not import.
"""

from __future__ import annotations

import pytest

from r1.grpo.config import GRPOConfig
from r1.grpo.trainer import grpo_step, setup, train
from r1.models.corpus import render_chat
from r1.models.load import load_model
from r1.rollout import HFEngine, SamplingParams
from r1.rollout.vllm_engine import vllm_available

pytestmark = pytest.mark.skipif(not vllm_available(), reason="vllm is not installed (docs/vllm.md; "
                                "bash .ci/vllm-cpu runs these tests in a venv with vllm-cpu)")

PROBLEMS = ["Compute 482+201.", "Solve 10x+62=8x+136.", "Compute 9+1.", "Use 2 11 15 16 to make 14."]


def _greedy(engine, prompts):
    out = engine.generate(prompts, SamplingParams(n=1, temperature=0, max_new_tokens=30))
    return [rs[0].token_ids for rs in out]


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_vllm_rollouts_follow_every_update(tiny_model_dir, tmp_path, lora):
    # LoRA: vLLM gets the base weights with the adapters folded in after every update
    cfg = GRPOConfig(model=str(tiny_model_dir), output_dir=str(tmp_path), engine="vllm", prompts_per_step=4,
                     group_size=4, max_new_tokens=30, lr=3e-2 if lora else 3e-3, train_problems=50,
                     save_every=0, max_steps=3, lora={"enabled": lora, "r": 8})
    run = setup(cfg)
    prompts = [render_chat(p) for p in PROBLEMS]
    hf = HFEngine(run.accelerator.unwrap_model(run.model), run.tokenizer)
    start = _greedy(run.engine, prompts)
    assert start == _greedy(hf, prompts)
    moved = False
    for step in (1, 2, 3):
        metrics = grpo_step(cfg, run, step)
        if metrics["skipped"]:
            continue
        # the sampler's and the trainer's log-probs agree to float rounding: weights ~1, none capped
        assert metrics["tis_weight_mean"] == pytest.approx(1.0, abs=1e-3)
        now = _greedy(run.engine, prompts)
        assert now == _greedy(hf, prompts), f"vLLM is not sampling from the updated policy (step {step})"
        moved = moved or now != start
    assert moved, "this lr should change some greedy completion within 3 steps"


def test_vllm_with_lora_resumes_with_the_checkpointed_adapters(tiny_model_dir, tmp_path):
    # A LoRA checkpoint holds only the adapters: vLLM must start from the base plus those adapters.
    cfg = GRPOConfig(model=str(tiny_model_dir), output_dir=str(tmp_path), engine="vllm", prompts_per_step=4,
                     group_size=4, max_new_tokens=30, lr=3e-2, train_problems=50, save_every=1, max_steps=2,
                     eval_every=0, lora={"enabled": True, "r": 8})
    train(cfg)
    run = setup(cfg.model_copy(update={"max_steps": 3}))
    assert run.start == 2
    prompts = [render_chat(p) for p in PROBLEMS]
    resumed = _greedy(HFEngine(run.accelerator.unwrap_model(run.model), run.tokenizer), prompts)
    base = _greedy(HFEngine(load_model(tiny_model_dir), run.tokenizer), prompts)
    assert resumed != base, "two steps at lr 3e-2 should change some greedy completion"
    assert _greedy(run.engine, prompts) == resumed
