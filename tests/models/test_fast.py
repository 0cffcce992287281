"""The lean forward and sampler (r1.models.fast, r1.rollout.lean) against Hugging Face's own.

Llama (the tiny model, tied embeddings) and a random Qwen2 with q/k/v biases and grouped-query
attention: logits, gradients, greedy decoding token for token, and the sampling distribution.
"""

import copy

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM

from r1.grpo.batch import build_batch
from r1.grpo.forward import _shared_prompt_logits, completion_logprobs
from r1.models import fast
from r1.models.fast import FastLM, unsupported
from r1.rollout import Rollout
from r1.rollout.lean import _draw, lean_sample


def _qwen2():
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=50, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      tie_word_embeddings=False)
    model = Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():  # random biases, so a dropped bias would show
        for layer in model.model.layers:
            for lin in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                lin.bias.normal_(0, 0.5)
    return model


@pytest.fixture(params=["llama", "qwen2"])
def model(request, tiny_model):
    return tiny_model if request.param == "llama" else _qwen2()


@pytest.fixture(params=["fused", "apart"])
def fuse(request, monkeypatch):
    """Both ways the lean forward reads q|k|v and gate|up (fast.FUSE_UP_TO): the test models are
    small enough to be fused, so "apart" lowers the threshold to zero."""
    if request.param == "apart":
        monkeypatch.setattr(fast, "FUSE_UP_TO", 0)
    return request.param == "fused"


def _batch(vocab, groups=3, group_size=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    prompts = [torch.randint(3, vocab, (int(n),), generator=g).tolist()
               for n in torch.randint(4, 12, (groups,), generator=g)]
    rollouts = [Rollout(0, 0, "", torch.randint(3, vocab, (int(n),), generator=g).tolist(), bool(f),
                        eos_id=1 if f else None)
                for n, f in zip(torch.randint(1, 15, (groups * group_size,), generator=g),
                                torch.randint(0, 2, (groups * group_size,), generator=g))]
    prompt_ids = [p for p in prompts for _ in range(group_size)]
    return build_batch(prompt_ids, rollouts, torch.randn(groups * group_size, generator=g), 0)


def _hf_logprobs(model, batch, temperature):
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                   position_ids=batch.position_ids, use_cache=False).logits
    p = batch.prompt_width
    z = torch.log_softmax(logits[:, p - 1 : -1] / temperature, -1)
    return z.gather(-1, batch.input_ids[:, p:, None]).squeeze(-1)


def test_shared_prompt_logprobs_and_gradients_match_hf(model, fuse):
    assert unsupported(model) is None
    assert FastLM(model).fuse == fuse
    batch = _batch(model.config.vocab_size)
    mask = batch.completion_mask
    ours, _ = completion_logprobs(model, batch, 0.7)
    theirs = _hf_logprobs(model, batch, 0.7)
    assert torch.allclose(ours[mask], theirs[mask], atol=1e-4), (ours - theirs)[mask].abs().max()
    grads = []
    for logp in (ours, theirs):
        model.zero_grad()
        (logp[mask] * torch.linspace(-1, 1, int(mask.sum()))).sum().backward(retain_graph=True)
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    model.zero_grad()
    assert grads[0].abs().max() > 0
    assert torch.allclose(grads[0], grads[1], atol=1e-4, rtol=1e-3), (grads[0] - grads[1]).abs().max()


def test_greedy_matches_generate_token_for_token(model, fuse):
    """Rows stop at different steps (eos), so the batch compaction is exercised too."""
    g = torch.Generator().manual_seed(1)
    prompts = [torch.randint(3, model.config.vocab_size, (int(n),), generator=g).tolist() for n in (3, 9, 6, 12)]
    # eos = the token each row's greedy path hits most often, so rows finish at different times
    ref = []
    for p in prompts:
        out = model.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long),
                             max_new_tokens=20, do_sample=False, eos_token_id=None, pad_token_id=0)
        ref.append(out[0, len(p):].tolist())
    eos = max(set(sum(ref, [])), key=lambda t: sum(r.count(t) for r in ref))
    expected = [r[: r.index(eos) + 1] if eos in r else r for r in ref]
    assert len({len(e) for e in expected}) > 1
    got = lean_sample(FastLM(model), prompts, 2, 20, 0.0, 1.0, {eos}, [], None, 0)
    assert got == [e for e in expected for _ in range(2)]


def test_a_long_lived_lean_forward_follows_each_optimizer_step(model, fuse):
    """The rollout engine keeps one FastLM for a whole run (r1.rollout.hf): after an optimizer step
    its log-probs and greedy tokens must be the updated model's, never those of weights (or fused
    copies of them) read before the step."""
    model = copy.deepcopy(model)  # tiny_model is shared by the session
    lm, batch = FastLM(model), _batch(model.config.vocab_size)
    mask, p = batch.completion_mask, batch.prompt_width
    prompts = [batch.input_ids[i, p - n :].tolist()[:n] for i, n in ((0, 4), (4, 7))]

    def lean_logprobs():  # the reference / old-policy path: no gradients, the long-lived lm
        with torch.no_grad():
            z = torch.log_softmax(_shared_prompt_logits(lm, batch), -1)  # [b, L, V]
        return z.gather(-1, batch.input_ids[:, p:, None]).squeeze(-1)[mask]

    before = lean_logprobs()
    lean_sample(lm, prompts, 1, 8, 0.0, 1.0, set(), [], None, 0)  # sample before the step, as a run does
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
    completion_logprobs(model, batch, 1.0)[0][mask].sum().neg().backward()
    optimizer.step()
    with torch.no_grad():
        fresh = _hf_logprobs(model, batch, 1.0)[mask]
    after = lean_logprobs()
    assert (after - before).abs().max() > 0.1  # the step moved the model
    assert torch.allclose(after, fresh, atol=1e-4), (after - fresh).abs().max()
    greedy = lean_sample(lm, prompts, 1, 8, 0.0, 1.0, set(), [], None, 0)
    for prompt, tokens in zip(prompts, greedy):
        out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                             max_new_tokens=8, do_sample=False, eos_token_id=None, pad_token_id=0)
        assert tokens == out[0, len(prompt):].tolist()


def test_large_layers_read_the_parameters_without_copies():
    """At Qwen2.5-0.5B's size the lean forward uses the parameters themselves (no fused copy, which
    cost 0.87 GiB per forward there); the tiny model's small layers are fused."""
    shape = dict(hidden_size=896, num_hidden_layers=1, num_attention_heads=14, num_key_value_heads=2,
                 intermediate_size=4864, vocab_size=64)
    with torch.device("meta"):  # no memory for the weights
        model = Qwen2ForCausalLM(Qwen2Config(**shape))
    lm = FastLM(model)
    assert not lm.fuse
    att, mlp = model.model.layers[0].self_attn, model.model.layers[0].mlp
    w = lm.weights().layers[0]
    assert all(a is b for a, b in zip(w.qkv_w, (att.q_proj.weight, att.k_proj.weight, att.v_proj.weight)))
    assert all(a is b for a, b in zip(w.qkv_b, (att.q_proj.bias, att.k_proj.bias, att.v_proj.bias)))
    assert all(a is b for a, b in zip(w.gate_up_w, (mlp.gate_proj.weight, mlp.up_proj.weight)))
    assert FastLM(_qwen2()).fuse


def test_sampling_follows_softmax_over_temperature():
    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, -3.0]]).repeat(20000, 1)
    for temperature in (1.0, 0.6):
        drawn = _draw(logits, temperature, 1.0)
        freq = torch.bincount(drawn, minlength=5).float() / len(drawn)
        assert torch.allclose(freq, torch.softmax(logits[0] / temperature, -1), atol=0.015), freq


def test_top_p_keeps_the_smallest_nucleus():
    torch.manual_seed(0)
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    drawn = _draw(probs.log()[None].repeat(20000, 1), 1.0, 0.75)  # nucleus: 0.5 + 0.3 >= 0.75
    freq = torch.bincount(drawn, minlength=4).float() / len(drawn)
    assert freq[2] == 0 and freq[3] == 0
    assert abs(freq[0] - 0.5 / 0.8) < 0.015


def test_other_models_and_wrappers_take_the_hf_path(tiny_model):
    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=40))
    assert "model_type 'gpt2'" in unsupported(gpt2)
    assert "not a Hugging Face model" in unsupported(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    scaled = _qwen2()
    scaled.config.rope_parameters = {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}
    assert "rope_type 'linear'" in unsupported(scaled)

    class Adapter(torch.nn.Linear):
        pass

    adapted = _qwen2()
    q = adapted.model.layers[0].self_attn.q_proj
    adapted.model.layers[0].self_attn.q_proj = Adapter(q.in_features, q.out_features)
    assert "Adapter" in unsupported(adapted)
    with pytest.raises(ValueError, match="unsupported"):
        FastLM(gpt2)


def test_length_chunks_split_only_when_padding_would_dominate():
    from r1.models.fast import length_chunks

    assert length_chunks([64] * 64) == [(0, 64)]  # equal lengths: one chunk
    skewed = length_chunks(sorted([3] * 15 + [60]))
    assert len(skewed) > 1 and skewed[0][0] == 0 and skewed[-1][1] == 16
    assert all(a < b for a, b in skewed)


def test_one_long_completion_does_not_change_the_numbers(tiny_model):
    """15 short completions and one long one: chunked by length, yet equal to one HF forward."""
    g = torch.Generator().manual_seed(3)
    prompts = [torch.randint(3, 100, (int(n),), generator=g).tolist() for n in (5, 9, 7, 11)]
    lengths = [2, 3, 1, 2] * 3 + [3, 2, 1, 60]
    rollouts = [Rollout(0, 0, "", torch.randint(3, 100, (n,), generator=g).tolist(), True, eos_id=1)
                for n in lengths]
    batch = build_batch([p for p in prompts for _ in range(4)], rollouts, torch.randn(16, generator=g), 0)
    mask = batch.completion_mask
    ours, entropy = completion_logprobs(tiny_model, batch, 0.9, with_entropy=True)
    theirs = _hf_logprobs(tiny_model, batch, 0.9)
    assert torch.allclose(ours[mask], theirs[mask], atol=1e-4)
    assert entropy.shape == ours.shape and (entropy[mask] > 0).all()
    tiny_model.zero_grad()
    ours[mask].sum().backward()
    mine = torch.cat([p.grad.flatten() for p in tiny_model.parameters()])
    tiny_model.zero_grad()
    _hf_logprobs(tiny_model, batch, 0.9)[mask].sum().backward()
    hf = torch.cat([p.grad.flatten() for p in tiny_model.parameters()])
    tiny_model.zero_grad()
    assert torch.allclose(mine, hf, atol=1e-4, rtol=1e-3)
