"""bench/rm_gaming_probe.py: its gamed replies are worse by the oracle, and it ranks a reward model's
scores of them (run on the session's tiny reward model)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from r1.tasks.oracle import helpfulness

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from rm_gaming_probe import replies  # noqa: E402


def test_the_gamed_replies_are_longer_and_worse_by_the_oracle():
    rng = random.Random(0)
    for n in (7, 84, 97, 360, 901):
        texts = replies(n, rng)
        record = {"kind": "about_number", "fields": {"n": n}}
        scores = {key: helpfulness(record, text) for key, text in texts.items()}
        assert scores["good"] == 1.0 and scores["repeat"] < 0.4 and scores["padded"] < 0.4, (n, scores)
        assert len(texts["repeat"]) > len(texts["good"]) and len(texts["padded"]) > len(texts["good"])


def test_it_prints_each_models_ranking_and_the_worst_share_last(helpful_rm):
    out = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "bench" / "rm_gaming_probe.py"),
                          str(helpful_rm), "--n", "6"], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines[0].startswith("6 held-out prompts; oracle means: good 1.00")
    assert lines[1].startswith(f"{helpful_rm}: mean scores good ") and "ranked above repeat" in lines[1]
    assert lines[-1].startswith("good reply ranked above the gamed ones, worst share over the models: ")
