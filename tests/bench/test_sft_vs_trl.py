"""Smoke run of bench/sft_vs_trl.py: two steps of TRL, r1, r1 sorted, TRL sorted and TRL group_by_length
on 4 records a step; the output parses, ends with the ratio line, and every run but TRL's
group_by_length trained the same tokens at every step (that one the same records over the run). No speed is
asserted (speed is measured by hand: bench/RESULTS.md)."""

from __future__ import annotations

import re

from tests.bench import needs_trl, run_bench

pytestmark = needs_trl


def test_two_step_smoke_run_trains_the_same_tokens_and_prints_the_ratio_last(tmp_path):
    lines, data = run_bench("sft_vs_trl.py", ["--batch", "4", "--steps", "2", "--warmup", "0", "--threads", "1"],
                            tmp_path)
    assert re.fullmatch(r"ratio r1/TRL tokens/s: \d+\.\d\d", lines[-1]), lines[-1]
    assert float(lines[-1].split(":")[1]) > 0
    assert any(re.fullmatch(r"r1 sorted / TRL tokens/s .*: \d+\.\d\d", line) for line in lines)
    res = data["results"]
    trl, r1, ordered, trl_ordered, grouped = (res[k] for k in ("trl", "r1", "r1_sorted", "trl_sorted",
                                                                "trl_grouped"))
    # TRL counted its collated labels, r1 its examples: the same completion tokens at each step
    assert len(trl["trained_per_step"]) == 2 and all(n > 100 for n in trl["trained_per_step"])
    assert trl["trained_per_step"] == r1["trained_per_step"] == ordered["trained_per_step"] \
        == trl_ordered["trained_per_step"]
    assert trl["all_per_step"] == r1["all_per_step"] == ordered["all_per_step"] == trl_ordered["all_per_step"]
    assert sum(grouped["trained_per_step"]) == sum(r1["trained_per_step"])  # the same records, regrouped
    assert trl["padded_tokens_per_step"] == r1["padded_tokens_per_step"] > r1["all_tokens_per_step"]
    # sorted into 4 micro-batches of one record each: no padding at all
    assert ordered["padded_tokens_per_step"] == ordered["all_tokens_per_step"] \
        == trl_ordered["padded_tokens_per_step"]
    assert any(re.fullmatch(r"best against best by wall seconds: r1 .*: \d+\.\d\d", line) for line in lines)
    for r in (trl, r1, ordered, trl_ordered, grouped):
        line = next(line for line in lines if f"({r['framework']})" in line)
        assert float(re.search(r"([\d.]+) s/step median", line).group(1)) > 0
        assert float(re.search(r"([\d,]+) trained tok/s", line).group(1).replace(",", "")) > 0
        assert r["phases"]["forward"]["s"] > 0 and r["phases"]["backward"]["s"] > 0
