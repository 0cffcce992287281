"""The R1 paper's evaluation metrics over k samples per problem: pass@k and cons@k (majority vote).

pass@k is the unbiased estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on
Code": the chance that at least one of k samples, drawn without replacement from the n generated, is
correct. cons@k votes among the k answers, grouping answers that are mathematically equivalent (not
string-equal), and scores the winning group; ties go to the group seen first, so it is deterministic.
"""

from __future__ import annotations

from typing import Callable, Sequence

Equal = Callable[[str, str], bool]


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), computed as a product so it neither overflows nor cancels.

    n: samples generated; c: how many are correct; k: the budget (k <= n).

    >>> pass_at_k(10, 0, 5), pass_at_k(10, 10, 1), pass_at_k(4, 1, 1), pass_at_k(4, 1, 2)
    (0.0, 1.0, 0.25, 0.5)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:  # every k-subset holds a correct sample
        return 1.0
    # C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)  (Chen et al., figure 3)
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def _default_equal() -> Equal:
    from r1.rewards.math import same_answer

    return same_answer


def group_answers(answers: Sequence[str | None], equal: Equal | None = None) -> list[list[int]]:
    """Indices of `answers` grouped by equivalence, groups in first-seen order; None is no vote.

    Each answer joins the first group whose first member it equals.

    >>> group_answers(["0.5", None, "1/3", r"\\frac{1}{2}", "2"])
    [[0, 3], [2], [4]]
    """
    equal = equal or _default_equal()
    groups: list[list[int]] = []
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        for group in groups:
            if equal(answers[group[0]], answer):  # type: ignore[arg-type]  # members are never None
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


def majority_vote(answers: Sequence[str | None], equal: Equal | None = None) -> int | None:
    """Index of the first answer of the largest group (the earliest group wins a tie); None if no votes.

    >>> majority_vote(["3", "4", "4.0", "3"])  # a tie: "3" was seen first
    0
    """
    groups = group_answers(answers, equal)
    if not groups:
        return None
    return max(groups, key=len)[0]  # max keeps the first of equal maxima


def cons_at_k(answers: Sequence[str | None], correct: Sequence[bool], equal: Equal | None = None) -> float:
    """1.0 when the majority answer among the samples is correct, else 0.0 (also when none answered).

    answers: the extracted answer of each sample (None: no answer); correct: each sample's verdict.

    >>> cons_at_k(["12", "13", "12.0", None, "13"], [True, False, True, False, False])
    1.0
    """
    if len(answers) != len(correct):
        raise ValueError(f"{len(answers)} answers but {len(correct)} verdicts")
    winner = majority_vote(answers, equal)
    return 0.0 if winner is None else float(bool(correct[winner]))
