"""pass@k against brute-force enumeration; cons@k voting by equivalence with deterministic ties."""

import itertools
from fractions import Fraction

import pytest

from r1.eval.metrics import cons_at_k, group_answers, pass_at_k


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
    assert cons_at_k(answers, correct) == 1.0


def test_a_tie_counts_each_tied_group_equally_whatever_the_order():
    # before: the group seen first won a tie, so reordering the samples flipped cons@k between 0 and 1
    assert cons_at_k(["4", "3", "3", "4"], [False, True, True, False]) == 0.5
    assert cons_at_k(["3", "4", "4", "3"], [True, False, False, True]) == 0.5
    assert cons_at_k(["3", "4", "4"], [True, False, False]) == 0.0


def test_groups_do_not_depend_on_sample_order():
    # a non-transitive equality: "a"~"b" and "b"~"c", but not "a"~"c"; chained, they are one group
    near = {frozenset("ab"), frozenset("bc")}
    equal = lambda x, y: x == y or frozenset((x, y)) in near  # noqa: E731
    for answers in itertools.permutations(["a", "b", "c", "d"]):
        groups = group_answers(list(answers), equal)
        assert sorted(sorted(answers[i] for i in g) for g in groups) == [["a", "b", "c"], ["d"]]


def test_no_answers_score_zero():
    assert group_answers([None, None]) == []
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


def _tiny_cons(record: dict, answers: list[str]) -> float:
    from r1.eval.report import summarize
    from r1.tasks import verify

    rows = [{"id": record["id"], "answer": a, "correct": verify(record, a), "tokens": 1} for a in answers]
    return summarize([record], rows, "tiny", len(rows))[f"cons@{len(rows)}"]


COUNTDOWN = {"id": "c", "task": "countdown", "numbers": [2, 3, 4], "target": 10, "answer": "2*3+4"}


@pytest.mark.parametrize("answers, expected", [
    (["5+5", "2*3+4", "4+3*2"], 1.0),  # two valid expressions outvote one that reuses a number
    (["2*3+4", "5+5", "5+5"], 0.0),  # the value alone is right, the repeated expression is not
])
def test_countdown_votes_by_what_the_verifier_checks(answers, expected):
    # before: votes grouped by value and the first member decided, so these scored 0 and 1
    for order in itertools.permutations(answers):
        assert _tiny_cons(COUNTDOWN, list(order)) == expected


def test_answer_forms_the_verifier_accepts_vote_together():
    record = {"id": "a", "task": "arithmetic", "answer": "12"}
    # before: "=12" and "1 2" were each their own group, so the two "13"s won
    assert _tiny_cons(record, ["=12", "1 2", "13", "13", "12"]) == 1.0
    linear = {"id": "l", "task": "linear", "answer": "4"}
    assert _tiny_cons(linear, ["x=4", "x = 4", "5", "5"]) == 0.5  # a 2-2 tie: half credit
