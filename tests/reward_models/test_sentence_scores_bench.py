"""bench/rm_sentence_scores.py: a pool=sum model's score split over the prompt, each sentence of the
reply and the end; the pieces add up to the score the model gives the whole text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from r1.models.load import load_tokenizer
from r1.reward_models.model import forward_scores, load_for_scoring
from r1.reward_models.render import encode, rm_input
from r1.reward_models.trainer import train
from tests.reward_models.conftest import pair_records, rm_config, write_jsonl

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from rm_sentence_scores import sentence_scores  # noqa: E402


@pytest.fixture(scope="module")
def sum_rm(tiny_model_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("sum-rm")
    data = write_jsonl(work / "pairs.jsonl", pair_records(40, seed=3))
    return train(rm_config(tiny_model_dir, work / "out", data, max_steps=3, pool="sum"))


def test_pieces_are_the_sentences_and_add_up_to_the_score(sum_rm):
    model, tokenizer = load_for_scoring(sum_rm, "cpu"), load_tokenizer(sum_rm)
    prompt, reply = "Describe the number 84.", "84 is even. Its digit sum is 12! Math is fun."
    rows = sentence_scores(model, tokenizer, prompt, reply)
    assert [label for label, _ in rows] == ["(prompt)", "84 is even.", "Its digit sum is 12!", "Math is fun.",
                                            "(end)"]
    ids = encode(tokenizer, [rm_input(tokenizer, [{"role": "user", "content": prompt}], reply, "whole")])
    with torch.no_grad():
        whole = float(forward_scores(model, ids, tokenizer.pad_token_id, "cpu", "sum")[0])
    assert sum(score for _, score in rows) == pytest.approx(whole, abs=1e-4)
    assert len({round(score, 6) for _, score in rows}) > 1  # a real split, not one piece holding it all


def test_a_last_pool_model_is_refused_in_one_line(helpful_rm):
    result = subprocess.run([sys.executable, str(BENCH / "rm_sentence_scores.py"), str(helpful_rm), "Hi.", "7 is odd."],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "only a pool=sum model" in result.stderr
    assert "Traceback" not in result.stderr
