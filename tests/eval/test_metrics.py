"""pass@k against brute-force enumeration; cons@k voting by equivalence with deterministic ties."""

import itertools
from fractions import Fraction

import pytest

from r1.eval.metrics import cons_at_k, group_answers, majority_vote, pass_at_k


def brute_force_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Share of all k-subsets of n samples (the first c correct) that hold a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(i < c for i in s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_matches_enumeration(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(brute_force_pass_at_k(n, c, k)), abs=1e-12)


def test_pass_at_1_is_the_share_correct():
    assert pass_at_k(64, 17, 1) == pytest.approx(17 / 64)


def test_pass_at_k_is_stable_for_large_n():
    # float(comb(2000, 1000)) overflows; the product form stays within floats
    value = pass_at_k(2000, 3, 1000)
    exact = 1 - Fraction(1) * 1000 * 999 * 998 / (2000 * 1999 * 1998)
    assert value == pytest.approx(float(exact), rel=1e-12)
    assert 0.0 <= pass_at_k(5000, 1, 10) <= 1.0


@pytest.mark.parametrize("n, c, k", [(3, 4, 1), (3, 1, 4), (3, 1, 0), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_groups_by_equivalence_not_strings():
    answers = [r"\frac{1}{2}", "0.5", "1/2", r"\dfrac12", "2", None, "0.50"]
    assert group_answers(answers) == [[0, 1, 2, 3, 6], [4]]


def test_equivalent_minority_strings_outvote_a_repeated_string():
    # "7" appears twice as a string, but 1/2 written three ways is the real majority
    answers = ["7", "7", "0.5", r"\frac{1}{2}", "1/2"]
    correct = [False, False, True, True, True]
    assert majority_vote(answers) == 2
    assert cons_at_k(answers, correct) == 1.0


def test_tie_goes_to_the_group_seen_first():
    assert majority_vote(["4", "3", "3.0", "4"]) == 0
    assert majority_vote(["3", "4", "4", "3"]) == 0
    assert cons_at_k(["4", "3", "3", "4"], [False, True, True, False]) == 0.0
    assert cons_at_k(["3", "4", "4", "3"], [True, False, False, True]) == 1.0


def test_no_answers_score_zero():
    assert majority_vote([None, None]) is None
    assert cons_at_k([None, None], [False, False]) == 0.0
    assert cons_at_k([None, "5"], [False, True]) == 1.0  # a missing answer is no vote


def test_custom_equality():
    answers = ["Paris", "paris", "Lyon"]
    assert group_answers(answers, equal=lambda a, b: a.lower() == b.lower()) == [[0, 1], [2]]


def test_lengths_must_match():
    with pytest.raises(ValueError):
        cons_at_k(["1"], [True, False])


def test_docstring_examples():
    import doctest

    import r1.eval.metrics as metrics

    result = doctest.testmod(metrics)
    assert result.attempted > 0 and result.failed == 0
