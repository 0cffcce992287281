"""Smoke run of bench/sft_vs_trl.py: two steps of TRL, r1 and r1 sorted on 4 records a step; the output
parses, ends with the ratio line, and every run trained the same tokens at every step. No speed is
asserted (speed is measured by hand: bench/RESULTS.md)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sft_vs_trl.py"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                                reason="TRL is not installed (pip install -e '.[dev]' or '.[bench]')")


def test_two_step_smoke_run_trains_the_same_tokens_and_prints_the_ratio_last(tmp_path):
    out_json = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--batch", "4", "--steps", "2", "--warmup", "0", "--threads", "1",
         "--workdir", str(tmp_path / "work"), "--json", str(out_json)],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio r1/TRL tokens/s: \d+\.\d\d", lines[-1]), lines[-1]
    assert float(lines[-1].split(":")[1]) > 0
    assert re.search(r"r1 sorted / TRL tokens/s .*: \d+\.\d\d", proc.stdout)
    res = json.loads(out_json.read_text())["results"]
    trl, r1, ordered = res["trl"], res["r1"], res["r1_sorted"]
    # TRL counted its collated labels, r1 its examples: the same completion tokens at each step
    assert len(trl["trained_per_step"]) == 2 and all(n > 100 for n in trl["trained_per_step"])
    assert trl["trained_per_step"] == r1["trained_per_step"] == ordered["trained_per_step"]
    assert trl["all_per_step"] == r1["all_per_step"] == ordered["all_per_step"]
    assert trl["padded_tokens_per_step"] == r1["padded_tokens_per_step"] > r1["all_tokens_per_step"]
    # sorted into 4 micro-batches of one record each: no padding at all
    assert ordered["padded_tokens_per_step"] == ordered["all_tokens_per_step"]
    for r in (trl, r1, ordered):
        line = next(line for line in lines if f"({r['framework']})" in line)
        assert float(re.search(r"([\d.]+) s/step median", line).group(1)) > 0
        assert float(re.search(r"([\d,]+) trained tok/s", line).group(1).replace(",", "")) > 0
        assert r["phases"]["forward"]["s"] > 0 and r["phases"]["backward"]["s"] > 0
