"""Smoke run of bench/grpo_vs_trl.py: two steps of TRL and of r1 on a toy batch; the output parses and
ends with the ratio line. No speed is asserted (speed is measured by hand: bench/RESULTS.md).
--no-compile: compiling would take minutes here; r1's compiled path is tested in
tests/models/test_compile.py."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "grpo_vs_trl.py"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                                reason="TRL is not installed (pip install -e '.[dev]' or '.[bench]')")


def test_two_step_smoke_run_prints_every_figure_and_the_ratio_last(tmp_path):
    out_json = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--prompts", "2", "--group", "2", "--new-tokens", "8", "--steps", "2",
         "--warmup", "0", "--part-reps", "1", "--threads", "1", "--no-compile",
         "--workdir", str(tmp_path / "work"),
         "--json", str(out_json)],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio TRL/r1: \d+\.\d\d", lines[-1]), lines[-1]
    assert float(lines[-1].split(":")[1]) > 0
    text = proc.stdout
    for label in ("TRL GRPOTrainer", "r1 grpo_step"):
        line = next(line for line in lines if line.startswith(label))
        assert float(re.search(r"([\d.]+) s/step median", line).group(1)) > 0
        # eos is unreachable, so every completion is exactly --new-tokens long: 2 x 2 x 8 tokens
        assert int(re.search(r"(\d+) completion tokens/step", line).group(1)) >= 30
    assert re.search(r"r1 step / sum of parts alone: \d+\.\d\d", text)
    assert re.search(r"r1 rollout tokens/s / plain generate tokens/s: \d+\.\d\d", text)
    data = json.loads(out_json.read_text())
    assert data["results"]["trl"]["tokens_per_step"] == 32  # TRL keeps every sampled token
    assert len(data["results"]["r1"]["step_s"]) == 2
    parts = data["results"]["parts"]["parts"]
    assert set(parts) == {"generate", "reward", "reference", "fwd_bwd", "optimizer"}
    assert all(v > 0 for v in parts.values())
    assert data["lines"][-1] == lines[-1]
