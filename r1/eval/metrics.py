"""The R1 paper's evaluation metrics over k samples per problem: pass@k and cons@k (majority vote).

pass@k is the unbiased estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on
Code": the chance that at least one of k samples, drawn without replacement from the n generated, is
correct. cons@k votes among the k answers, grouping answers the task's verifier treats alike (mathematically
equivalent, not string-equal), and scores the winning group; tied groups share the score, so the
result never depends on the order of the samples.
"""

from __future__ import annotations

import itertools
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
    """Indices of `answers` grouped by equivalence; None is no vote. Groups are listed by first member.

    Groups are the connected components of `equal` over the distinct answers, so they do not depend on
    the order of the samples even where `equal` is not transitive (math equivalence need not be).

    >>> group_answers(["0.5", None, "1/3", r"\\frac{1}{2}", "2"])
    [[0, 3], [2], [4]]
    """
    equal = equal or _default_equal()
    distinct = list(dict.fromkeys(a for a in answers if a is not None))
    parent = list(range(len(distinct)))  # union-find over distinct answers

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(distinct)), 2):
        if root(i) != root(j) and equal(distinct[i], distinct[j]):
            parent[root(j)] = root(i)
    where = {answer: root(i) for i, answer in enumerate(distinct)}
    groups: dict[int, list[int]] = {}
    for index, answer in enumerate(answers):
        if answer is not None:
            groups.setdefault(where[answer], []).append(index)
    return list(groups.values())


def cons_at_k(answers: Sequence[str | None], correct: Sequence[bool], equal: Equal | None = None) -> float:
    """Majority vote: the share correct in the largest group of equivalent answers (0.0 with no votes).

    answers: each sample's vote (None: no answer); correct: each sample's verdict. Votes that the task's
    verifier treats alike must compare equal (see `r1.eval.scoring.vote_key`), so a group is all right
    or all wrong and this is 1.0 or 0.0. Largest groups that tie count equally (the expected score of a
    random tie-break), so no result depends on the order of the samples.

    >>> cons_at_k(["12", "13", "12.0", None, "13"], [True, False, True, False, False])
    0.5
    >>> cons_at_k(["12", "13", "12.0", None], [True, False, True, False])
    1.0
    """
    if len(answers) != len(correct):
        raise ValueError(f"{len(answers)} answers but {len(correct)} verdicts")
    groups = group_answers(answers, equal)
    if not groups:
        return 0.0
    most = max(len(g) for g in groups)
    winners = [g for g in groups if len(g) == most]
    return sum(sum(bool(correct[i]) for i in g) / most for g in winners) / len(winners)
