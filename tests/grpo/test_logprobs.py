"""Per-token log-probs and entropies against a naive float64 log_softmax."""

import math

import pytest
import torch

from r1.grpo import entropy_from_logits, token_logprobs


def naive_logprobs(logits, ids, temperature=1.0):
    lp = torch.log_softmax(logits.double() / temperature, dim=-1)  # [B, T, V]
    return lp[:, :-1].gather(-1, ids[:, 1:, None]).squeeze(-1)  # [B, T-1]


def naive_entropy(logits, temperature=1.0):
    lp = torch.log_softmax(logits.double() / temperature, dim=-1)  # [B, T, V]
    return -(lp.exp() * lp).sum(-1)  # [B, T]


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(3, 5, 11, generator=g) * 3, torch.randint(0, 11, (3, 5), generator=g)


def test_hand_computed():
    # V=2, logits [0, ln 3] at position 0 -> p = [1/4, 3/4]; next token 1 -> log(3/4).
    logits = torch.tensor([[[0.0, math.log(3.0)], [5.0, 5.0]]])
    out = token_logprobs(logits, torch.tensor([[0, 1]]))
    assert out.shape == (1, 1)
    torch.testing.assert_close(out, torch.tensor([[math.log(0.75)]]))
    # temperature 0.5 doubles the logits: [0, ln 9] -> p(1) = 9/10
    out = token_logprobs(logits, torch.tensor([[0, 1]]), temperature=0.5)
    torch.testing.assert_close(out, torch.tensor([[math.log(0.9)]]))


@pytest.mark.parametrize("temperature", [1.0, 0.7, 1.3])
def test_matches_naive(batch, temperature):
    logits, ids = batch
    out = token_logprobs(logits, ids, temperature=temperature)
    assert out.shape == (3, 4) and out.dtype == torch.float32
    torch.testing.assert_close(out, naive_logprobs(logits, ids, temperature).float())


def test_temperature_changes_the_distribution(batch):
    logits, ids = batch
    assert not torch.allclose(token_logprobs(logits, ids), token_logprobs(logits, ids, temperature=0.7))


def test_gradient_matches_naive(batch):
    logits, ids = batch
    a = logits.clone().requires_grad_()
    b = logits.double().clone().requires_grad_()
    w = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    (token_logprobs(a, ids, temperature=0.7) * w).sum().backward()
    (naive_logprobs(b, ids, 0.7) * w.double()).sum().backward()
    torch.testing.assert_close(a.grad, b.grad.float())


def test_half_precision_upcast_to_float32(batch):
    logits, ids = batch
    out = token_logprobs(logits.bfloat16(), ids)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, naive_logprobs(logits.bfloat16().float(), ids).float())


def test_shape_checks(batch):
    logits, ids = batch
    with pytest.raises(ValueError, match="input_ids"):
        token_logprobs(logits, ids[:, :-1])
    with pytest.raises(ValueError, match=r"\[B, T, V\]"):
        token_logprobs(logits[0], ids[0])
    with pytest.raises(ValueError, match="temperature"):
        token_logprobs(logits, ids, temperature=0.0)


def test_entropy_uniform_and_one_hot():
    # uniform over V=8 -> ln 8; one logit 100 above the rest -> ~0
    logits = torch.stack([torch.zeros(8), torch.tensor([100.0] + [0.0] * 7)])[None]  # [1, 2, 8]
    torch.testing.assert_close(entropy_from_logits(logits), torch.tensor([[math.log(8), 0.0]]))


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_entropy_matches_naive(batch, temperature):
    logits, _ = batch
    out = entropy_from_logits(logits, temperature=temperature)
    assert out.shape == (3, 5)
    torch.testing.assert_close(out, naive_entropy(logits, temperature).float())


@pytest.mark.parametrize("budget", [1, 5 * 11, 2 * 5 * 11])
def test_chunked_rows_give_the_same_numbers(batch, budget, monkeypatch):
    # A real vocabulary goes one row (or a few) at a time; a tiny one all at once. Same results.
    from r1.grpo import logprobs

    logits, ids = batch
    whole = token_logprobs(logits, ids), entropy_from_logits(logits)
    monkeypatch.setattr(logprobs, "CHUNK_ELEMENTS", budget)
    torch.testing.assert_close(token_logprobs(logits, ids), whole[0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(entropy_from_logits(logits), whole[1], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(token_logprobs(logits, ids).double(), naive_logprobs(logits, ids),
                               rtol=1e-6, atol=1e-6, check_dtype=False)
