"""Smoke run of bench/reward_model_vs_trl.py: three steps of TRL's RewardTrainer and of r1's train-rm
(lean forward, and lean: false) on a toy model; TRL's token ids of a pair are checked equal to r1's
inside the worker, the output parses and ends with the ratio lines. No speed is asserted (measured by
hand: bench/RESULTS.md)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "reward_model_vs_trl.py"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                                reason="TRL is not installed (pip install -e '.[dev]' or '.[bench]')")


def test_three_step_smoke_run_reports_both_frameworks_and_the_ratio(tiny_model_dir, tmp_path):
    out_json = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--model", str(tiny_model_dir), "--steps", "3", "--batch", "4",
         "--n-pairs", "20", "--threads", "1", "--workdir", str(tmp_path / "work"), "--json", str(out_json)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio TRL/r1 step time: \d+\.\d\d", lines[-2]), lines[-2]
    assert re.fullmatch(r"ratio r1 own forward/lean step time: \d+\.\d\d", lines[-1]), lines[-1]
    for label in ("trl ", "r1 train-rm:", "r1 train-rm (lean: false):"):
        line = next(line for line in lines if line.startswith(label))
        accuracy = float(re.search(r"held-out pair accuracy ([\d.]+)", line).group(1))
        assert 0 <= accuracy <= 1 and float(re.search(r"([\d.]+) pairs/s", line).group(1)) > 0
    data = json.loads(out_json.read_text())
    assert [len(data["results"][k]["step_s"]) for k in ("trl", "r1", "r1-own")] == [3, 3, 3]
    # the bench's scorer and r1's own eval.json agree on r1's model (4 held-out pairs)
    assert data["results"]["r1"]["accuracy"] == data["results"]["r1"]["own_eval"]
