"""Group-relative advantages: hand-computed values, the std convention, degenerate groups."""

import pytest
import torch

from r1.grpo import group_advantages, group_all_equal


def test_hand_computed_unbiased_std():
    # G=4, rewards [1, 0, 0, 0]: mean 0.25, deviations [0.75, -0.25, -0.25, -0.25],
    # sum of squares 0.5625 + 3 * 0.0625 = 0.75, unbiased var 0.75 / 3 = 0.25, std 0.5
    # -> A = [1.5, -0.5, -0.5, -0.5]. (Population std sqrt(0.1875) would give 1.732.)
    adv = group_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), 4, eps=0.0)
    torch.testing.assert_close(adv, torch.tensor([1.5, -0.5, -0.5, -0.5]))


def test_matches_torch_std_default_and_eps():
    r = torch.tensor([0.0, 1.0, 0.5, 2.0, 3.0, 7.0])
    g = r.view(2, 3)
    expected = ((g - g.mean(1, keepdim=True)) / (g.std(1, keepdim=True) + 1e-4)).view(-1)
    torch.testing.assert_close(group_advantages(r, 3), expected)


def test_groups_are_contiguous_and_independent():
    # prompt 0: [0, 1] -> mean 0.5, unbiased std sqrt(0.5) -> A = -+0.5 / 0.70711 = -+0.70711
    # prompt 1: [10, 30] -> mean 20, std sqrt(200) = 14.142 -> A = -+10 / 14.142 = -+0.70711
    adv = group_advantages(torch.tensor([0.0, 1.0, 10.0, 30.0]), 2, eps=0.0)
    s = 0.5 ** 0.5
    torch.testing.assert_close(adv, torch.tensor([-s, s, -s, s]))


def test_dr_grpo_skips_std():
    # [1, 0, 0, 0] - 0.25 = [0.75, -0.25, -0.25, -0.25]; [2, 4] - 3 = [-1, 1]
    adv = group_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), 4, scale_rewards="none")
    torch.testing.assert_close(adv, torch.tensor([0.75, -0.25, -0.25, -0.25]))
    adv = group_advantages(torch.tensor([2.0, 4.0]), 2, scale_rewards="none")
    torch.testing.assert_close(adv, torch.tensor([-1.0, 1.0]))


@pytest.mark.parametrize("eps", [0.0, 1e-4])
@pytest.mark.parametrize("scale_rewards", ["group", "batch", "none"])
def test_identical_rewards_give_exact_zeros(eps, scale_rewards):
    # 0.1 * 3 / 3 != 0.1 in float32, so without the explicit zeroing this would be noise / eps.
    r = torch.tensor([0.1, 0.1, 0.1, 1.0, 0.0, 1.0, 0.7, 0.7, 0.7])
    adv = group_advantages(r, 3, eps=eps, scale_rewards=scale_rewards)
    assert not torch.isnan(adv).any()
    assert torch.equal(adv[:3], torch.zeros(3)) and torch.equal(adv[6:], torch.zeros(3))
    assert adv[3:6].abs().sum() > 0


def test_integer_and_bool_rewards_become_float():
    adv = group_advantages(torch.tensor([True, False]), 2, scale_rewards="none")
    torch.testing.assert_close(adv, torch.tensor([0.5, -0.5]))


def test_group_all_equal():
    r = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert group_all_equal(r, 3).tolist() == [True, False, True]


@pytest.mark.parametrize("fn", [group_advantages, group_all_equal])
def test_group_size_below_two_raises(fn):
    with pytest.raises(ValueError, match="G"):
        fn(torch.tensor([1.0, 0.0]), 1)


def test_length_not_divisible_raises():
    with pytest.raises(ValueError, match="divisible"):
        group_advantages(torch.tensor([1.0, 0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="flat"):
        group_advantages(torch.zeros(2, 2), 2)
