"""Smoke run of bench/zero_time_to_accuracy.py on the session's tiny pretrained model: two steps of TRL and
of r1 (the r1-best row, so --best reaches the worker) with an eval after each, and the pieces that keep the
comparison fair: TRL's reward sees the tags, a missing model fails in one line. No speed is asserted (speed
is measured by hand: bench/RESULTS.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.bench import BENCH_DIR, needs_trl

pytestmark = needs_trl


def run_script(args: list[str], timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH_DIR / "zero_time_to_accuracy.py"), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_two_steps_each_give_curves_with_evals_off_the_clock(tiny_model_dir, tmp_path):
    # target 0: reached at the eval before training; --no-stop-at-target trains on to --max-steps
    proc = run_script(["--model", str(tiny_model_dir), "--seeds", "1", "--rows", "trl", "r1-best",
                       "--best", "filter_equal_groups=true", "--prompts", "2", "--group", "2", "--new-tokens", "8",
                       "--eval-problems", "4", "--eval-every", "1", "--max-steps", "2", "--target", "0",
                       "--no-stop-at-target", "--out", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio TRL/r1-best time to 0%: \d+\.\d\d", lines[-1]), lines[-1]
    data = json.loads((tmp_path / "out" / "zero_time_to_accuracy.json").read_text())
    assert [r["row"] for r in data["runs"]] == ["trl", "r1-best"]
    assert "filter_equal_groups=True" in data["runs"][1]["label"]
    for run in data["runs"]:
        points = run["points"]
        assert [p["step"] for p in points] == [0, 1, 2]
        assert all(0.0 <= p["pass@1"] <= 1.0 and p["mean_tokens"] > 0 for p in points)
        assert all(a["train_s"] < b["train_s"] for a, b in zip(points, points[1:]))
        assert len(run["step_ends"]) == 2 and run["step_ends"][-1] == points[-1]["train_s"]
        for a, b in zip(points, points[1:]):  # the eval at a ran on the process's clock, not on training's
            off_clock = (b["perf_counter_s"] - a["perf_counter_s"]) - (b["train_s"] - a["train_s"])
            assert off_clock >= 0.9 * a["eval_s"] > 0
        assert run["reached"] == points[0] and run["time_to_target"] == points[0]["train_s"] > 0
        assert run["steps_to_target"] == 0 and run["median_step_s"] > 0
    # same held-out problems and eval seed for both rows: the base model scores the same before training
    assert data["runs"][0]["points"][0]["pass@1"] == data["runs"][1]["points"][0]["pass@1"]
    assert data["lines"][-1] == lines[-1]


def test_trl_reward_reads_the_special_token_tags(tiny_tokenizer):
    sys.path.insert(0, str(BENCH_DIR))
    try:
        from tta_workers import trl_reward
    finally:
        sys.path.remove(str(BENCH_DIR))
    text = "<think>1+2=3</think><answer>3</answer>"
    ids = tiny_tokenizer.encode(text, add_special_tokens=False)
    # TRL's own decode drops the tags, so r1's reward would see no answer at all
    assert tiny_tokenizer.decode(ids, skip_special_tokens=True) == "1+2=33"
    reward = trl_reward(tiny_tokenizer)
    record = {"task": ["arithmetic"] * 2, "answer": ["3", "4"], "problem": ["Compute 1+2."] * 2}
    scores = reward(["1+2=33"] * 2, completion_ids=[ids + [tiny_tokenizer.eos_token_id], ids], **record)
    assert scores == [1.0, 0.3]  # 0.7 accuracy + 0.3 format; a wrong answer keeps the format's 0.3


def test_a_missing_model_fails_in_one_line_naming_r1_demo(tmp_path):
    proc = run_script(["--model", str(tmp_path / "nothing"), "--seeds", "1"], timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "run `r1 demo` first" in proc.stderr, proc.stderr
