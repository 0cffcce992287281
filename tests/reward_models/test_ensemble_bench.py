"""bench/rm_ensemble.py: each model's held-out pair accuracy as the `rm:` reward scores it, then the
ensembles' (run on the session's tiny reward model)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from r1.reward_models.reward import RewardModelReward
from tests.reward_models.conftest import pair_records, write_jsonl

BENCH = Path(__file__).resolve().parents[2] / "bench" / "rm_ensemble.py"


def test_it_prints_each_model_then_the_ensembles_and_the_worst_last(helpful_rm, tmp_path):
    rows = pair_records(24, seed=7, wrong_share=1.0)
    pairs = write_jsonl(tmp_path / "pairs_test.jsonl", [{**r, "kind": "parity"} for r in rows])
    rm = RewardModelReward(f"rm:{helpful_rm}?on=summary&transform=raw")
    prompts = [r["prompt"] for r in rows]
    right = rm.scores([r["chosen"] for r in rows], prompt=prompts) > rm.scores([r["rejected"] for r in rows],
                                                                               prompt=prompts)
    # the same model twice: each alone and their mean must score what the reward scores
    models = [str(helpful_rm), str(helpful_rm / "final")]
    out = subprocess.run([sys.executable, str(BENCH), str(pairs), *models], capture_output=True, text=True,
                         check=True).stdout
    lines = out.strip().splitlines()
    assert lines[0] == f"24 held-out pairs from {pairs}"
    expected = f"{right.float().mean().item():.1%}"
    kinds = f"(parity {int(right.sum())}/24)"
    assert [line.split("  ")[0] for line in lines[1:4]] == [expected] * 3
    assert lines[1].endswith(f"{models[0]}  {kinds}") and lines[3].endswith(f"{models[0]} + {models[1]}  {kinds}")
    assert re.fullmatch(r"worst held-out pair accuracy of an ensemble of 2: \d+\.\d%", lines[4])
    assert lines[4].endswith(expected)
