"""The paper's findings, checked against a run of the paper in miniature (`r1 demo`).

Each finding names the stages it compares (by their names in recipes/tiny/paper.yaml), computes its
number from those stages' evaluations (the rows of `r1.results.model_rows`) and says whether the
claim holds here. A stage that is missing from the run leaves its finding out, never a guessed value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any, Callable

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Finding:
    claim: str
    measured: str
    holds: bool


def _rows(rows: Rows, stage: str, temperature: str) -> Rows:
    return [r for r in rows if r["stage"] == stage and r["T"] == temperature]


def _mean(rows: Rows, key: str) -> float:
    return mean(r.get(key) or 0.0 for r in rows)


def _compare(rows: Rows, t: str, before: str, after: str, *keys: str) -> list[tuple[float, float]] | None:
    """For each key, (mean over the families of stage `before`, of stage `after`) at temperature t;
    None when either stage was not evaluated."""
    a, b = _rows(rows, before, t), _rows(rows, after, t)
    return [(_mean(a, key), _mean(b, key)) for key in keys] if a and b else None


def _family(rows: Rows, family: str) -> dict[str, Any]:
    return next(r for r in rows if r["family"] == family)


def r1_zero(rows: Rows, t: str, family: str = "arithmetic") -> Finding | None:
    base, zero = _rows(rows, "base", t), _rows(rows, "zero", t)
    if not (base and zero):
        return None
    b, z = _family(base, family), _family(zero, family)
    return Finding(
        "R1-Zero learns to reason from rule rewards alone, and its responses grow",
        f"{family} pass@1 {b['pass@1']:.1%} → {z['pass@1']:.1%}, mean tokens {b['mean_tokens']:.0f} → "
        f"{z['mean_tokens']:.0f} (base → R1-Zero)",
        z["pass@1"] > b["pass@1"] + 0.1 and z["mean_tokens"] > b["mean_tokens"])


def language_reward(rows: Rows, t: str) -> Finding | None:
    compared = _compare(rows, t, "zero", "zero_language", "mixed_language", "pass@1")
    if compared is None:
        return None
    mixed, acc = compared
    return Finding(
        "The language-consistency reward removes mixed-language reasoning at a small accuracy cost",
        f"mixed-language samples {mixed[0]:.1%} → {mixed[1]:.1%}, mean pass@1 {acc[0]:.1%} → {acc[1]:.1%} "
        "(R1-Zero without → with the reward)",
        mixed[1] < mixed[0] / 2 and acc[1] > acc[0] - 0.05)


def majority_vote(rows: Rows, t: str) -> Finding | None:
    scored = [r for r in rows if r["T"] == t and r.get(f"cons@{r['k']}") is not None and r["pass@1"] > 0.05]
    if not scored:
        return None
    above = [r for r in scored if r[f"cons@{r['k']}"] > r["pass@1"]]
    gain = mean(r[f"cons@{r['k']}"] - r["pass@1"] for r in scored)
    k = scored[0]["k"]
    return Finding(
        f"Majority voting (cons@{k}) scores above pass@1",
        f"above in {len(above)} of {len(scored)} stage × family rows with pass@1 > 5%, by "
        f"{100 * gain:+.1f} points on average",
        len(above) > len(scored) / 2 and gain > 0)


def readable_format(rows: Rows, t: str) -> Finding | None:
    compared = _compare(rows, t, "zero", "cold_start", "format_readable", "mixed_language")
    if compared is None:
        return None
    shares, mixed = compared
    return Finding(
        "The cold start gives R1 a readable format (reasoning, then a summary) in one language",
        f"readable format {shares[0]:.1%} → {shares[1]:.1%}, mixed language {mixed[0]:.1%} → {mixed[1]:.1%} "
        "(R1-Zero → cold start)",
        shares[1] > 0.9 and mixed[1] <= mixed[0])


def distillation(rows: Rows, t: str, out: Path | None = None) -> Finding | None:
    compared = _compare(rows, t, "student_distill", "student_zero", "pass@1")
    if compared is None:
        return None
    acc, = compared
    compute = ""
    if out is not None:
        from r1.train.checkpoint import final_info

        flops = [final_info(out / name / "final").get("flops") for name in ("student_distill", "student_zero")]
        if None not in flops:
            compute = f", at {flops[0]:.2g} and {flops[1]:.2g} training FLOPs"
    return Finding(
        "Distillation beats RL on a small model",
        f"student mean pass@1: distilled {acc[0]:.1%}, R1-Zero RL {acc[1]:.1%}{compute}",
        acc[0] > acc[1])


CHECKS: list[Callable[..., Finding | None]] = [r1_zero, language_reward, majority_vote, readable_format]


def findings(rows: Rows, t: str = "0.6", out: Path | None = None) -> list[Finding]:
    """Every finding the run's rows can speak to, at sampling temperature `t`."""
    found = [check(rows, t) for check in CHECKS] + [distillation(rows, t, out)]
    return [f for f in found if f is not None]


def findings_table(found: list[Finding]) -> list[str]:
    lines = ["| the paper's finding | measured here | holds here |", "|---|---|---|"]
    lines += [f"| {f.claim} | {f.measured} | {'yes' if f.holds else 'no'} |" for f in found]
    return lines
