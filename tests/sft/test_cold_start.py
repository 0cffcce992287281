"""Cold start (stage 1) learns the readable format: 150 seeded SFT steps on `r1 tasks cold-start` records
turn a tiny base model that answers in the R1-Zero format into one whose greedy answers to held-out
problems open with the cold-start reasoning and, often, end in a summary.

The session's tiny model has a 256-token context and cold-start records reach ~470 tokens, so this
test pretrains its own (the same model with 256-token rows: a 512-token context, ~3 s).
Measured on 2 cores with the stage skeleton's pretraining (60 held-out problems, greedy; SFT seed:
readable format, reasoning opens as taught), 2026-11-30:
  150 steps: seed 0: 0.00 -> 0.65, seed 1: 0.00 -> 0.53, seed 2: 0.00 -> 0.95; opens 1.00 each
  100 steps: seed 0: 0.00 -> 0.07, seed 1: 0.00 -> 0.22, seed 2: 0.00 -> 0.12 (too close to call)
About 30-40 s in all, so it is marked slow.
pass@1 stays 0: a 64-wide model learns the shape of the prose long before the arithmetic inside it.
"""

import json
from pathlib import Path

import pytest

from r1.eval.run import EvalConfig, run_eval
from r1.models.pretrain import PretrainConfig, pretrain
from r1.rewards.format import is_readable_format
from r1.sft import SFTConfig, train
from r1.tasks import generate
from r1.tasks.cold_start import cold_start_records
from tests.conftest import TINY_PRETRAIN

SEED = 0


@pytest.fixture(scope="module")
def base_512(tmp_path_factory) -> Path:
    """The session's tiny model, pretrained on 256-token rows so that it has a 512-token context."""
    out = tmp_path_factory.mktemp("tiny-base-512")
    settings = {**TINY_PRETRAIN, "block_size": 256, "batch_size": 4}  # the same tokens per step
    return pretrain(PretrainConfig(output_dir=str(out), **settings))


def greedy_rates(model_dir: Path, held_out: Path, out: Path) -> dict[str, float]:
    run_eval(EvalConfig(output_dir=str(out), model=str(model_dir), data=str(held_out), task="tiny", k=1,
                        temperature=0.0, top_p=1.0, max_new_tokens=480, suffix="", stop=["</summary>"]))
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    completions = [row["completion"] for row in rows]
    return {"readable": sum(map(is_readable_format, completions)) / len(rows),
            "opens": sum(c.startswith("<think>\nWe need to ") for c in completions) / len(rows)}


@pytest.mark.slow
def test_sft_on_cold_start_records_teaches_the_readable_format(base_512, tmp_path):
    data, held_out = tmp_path / "cold-start.jsonl", tmp_path / "held-out.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in cold_start_records(1200, seed=0)))
    held_out.write_text("".join(json.dumps(r) + "\n" for r in generate("all", "test", 60, seed=0)))
    before = greedy_rates(base_512, held_out, tmp_path / "base-eval")
    final = train(SFTConfig(output_dir=str(tmp_path / "sft"), model=str(base_512), data=str(data),
                            batch_size=16, max_steps=150, lr=1e-2, warmup_steps=5, max_seq_len=512,
                            save_every=0, seed=SEED))
    after = greedy_rates(final, held_out, tmp_path / "sft-eval")
    numbers = f"base {before} -> after cold-start SFT {after}"
    print(numbers)
    assert after["readable"] >= before["readable"] + 0.3, numbers
    assert after["opens"] >= 0.8 and before["opens"] == 0.0, numbers
