"""Smoke run of bench/context_window.py on the session's tiny model: four 2-step runs, and a table whose
token totals and windows are the ones in each run's log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from r1.train.telemetry import read_log

BENCH = Path(__file__).resolve().parents[2] / "bench" / "context_window.py"


def test_four_short_runs_give_a_table_and_a_plot(tiny_model_dir, tmp_path):
    out = tmp_path / "cw"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--model", str(tiny_model_dir), "--out", str(out), "--steps", "2",
         "--eval-every", "2", "--eval-problems", "2", "--eval-k", "1", "--short", "8", "--long", "40",
         "--threshold", "0.0", "--patience", "1", "--grow", "2", "--stage-at", "2",
         "--runs", "short", "long", "staged", "adaptive",
         "--set", "prompts_per_step=2", "--set", "group_size=2"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in proc.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| run")}
    assert list(rows) == ["short", "long", "staged", "adaptive"]
    for name, cells in rows.items():
        log = [row for row in read_log(out / name / "log.jsonl") if row["step"] > 0]
        tokens = sum(row["completion_len_mean"] * 4 for row in log)  # 2 prompts x 2 completions a step
        assert cells[4].strip() == f"{tokens:,.0f}", (name, cells)
        assert cells[0].strip() == f"{log[0]['max_new_tokens']} → {log[-1]['max_new_tokens']}"
        assert (out / name / "bench_wall.json").is_file()
    assert rows["short"][0].strip() == "8 → 8" and rows["long"][0].strip() == "40 → 40"
    assert rows["adaptive"][0].strip() == "8 → 16"  # an 8-token window truncates: it grew once
    assert rows["staged"][0].strip() == "8 → 40"
    assert (out / "context-window.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
