"""bench/rm_claim_probe.py: its pairs differ only in one claim's truth, the oracle prefers the true one,
and it ranks a reward model's scores and a causal LM's log-probabilities of them."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from r1.tasks.general_prompts import general_prompt_records
from r1.tasks.oracle import helpfulness
from r1.tasks.writer import fact_names

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from rm_claim_probe import claim_pairs  # noqa: E402


def test_each_pair_is_one_fact_true_against_false():
    records = general_prompt_records(8, "test", kinds=["about_number"])
    pairs = claim_pairs(records, random.Random(0))
    assert len(pairs) == sum(len(fact_names(int(r["fields"]["n"]))) for r in records)
    for record, name, true, false in pairs:
        assert true != false and name in fact_names(int(record["fields"]["n"]))
        assert helpfulness(record, true) > helpfulness(record, false), (record["prompt"], true, false)


def run(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, str(BENCH / "rm_claim_probe.py"), *args, "--n", "4"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()


def test_it_prints_a_share_per_model_and_the_lowest_last(helpful_rm, tiny_model_dir):
    lines = run(str(helpful_rm))
    assert lines[0].startswith("4 held-out prompts, ") and lines[0].endswith("chance is 50%")
    assert lines[1].startswith(f"{helpful_rm}: true claim ranked above false ") and "even " in lines[1]
    assert lines[-1].startswith("true claim ranked above the false one, lowest share over the models: ")
    lm = run("--lm", str(tiny_model_dir))
    assert lm[1].startswith(f"{tiny_model_dir}: true claim ranked above false ")
