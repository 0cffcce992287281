"""The two reward-model objectives and the held-out metrics, as small pure functions.

pairwise (Bradley-Terry, as InstructGPT and TRL's RewardTrainer): P(chosen > rejected) =
sigmoid(r_chosen - r_rejected), loss -log sigmoid(r_chosen - r_rejected - margin).
pointwise: the score is a logit of P(good), loss binary cross-entropy against the label.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor, margin: torch.Tensor | float = 0.0
                       ) -> torch.Tensor:
    """Mean -log sigmoid(r_chosen - r_rejected - margin) over pairs; inputs [n].

    >>> round(float(bradley_terry_loss(torch.tensor([1.0]), torch.tensor([0.0]))), 4)  # -log sigmoid(1)
    0.3133
    """
    return -F.logsigmoid(chosen - rejected - margin).mean()  # [n] -> scalar


def pointwise_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of logits [n] against labels [n] (1.0 good, 0.0 bad)."""
    return F.binary_cross_entropy_with_logits(logits, labels)


def token_l2(per_token: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared per-token score over real tokens; inputs [b, T] (scores 0 at padding).

    >>> round(float(token_l2(torch.tensor([[1.0, 3.0], [2.0, 0.0]]), torch.tensor([[1, 1], [1, 0]]))), 4)
    4.6667
    """
    return (per_token ** 2).sum() / mask.sum()


def objective_loss(objective: str, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss of a batch: scores [n, 2] (chosen, rejected) with margins [n], or [n, 1] with labels [n]."""
    if objective == "pairwise":
        return bradley_terry_loss(scores[:, 0], scores[:, 1], targets)
    return pointwise_loss(scores[:, 0], targets)


def auroc(scores: list[float], labels: list[float]) -> float:
    """Area under the ROC curve: the chance a random good example outscores a random bad one, ties
    counting half (the Mann-Whitney rank formula with average ranks). NaN without both classes.

    >>> auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> auroc([1.0, 1.0], [0, 1])
    0.5
    """
    ranked = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(ranked):  # tied scores share the mean of their ranks (1-based)
        j = i
        while j + 1 < len(ranked) and scores[ranked[j + 1]] == scores[ranked[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[ranked[k]] = (i + j) / 2 + 1
        i = j + 1
    good = sum(1 for y in labels if y)
    bad = len(labels) - good
    if not good or not bad:
        return float("nan")
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return (rank_sum - good * (good + 1) / 2) / (good * bad)


def heldout_metrics(objective: str, scores: torch.Tensor, targets: torch.Tensor,
                    tags: list[str | None]) -> dict[str, float]:
    """Pairwise: pair accuracy (chosen strictly above rejected) and mean margin; pointwise: accuracy
    (logit > 0 means good), AUROC, and accuracy on the records whose harm is only in the reasoning."""
    loss = float(objective_loss(objective, scores, targets))
    if objective == "pairwise":
        diff = scores[:, 0] - scores[:, 1]  # [n]
        return {"pair_accuracy": float((diff > 0).float().mean()), "margin_mean": float(diff.mean()),
                "loss": loss, "n": len(diff)}
    logits = scores[:, 0]  # [n]
    right = ((logits > 0).float() == targets).float()  # [n]
    out = {"accuracy": float(right.mean()), "auroc": auroc(logits.tolist(), targets.tolist()),
           "loss": loss, "n": len(right)}
    hidden = [i for i, tag in enumerate(tags) if tag == "reasoning"]
    if hidden:
        out["accuracy_harm_in_reasoning"] = float(right[hidden].mean())
        out["n_harm_in_reasoning"] = len(hidden)
    return out
