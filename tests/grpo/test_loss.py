"""The GRPO loss on small hand-computed tensors: clipping, k3 KL, loss_type, masking, gradients."""

import math

import pytest
import torch

from r1.grpo import grpo_loss, group_advantages, k3_kl, token_logprobs

# The 2x3 example. old_logp = -1 everywhere, logp = -1 + ln(ratio), eps_low = eps_high = 0.2:
#   row 0, A = +1, ratios [1.0, 1.3, 0.9], mask [1, 1, 1]
#     objective min(r*A, clip(r)*A) = [1.0, min(1.3, 1.2) = 1.2 (clipped high), 0.9]
#     per-token loss [-1.0, -1.2, -0.9], sum -3.1
#   row 1, A = -2, ratios [1.0, 0.7, 1.1], mask [1, 1, 0]
#     objective [-2.0, min(-1.4, -1.6) = -1.6 (clipped low), masked]
#     per-token loss [2.0, 1.6, -], sum 3.6
#   grpo (seq-mean-token-mean) = (-3.1/3 + 3.6/2) / 2 = 0.383333
#   dapo (token-mean)          = (-3.1 + 3.6) / 5 = 0.1
#   dr_grpo, max_len 4         = 0.5 / (2 * 4) = 0.0625
RATIOS = torch.tensor([[1.0, 1.3, 0.9], [1.0, 0.7, 1.1]])
OLD = torch.full((2, 3), -1.0)
ADV = torch.tensor([1.0, -2.0])
MASK = torch.tensor([[True, True, True], [True, True, False]])


def example_logp():
    return (OLD + RATIOS.log()).requires_grad_()


def run(logp=None, old=OLD, ref=None, adv=ADV, mask=MASK, **kw):
    logp = example_logp() if logp is None else logp
    loss, metrics = grpo_loss(logp, old, ref, adv, mask, **kw)
    loss.backward()
    return loss, metrics, logp.grad


@pytest.mark.parametrize("loss_type, kw, expected", [
    ("grpo", {}, (-3.1 / 3 + 3.6 / 2) / 2),
    ("dapo", {}, 0.1),
    ("dr_grpo", {"max_len": 4}, 0.0625),
])
def test_hand_computed_loss_types(loss_type, kw, expected):
    loss, _, _ = run(loss_type=loss_type, **kw)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_hand_computed_metrics_and_grad():
    _, m, grad = run(loss_type="dapo")
    # clipped: (0, 1) high and (1, 1) low out of 5 tokens; ratios 1 + 1.3 + 0.9 + 1 + 0.7 = 4.9
    assert m["clip_frac"] == pytest.approx(0.4) and m["tokens"] == 5
    assert m["clip_frac_high"] == pytest.approx(0.2) and m["clip_frac_low"] == pytest.approx(0.2)
    assert m["ratio_mean"] == pytest.approx(0.98) and m["ratio_max"] == pytest.approx(1.3)
    assert m["kl"] == 0.0
    # d loss / d logp = -A * ratio / 5 on the unclipped branch; 0 where clipped or masked
    expected = torch.tensor([[-1.0 / 5, 0.0, -0.9 / 5], [2.0 / 5, 0.0, 0.0]])
    torch.testing.assert_close(grad, expected)


def test_clip_higher_is_asymmetric():
    # eps_low 0.2, eps_high 0.28: ratio 1.3, A = +1 -> 1.28; ratio 0.7, A = -1 -> -0.8;
    # ratio 1.25, A = +1 -> 1.25 (inside the raised upper bound); one token per row, token-mean.
    ratios, adv = torch.tensor([[1.3], [0.7], [1.25]]), torch.tensor([1.0, -1.0, 1.0])
    logp = ratios.log().requires_grad_()
    loss, m, grad = run(logp, torch.zeros(3, 1), adv=adv, mask=torch.ones(3, 1, dtype=torch.bool),
                        eps_low=0.2, eps_high=0.28, loss_type="dapo")
    assert loss.item() == pytest.approx(-(1.28 - 0.8 + 1.25) / 3, abs=1e-6)
    assert m["clip_frac_high"] == pytest.approx(1 / 3) and m["clip_frac_low"] == pytest.approx(1 / 3)
    torch.testing.assert_close(grad, torch.tensor([[0.0], [0.0], [-1.25 / 3]]))


def test_clip_only_binds_in_the_direction_of_the_advantage():
    # ratio 1.3 with A < 0 and ratio 0.7 with A > 0 stay unclipped: min picks r * A.
    logp = torch.tensor([[1.3], [0.7]]).log().requires_grad_()
    loss, m, _ = run(logp, torch.zeros(2, 1), adv=torch.tensor([-1.0, 1.0]),
                     mask=torch.ones(2, 1, dtype=torch.bool), loss_type="dapo")
    assert loss.item() == pytest.approx(-(-1.3 + 0.7) / 2, abs=1e-6) and m["clip_frac"] == 0.0


def test_k3_nonnegative_and_zero_at_ref():
    g = torch.Generator().manual_seed(0)
    logp, ref = torch.randn(4, 7, generator=g) * 3, torch.randn(4, 7, generator=g) * 3
    assert (k3_kl(logp, ref) >= 0).all()
    assert torch.equal(k3_kl(logp, logp), torch.zeros(4, 7))


def test_kl_hand_computed():
    # d = ref - logp = [0, ln 2, -ln 2]: k3 = e^d - d - 1 = [0, 1 - ln 2, ln 2 - 0.5], sum 0.5.
    # A = 0 and ratio 1, so the loss is beta * mean k3 = 0.1 * 0.5 / 3; d k3 / d logp = 1 - e^d.
    logp = torch.full((1, 3), -2.0, requires_grad=True)
    ref = -2.0 + torch.tensor([[0.0, math.log(2), -math.log(2)]])
    loss, m, grad = run(logp, logp.detach(), ref, torch.zeros(1), torch.ones(1, 3, dtype=torch.bool),
                        beta=0.1, loss_type="dapo")
    assert loss.item() == pytest.approx(0.1 * 0.5 / 3, abs=1e-7)
    assert m["kl"] == pytest.approx(0.5 / 3, abs=1e-7)
    torch.testing.assert_close(grad, 0.1 * torch.tensor([[0.0, 1 - 2.0, 1 - 0.5]]) / 3)


def test_beta_zero_ignores_ref_and_needs_none():
    base_loss, _, base_grad = run()
    loss, m, grad = run(ref=OLD + 0.5)
    assert loss.item() == base_loss.item() and torch.equal(grad, base_grad) and m["kl"] > 0
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(example_logp(), OLD, None, ADV, MASK, beta=0.1)


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
def test_masked_positions_change_nothing(loss_type):
    kw = {"loss_type": loss_type, "max_len": 4, "beta": 0.1}
    base_loss, base_m, base_grad = run(ref=OLD - 0.3, **kw)
    garbage = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).bool()
    logp = example_logp().detach().masked_fill(garbage, float("nan")).requires_grad_()
    old, ref = OLD.masked_fill(garbage, 1e4), (OLD - 0.3).masked_fill(garbage, -float("inf"))
    loss, m, grad = run(logp, old, ref, **kw)
    assert loss.item() == base_loss.item() and m == base_m and torch.equal(grad, base_grad)


@pytest.mark.parametrize("loss_type, expected", [
    ("grpo", -3.1 / 3),  # as if row 1 were not in the batch
    ("dapo", -3.1 / 3),
    ("dr_grpo", -3.1 / (2 * 4)),       # normaliser stays B * max_len
])
def test_truncated_rows_leave_the_loss(loss_type, expected):
    truncated = torch.tensor([False, True])
    loss, m, grad = run(loss_type=loss_type, max_len=4, truncated=truncated, mask_truncated=True)
    assert loss.item() == pytest.approx(expected, abs=1e-6) and m["tokens"] == 3
    assert torch.equal(grad[1], torch.zeros(3))
    kept, _, _ = run(loss_type=loss_type, max_len=4, truncated=truncated, mask_truncated=False)
    assert kept.item() == run(loss_type=loss_type, max_len=4)[0].item()


def test_all_masked_row_is_skipped_by_seq_mean():
    mask = torch.tensor([[True, True, True], [False, False, False]])
    loss, _, grad = run(mask=mask)
    assert loss.item() == pytest.approx(-3.1 / 3, abs=1e-6) and torch.equal(grad[1], torch.zeros(3))


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
def test_all_masked_batch_gives_zero_not_nan(loss_type):
    loss, m, grad = run(mask=torch.zeros(2, 3, dtype=torch.bool), loss_type=loss_type, max_len=3)
    assert loss.item() == 0.0 and torch.equal(grad, torch.zeros(2, 3))
    assert all(math.isfinite(v) for v in m.values())


@pytest.mark.parametrize("adv", [torch.zeros(2), group_advantages(torch.tensor([0.3, 0.3]), 2)])
def test_zero_advantages_give_zero_loss_and_grad(adv):  # also: a group of identical rewards
    loss, _, grad = run(adv=adv)
    assert loss.item() == 0.0 and torch.equal(grad, torch.zeros(2, 3))


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
def test_mu_one_gradient_is_policy_gradient(loss_type):
    # old_logp = logp.detach(): ratio 1, no clipping, so grad = -A * grad(logp) / normaliser.
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 7, generator=g).requires_grad_()
    ids = torch.randint(0, 7, (2, 5), generator=g)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]).bool()
    adv = torch.tensor([0.7, -1.3])
    logp = token_logprobs(logits, ids)  # [2, 4]
    loss, m = grpo_loss(logp, logp.detach(), None, adv, mask, loss_type=loss_type, max_len=6)
    (grad,) = torch.autograd.grad(loss, logits, retain_graph=True)
    normaliser = {"grpo": mask.sum(1, keepdim=True) * 2,  # |o_i| * B
                  "dapo": mask.sum(), "dr_grpo": 2 * 6}[loss_type]
    surrogate = -(adv[:, None] * logp * mask / normaliser).sum()
    (expected,) = torch.autograd.grad(surrogate, logits)
    torch.testing.assert_close(grad, expected)
    assert m["ratio_mean"] == 1.0 and m["clip_frac"] == 0.0


def test_bad_loss_type_settings_raise():
    with pytest.raises(ValueError, match="max_len"):
        grpo_loss(example_logp(), OLD, None, ADV, MASK, loss_type="dr_grpo")
    with pytest.raises(ValueError, match="max_len"):
        grpo_loss(example_logp(), OLD, None, ADV, MASK, loss_type="dr_grpo", max_len=2)
    with pytest.raises(ValueError, match="loss_type"):
        grpo_loss(example_logp(), OLD, None, ADV, MASK, loss_type="sum")


def test_truncated_importance_sampling_weights_each_token():
    """tokens whose sampler log-prob is 0.1 below, 1.0 below (capped at 2) and unknown (weight 1)."""
    old = torch.tensor([[-1.0, -2.0, -0.5]])
    logp = old.clone().requires_grad_(True)
    sampler = torch.tensor([[-1.1, -3.0, math.nan]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    loss, m = grpo_loss(logp, old, None, torch.tensor([1.0]), mask, loss_type="dapo",
                        sampler_logp=sampler, tis_cap=2.0)
    weights = torch.tensor([math.exp(0.1), 2.0, 1.0])
    assert loss.item() == pytest.approx(-weights.mean().item(), rel=1e-6)
    loss.backward()
    assert torch.allclose(logp.grad[0], -weights / 3, rtol=1e-6)
    assert m["tis_weight_mean"] == pytest.approx(weights.mean().item(), rel=1e-6)
    plain, _ = grpo_loss(old.clone(), old, None, torch.tensor([1.0]), mask, loss_type="dapo",
                         sampler_logp=sampler, tis_cap=0.0)  # cap 0: no correction
    assert plain.item() == pytest.approx(-1.0)
