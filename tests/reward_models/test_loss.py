"""The reward-model losses and held-out metrics against values computed by hand."""

import math

import pytest
import torch

from r1.reward_models.loss import auroc, bradley_terry_loss, heldout_metrics, objective_loss, pointwise_loss


def test_bradley_terry_is_minus_log_sigmoid_of_the_score_gap_minus_the_margin():
    chosen, rejected = torch.tensor([2.0, 0.0, -1.0]), torch.tensor([0.0, 1.0, -1.0])
    # gaps 2, -1, 0: -log(1/(1+e^-2)) = 0.126928, -log(1/(1+e)) = 1.313262, log 2 = 0.693147
    assert float(bradley_terry_loss(chosen, rejected)) == pytest.approx((0.126928 + 1.313262 + 0.693147) / 3,
                                                                        abs=1e-6)
    # a margin of 1 moves every gap down by 1: gaps 1, -2, -1
    expected = (math.log1p(math.exp(-1)) + math.log1p(math.exp(2)) + math.log1p(math.exp(1))) / 3
    assert float(bradley_terry_loss(chosen, rejected, 1.0)) == pytest.approx(expected, abs=1e-6)
    per_pair = torch.tensor([0.0, 0.0, 2.0])  # a record's own margin applies to its pair only
    expected = (math.log1p(math.exp(-2)) + math.log1p(math.exp(1)) + math.log1p(math.exp(2))) / 3
    assert float(bradley_terry_loss(chosen, rejected, per_pair)) == pytest.approx(expected, abs=1e-6)


def test_pointwise_is_binary_cross_entropy_of_the_logit():
    logits, labels = torch.tensor([0.0, 2.0, -3.0]), torch.tensor([1.0, 0.0, 0.0])
    # -log sigmoid(0) = log 2; -log(1 - sigmoid(2)) = log(1 + e^2); -log(1 - sigmoid(-3)) = log(1 + e^-3)
    expected = (math.log(2) + math.log1p(math.exp(2)) + math.log1p(math.exp(-3))) / 3
    assert float(pointwise_loss(logits, labels)) == pytest.approx(expected, abs=1e-6)
    scores = torch.stack([logits], dim=1)  # [n, 1]
    assert float(objective_loss("pointwise", scores, labels)) == pytest.approx(expected, abs=1e-6)


def test_auroc_counts_ordered_good_bad_pairs_with_ties_as_half():
    # good scores 0.35, 0.8 against bad 0.1, 0.4: pairs ordered right 1 + 2 = 3 of 4
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # a tie between a good and a bad counts half: (1 + 0.5 + 1 + 1) / 4
    assert auroc([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1]) == 0.875
    assert auroc([3.0, 2.0, 1.0], [1, 1, 0]) == 1.0 and auroc([3.0, 2.0, 1.0], [0, 0, 1]) == 0.0
    assert math.isnan(auroc([1.0, 2.0], [1, 1]))


def test_heldout_metrics_pairwise_and_pointwise_with_the_reasoning_subset():
    pairs = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [1.0, 1.0]])  # gaps 1, -2, 2, 0 (a tie is wrong)
    m = heldout_metrics("pairwise", pairs, torch.zeros(4), [None] * 4)
    assert m["pair_accuracy"] == 0.5 and m["margin_mean"] == pytest.approx(0.25) and m["n"] == 4
    logits = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])  # right, wrong, wrong, right
    m = heldout_metrics("pointwise", logits, labels, [None, None, "reasoning", "reasoning"])
    assert m["accuracy"] == 0.5 and m["auroc"] == 0.75
    assert m["accuracy_harm_in_reasoning"] == 0.5 and m["n_harm_in_reasoning"] == 2
    assert "accuracy_harm_in_reasoning" not in heldout_metrics("pointwise", logits, labels, [None] * 4)


def test_docstring_examples_run():
    import doctest

    import r1.reward_models.loss
    import r1.reward_models.render

    for module in (r1.reward_models.loss, r1.reward_models.render):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
