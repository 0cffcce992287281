"""pool=sum: a response's score is the head's per-token scores added over its real tokens (padding
adds nothing), pool=last is Hugging Face's own score, and a model trained with sum is scored with sum
by the `rm:` reward (the pool is recorded beside it)."""

import json

import pytest
import torch

from r1.errors import R1Error
from r1.reward_models.model import forward_scores, load_for_training
from r1.reward_models.reward import parse_spec
from r1.reward_models.trainer import train
from tests.reward_models.conftest import pair_records, rm_config, write_jsonl


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    torch.manual_seed(0)
    return load_for_training(tiny_model_dir, 0, "cpu").eval()


def test_sum_adds_the_head_over_real_tokens_and_last_is_huggingfaces(scorer):
    ids = [[5, 9, 12, 7, 3], [5, 9]]
    with torch.no_grad():
        hidden = scorer.model(input_ids=torch.tensor([ids[0]])).last_hidden_state  # [1, 5, h]
        per_token = scorer.score(hidden)[0, :, 0]  # [5]
        summed = forward_scores(scorer, ids, 0, "cpu", "sum")  # [2]: the short one padded
        alone = forward_scores(scorer, [ids[1]], 0, "cpu", "sum")
        last = forward_scores(scorer, ids, 0, "cpu", "last")
    assert summed[0] == pytest.approx(float(per_token.sum()), abs=1e-4)
    assert summed[1] == pytest.approx(float(alone[0]), abs=1e-4) and summed[1] != pytest.approx(float(summed[0]))
    assert last[0] == pytest.approx(float(per_token[-1]), abs=1e-4)


def test_a_sum_model_records_its_pool_and_the_reward_uses_it(tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_records(40, seed=3))
    final = train(rm_config(tiny_model_dir, tmp_path / "out", data, max_steps=2, pool="sum"))
    assert json.loads((final / "r1_final.json").read_text())["reward_model"]["pool"] == "sum"
    assert parse_spec(f"rm:{final}").pool == "sum"


def test_a_model_without_a_score_head_is_one_line_error():
    with pytest.raises(R1Error, match="no `score` head"):
        forward_scores(torch.nn.Linear(2, 1), [[1, 2]], 0, "cpu", "sum")
