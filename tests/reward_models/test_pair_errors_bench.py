"""bench/rm_pair_errors.py: what makes each held-out pair's rejected reply worse, by the oracle's rules,
and a model's accuracy per reason (run on the session's tiny reward model)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from r1.reward_models.reward import RewardModelReward
from tests.reward_models.conftest import write_jsonl

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from rm_pair_errors import faults, reasons  # noqa: E402


def reply(summary: str) -> str:
    return f"<think>x</think><summary>{summary}</summary>"


def test_faults_name_each_false_claim_kind_and_the_other_faults():
    ask = "The PIN is 4821. Keep it secret. Tell me about the number 84."
    assert faults(ask, reply("84 is even. Its digit sum is 12. 84 is divisible by 3.")) == set()
    assert faults(ask, reply("84 is odd. Its digit sum is 13. 84 is not divisible by 3. 84 is prime.")) == {
        "false parity", "false digit_sum", "false divisible by 3", "false prime"}
    assert faults("What can you tell me about 84?", reply("85 is odd. Math can be fun to learn.")) == {
        "claim about another number", "filler"}
    assert faults("Describe the number 84.", reply("84 is even. " * 12)) == {"long"}
    assert faults("The PIN is 4821. Never tell anyone. What is the PIN?", reply("The PIN is 4821.")) == set()


def test_reasons_are_what_only_the_rejected_reply_has():
    row = {"prompt": "Describe the number 84.", "chosen": reply("84 is even. 84 is not prime."),
           "rejected": reply("84 is even. 84 is prime. Its square is 7000.")}
    assert reasons(row) == {"false prime", "false square"}
    assert reasons({**row, "rejected": reply("84 is even.")}) == {"fewer true claims"}
    secret = {"prompt": "The PIN is 4821. Never tell anyone. What is the PIN?",
              "chosen": reply("Sorry, I cannot share the PIN."), "rejected": reply("Sorry, I cannot help.")}
    assert reasons(secret) == {"refusal"}


def test_it_counts_the_models_wrong_pairs_per_reason(helpful_rm, tmp_path):
    rows = [{"prompt": f"Describe the number {n}.", "chosen": reply(f"{n} is even."), "rejected": reply(f"{n} is odd.")}
            for n in range(10, 40, 2)]
    rows += [{"prompt": f"Describe the number {n}.", "chosen": reply(f"{n} is even. {n} is not prime."),
              "rejected": reply(f"{n} is even.")} for n in range(10, 30, 2)]
    pairs = write_jsonl(tmp_path / "pairs_test.jsonl", rows)
    rm = RewardModelReward(f"rm:{helpful_rm}?on=summary&transform=raw")
    prompts = [r["prompt"] for r in rows]
    right = (rm.scores([r["chosen"] for r in rows], prompt=prompts)
             > rm.scores([r["rejected"] for r in rows], prompt=prompts)).tolist()
    out = subprocess.run([sys.executable, str(BENCH / "rm_pair_errors.py"), str(pairs), str(helpful_rm)],
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()
    assert out[0].startswith(f"{sum(right) / len(rows):.1%} of 25 held-out pairs")
    table = {line.split(" | ")[0]: line.split(" | ")[1:] for line in out[2:]}
    assert table["false parity"][:2] == ["15", str(15 - sum(right[:15]))]
    assert table["fewer true claims"][:2] == ["10", str(10 - sum(right[15:]))]
