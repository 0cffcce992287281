"""pool=sum: a response's score is the head's per-token scores added over its real tokens (padding
adds nothing), pool=last is Hugging Face's own score, and a model trained with sum is scored with sum
by the `rm:` reward (the pool is recorded beside it); token_l2 shrinks the per-token scores."""

import json

import pytest
import torch

from r1.errors import R1Error
from r1.reward_models.config import RewardModelConfig
from r1.reward_models.model import forward_scores, forward_token_scores, load_for_training
from r1.reward_models.reward import parse_spec
from r1.reward_models.loss import token_l2
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


def test_token_scores_are_zero_at_padding_and_sum_to_the_pooled_score(scorer):
    ids = [[5, 9, 12, 7, 3], [5, 9]]
    with torch.no_grad():
        per_token, mask = forward_token_scores(scorer, ids, 0, "cpu")  # [2, 5]
        summed = forward_scores(scorer, ids, 0, "cpu", "sum")
    assert mask.tolist() == [[1] * 5, [1, 1, 0, 0, 0]] and per_token[1, 2:].abs().sum() == 0
    assert per_token.sum(-1).tolist() == pytest.approx(summed.tolist(), abs=1e-5)
    assert float(token_l2(per_token, mask)) == pytest.approx(float((per_token ** 2).sum() / 7), rel=1e-5)


def test_token_l2_shrinks_per_token_scores(tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_records(80, seed=3))
    ids = [[5, 9, 12, 7, 3, 4, 8], [5, 9, 11]]

    def mean_square(out, weight):
        final = train(rm_config(tiny_model_dir, tmp_path / out, data, max_steps=20, pool="sum", token_l2=weight))
        model = load_for_training(final, 0, "cpu").eval()
        with torch.no_grad():
            return float(token_l2(*forward_token_scores(model, ids, 0, "cpu")))

    plain, penalised = mean_square("plain", 0.0), mean_square("l2", 10.0)
    assert penalised < plain / 2, (plain, penalised)  # measured: 0.31 -> 0.08


def test_token_l2_without_pool_sum_is_one_line_error(tmp_path):
    cfg = RewardModelConfig(output_dir=str(tmp_path), model="m", data="d", pool="last", token_l2=0.1)
    with pytest.raises(R1Error, match="token_l2 .* only pool=sum"):
        cfg.check()
