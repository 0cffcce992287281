from fractions import Fraction
from itertools import combinations

import pytest

from r1.eval.metrics import pass_at_k
from r1.eval.report import markdown_table, summarize, summary_rows, write_summary


def brute_pass_at_k(n, c, k):
    """Share of all k-subsets of n samples (c of them right) that hold at least one right sample."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return Fraction(sum(any(samples[i] for i in s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", range(1, 8))
def test_pass_at_k_matches_enumeration(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(brute_pass_at_k(n, c, k)), abs=1e-12), (n, c, k)


def test_pass_at_1_is_the_share_right():
    assert pass_at_k(16, 4, 1) == pytest.approx(0.25)
    assert pass_at_k(10, 0, 5) == 0.0 and pass_at_k(10, 10, 1) == 1.0


def _rows(correct_by_id):
    return [{"id": i, "sample": j, "answer": str(j), "correct": ok, "tokens": 10 + j, "finished": j != 0}
            for i, oks in correct_by_id.items() for j, ok in enumerate(oks)]


def test_summarize_overall_and_by_family(tmp_path):
    records = [{"id": "a", "task": "arithmetic"}, {"id": "b", "task": "arithmetic"}, {"id": "c", "task": "linear"}]
    rows = _rows({"a": [True, False, False, False], "b": [False] * 4, "c": [True, True, False, True]})
    s = summarize(records, rows, "tiny", 4)
    assert s["n"] == 3 and s["k"] == 4 and s["task"] == "tiny"
    assert s["pass@1"] == pytest.approx(4 / 12)
    assert s["pass@4"] == pytest.approx(2 / 3)
    assert s["mean_tokens"] == pytest.approx(11.5)
    assert s["truncated"] == pytest.approx(0.25)
    assert s["by_family"]["arithmetic"]["pass@1"] == pytest.approx(1 / 8)
    assert s["by_family"]["arithmetic"]["pass@4"] == pytest.approx(1 / 2)
    assert s["by_family"]["linear"]["pass@1"] == pytest.approx(3 / 4) and s["by_family"]["linear"]["n"] == 1
    table = markdown_table(summary_rows(s), 4)
    lines = table.strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:3] == ["set", "problems", "pass@1"] and "pass@4" in header
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["arithmetic", "linear", "all"]
    cells = dict(zip(header, (cell.strip() for cell in lines[-1].strip("|").split("|"))))
    assert (cells["problems"], cells["pass@1"], cells["pass@4"], cells["mean tokens"]) == (
        "3", "33.3%", "66.7%", "11.5")
    write_summary(tmp_path, s, "title")
    assert (tmp_path / "summary.md").read_text().startswith("# title\n")


def test_ids_compare_as_strings():
    """JSONL ids may be ints in one file and strings in another; rows still find their record."""
    s = summarize([{"id": 7}], [{"id": "7", "sample": 0, "answer": "1", "correct": True, "tokens": 3}], "math", 1)
    assert s["pass@1"] == 1.0 and "by_family" not in s


def test_format_and_mixed_language_shares():
    from r1.eval.scoring import style

    completions = ["<think>7+5=12 carry 1</think><answer>12</answer>",  # R1-Zero format, English
                   "<think>7加5得12 carry 1</think><summary>so the answer is \\boxed{12}.</summary>",  # readable, mixed
                   "12"]  # neither
    rows = [{"id": str(i), "answer": "12", "correct": True, "tokens": 3, **style(c)} for i, c in enumerate(completions)]
    records = [{"id": str(i), "problem": "p", "answer": "12"} for i in range(3)]
    summary = summarize(records, rows, "math", 1)
    assert summary["format_r1_zero"] == pytest.approx(1 / 3) and summary["format_readable"] == pytest.approx(1 / 3)
    assert summary["mixed_language"] == pytest.approx(1 / 3)
    cells = markdown_table({"all": summary}, 1).splitlines()[2].split(" | ")
    assert cells[-2:] == ["66.7%", "33.3% |"]


def test_with_one_sample_the_table_does_not_repeat_pass_at_1():
    records = [{"id": "a", "problem": "p", "answer": "1"}]
    summary = summarize(records, [{"id": "a", "answer": "1", "correct": True, "tokens": 2}], "math", 1)
    head, rule, row = markdown_table({"all": summary}, 1).splitlines()
    assert head.count("pass@1") == 1 and len(head.split("|")) == len(rule.split("|")) == len(row.split("|"))
