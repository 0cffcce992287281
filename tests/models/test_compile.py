"""The lean forward under torch.compile (FastLM(compile=True), the `compile` setting) against eager.

Compiled kernels round differently, so values are compared within float32 tolerance; greedy tokens
must be equal. Shapes change between calls (prompt width, completion length, rows, finished rows
dropped), and the graphs must not be rebuilt for each: that is what makes compile pay.
"""

from __future__ import annotations

import pytest
import torch
from torch._dynamo.utils import counters

from r1.errors import R1Error
from r1.grpo.forward import completion_logprobs
from r1.models.fast import FastLM
from r1.rollout.lean import lean_sample
from tests.models.test_fast import _batch, _qwen2

# Minutes of C++ compiling with an empty inductor cache: kept out of `pytest -q`, run by
# `pytest -m compile` (CI's own step, .ci/run).
pytestmark = pytest.mark.compile


def _graphs() -> int:
    return counters["stats"]["unique_graphs"]


def _batch3(vocab, groups, group_size, seed):
    """test_fast's batch with every completion 3+ tokens long: with 2, the model's [:, :-1] slice has
    length 1 and torch specialises the graph to it (one more compile, which the test would count)."""
    batch = _batch(vocab, groups, group_size, seed)
    while int(batch.completion_mask.sum(1).min()) < 3:
        seed += 1000
        batch = _batch(vocab, groups, group_size, seed)
    return batch


def _logprobs_and_grads(model, batch, compile):
    mask = batch.completion_mask
    model.zero_grad()
    logp, _ = completion_logprobs(model, batch, 0.7, compile=compile)
    (logp[mask] * torch.linspace(-1, 1, int(mask.sum()))).sum().backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.zero_grad()
    return logp.detach()[mask], grads


# compiles a forward, its backward and an inference graph: ~2.5 min with an empty cache
def test_compiled_forward_matches_eager_with_gradients_and_keeps_its_graphs():
    model = _qwen2()  # grouped-query attention, q/k/v biases, an untied head
    vocab = model.config.vocab_size
    compiled_graphs = None
    for seed, (groups, group_size) in enumerate([(3, 4), (2, 3), (4, 2)]):  # other widths and rows
        batch = _batch3(vocab, groups, group_size, seed)
        eager_logp, eager_grads = _logprobs_and_grads(model, batch, compile=False)
        logp, grads = _logprobs_and_grads(model, batch, compile=True)
        assert torch.allclose(logp, eager_logp, atol=1e-4), (logp - eager_logp).abs().max()
        assert eager_grads.abs().max() > 0
        assert torch.allclose(grads, eager_grads, atol=1e-4, rtol=1e-3), (grads - eager_grads).abs().max()
        with torch.inference_mode():  # the reference's forward: a graph of its own, also kept
            ref = completion_logprobs(model, batch, 0.7, compile=True)[0][batch.completion_mask]
        assert torch.allclose(ref, eager_logp, atol=1e-4)
        if compiled_graphs is None:
            compiled_graphs = _graphs()
    assert _graphs() == compiled_graphs, "a new batch shape rebuilt the compiled graphs"


def test_compiled_sampler_matches_eager_and_keeps_its_graph(tiny_model):
    """Greedy tokens equal; rows finish at different steps (eos), so finished rows are dropped
    mid-rollout and the row count changes under the compiled step."""
    vocab = tiny_model.config.vocab_size
    eager, compiled = FastLM(tiny_model), FastLM(tiny_model, compile=True)
    g = torch.Generator().manual_seed(3)
    graphs = None
    for lengths in ((3, 9, 6), (12, 4)):  # a second prompt width and prompt count
        prompts = [torch.randint(3, vocab, (n,), generator=g).tolist() for n in lengths]
        probe = lean_sample(eager, prompts, 2, 16, 0.0, 1.0, set(), [], None, 0)
        eos = {max({t for row in probe for t in row}, key=lambda t: _stop_lengths(probe, t))}
        want = lean_sample(eager, prompts, 2, 16, 0.0, 1.0, eos, [], None, 0)
        got = lean_sample(compiled, prompts, 2, 16, 0.0, 1.0, eos, [], None, 0)
        assert got == want
        assert len({len(row) for row in want}) > 1, "no row stopped early: compaction untested"
        if graphs is None:
            graphs = _graphs()
    assert _graphs() == graphs, "a new prompt width or row count rebuilt the compiled step"


def test_compiled_sampler_with_grouped_query_attention_matches_eager():
    model = _qwen2()  # 4 query heads share 2 key/value heads; q/k/v biases
    g = torch.Generator().manual_seed(4)
    prompts = [torch.randint(3, model.config.vocab_size, (n,), generator=g).tolist() for n in (5, 11)]
    want = lean_sample(FastLM(model), prompts, 3, 12, 0.0, 1.0, set(), [], None, 0)
    assert lean_sample(FastLM(model, compile=True), prompts, 3, 12, 0.0, 1.0, set(), [], None, 0) == want


def _stop_lengths(rows: list[list[int]], eos: int) -> int:
    """How many different lengths the rows get when eos stops them."""
    return len({row.index(eos) + 1 if eos in row else len(row) for row in rows})


def test_a_failed_compile_is_one_clear_line(tiny_model, monkeypatch):
    import torch._inductor.config as inductor

    lm = FastLM(tiny_model, compile=True)
    lm.eps = 1.2345e-5  # sizes nothing has compiled yet, so the C++ compiler must run
    monkeypatch.setattr(inductor.cpp, "cxx", ("/nonexistent/c++",))
    monkeypatch.setattr(inductor, "fx_graph_cache", False)
    message = r"^compile: torch.compile of the lean forward failed .*set compile: false"
    with pytest.raises(R1Error, match=message):
        lean_sample(lm, [[5, 6, 7]], 2, 4, 0.0, 1.0, set(), [], None, 0)
