"""r1.paper: each of the paper's findings is computed from evaluation rows and can come out either way."""

import json

from r1.paper import distillation, findings, findings_table, language_reward, majority_vote, r1_zero


def row(stage, family, pass1, cons=None, tokens=20.0, mixed=0.0, readable=0.0, t="0.6", k=16):
    return {"stage": stage, "T": t, "family": family, "k": k, "n": 50, "pass@1": pass1, f"cons@{k}": cons,
            "mean_tokens": tokens, "mixed_language": mixed, "format_readable": readable}


def test_r1_zero_holds_only_when_accuracy_and_length_both_rise():
    base = row("base", "arithmetic", 0.15, tokens=12)
    assert r1_zero([base, row("zero", "arithmetic", 0.9, tokens=45)], "0.6").holds
    assert not r1_zero([base, row("zero", "arithmetic", 0.9, tokens=10)], "0.6").holds  # shorter
    assert not r1_zero([base, row("zero", "arithmetic", 0.2, tokens=45)], "0.6").holds  # no real gain
    assert r1_zero([base], "0.6") is None  # no R1-Zero stage: nothing said
    assert "15.0% → 90.0%" in r1_zero([base, row("zero", "arithmetic", 0.9, tokens=45)], "0.6").measured


def test_language_reward_must_remove_mixing_at_a_small_cost():
    plain = [row("zero", "arithmetic", 0.9, mixed=0.12), row("zero", "linear", 0.3, mixed=0.14)]
    cheap = [row("zero_language", "arithmetic", 0.89, mixed=0.01), row("zero_language", "linear", 0.3, mixed=0.0)]
    costly = [row("zero_language", f, 0.1, mixed=0.0) for f in ("arithmetic", "linear")]
    still_mixed = [row("zero_language", f, 0.9, mixed=0.1) for f in ("arithmetic", "linear")]
    assert language_reward(plain + cheap, "0.6").holds
    assert not language_reward(plain + costly, "0.6").holds
    assert not language_reward(plain + still_mixed, "0.6").holds
    assert "13.0% → 0.5%" in language_reward(plain + cheap, "0.6").measured


def test_majority_vote_counts_rows_and_ignores_near_zero_ones():
    rows = [row("a", "x", 0.5, cons=0.7), row("b", "x", 0.5, cons=0.6), row("c", "x", 0.5, cons=0.4),
            row("d", "x", 0.01, cons=0.0)]
    found = majority_vote(rows, "0.6")
    assert found.holds and "2 of 3" in found.measured
    assert not majority_vote([row("a", "x", 0.5, cons=0.3)], "0.6").holds
    assert majority_vote([row("a", "x", 0.5, cons=0.7, t="1")], "0.6") is None  # other temperature


def test_distillation_compares_the_two_students_and_reports_their_flops(tmp_path):
    rows = [row("student_distill", "arithmetic", 0.6), row("student_zero", "arithmetic", 0.3)]
    for name, flops in (("student_distill", 2e12), ("student_zero", 2.1e12)):
        (tmp_path / name / "final").mkdir(parents=True)
        (tmp_path / name / "final" / "r1_final.json").write_text(json.dumps({"flops": flops}))
    found = distillation(rows, "0.6", tmp_path)
    assert found.holds and "60.0%" in found.measured and "2e+12" in found.measured
    rows[1]["pass@1"] = 0.7
    assert not distillation(rows, "0.6", tmp_path).holds


def test_findings_table_says_yes_or_no_per_claim():
    rows = [row("base", "arithmetic", 0.1, tokens=10), row("zero", "arithmetic", 0.9, cons=0.95, tokens=40)]
    lines = findings_table(findings(rows))
    assert len(lines) == 2 + 2 and lines[2].endswith("| yes |")  # R1-Zero and majority vote
