"""The lean training forward of a reward model (r1.reward_models.lean) gives the scores, the token_l2
sums and the gradients of the model's own forward, whatever the pairs share; `lean: false` and wrapped
or other models take the model's own forward; and both train to the same losses."""

import doctest
import json

import pytest
import torch

from r1.models.fast import FastLM
from r1.reward_models import lean
from r1.reward_models.lean import lean_scores, shared_prefix
from r1.reward_models.model import forward_token_scores, load_for_training, score_head
from r1.reward_models.trainer import train
from tests.reward_models.conftest import harm_records, pair_records, rm_config, write_jsonl

# chosen/rejected pairs: a long shared beginning, none shared, one a prefix of the other, a 1-token
# response; and lengths that vary enough for the batch to be cut into chunks
PAIRS = [
    [[5, 9, 12, 7, 3, 8, 8], [5, 9, 12, 7, 4]],
    [[6, 9, 12], [5, 9, 12, 7, 3, 8, 8, 10, 11]],
    [[5, 9], [5, 9, 13, 14]],
    [[7], [8]],
    [[5, 9, 12, 7, 3, 8, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [5, 9, 12, 7, 3, 8, 8, 10, 11, 12, 13, 14]],
    [[5, 30, 31], [5, 30, 32]],
]


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    torch.manual_seed(0)
    model = load_for_training(tiny_model_dir, 0, "cpu")
    with torch.no_grad():  # a head that is not ~0 everywhere, so differences show
        score_head(model).weight.normal_(0, 1.0)
    return model


def plain(model, groups, pool):
    """Scores [n] and per-token scores/mask from the model's own forward over every sequence."""
    flat = [s for g in groups for s in g]
    per_token, mask = forward_token_scores(model, flat, 0, "cpu")
    if pool == "sum":
        return per_token.sum(-1), per_token, mask
    return per_token[torch.arange(len(flat)), mask.sum(-1) - 1], per_token, mask


@pytest.mark.parametrize("pool", ["sum", "last"])
def test_lean_scores_equal_the_models_own(scorer, pool):
    with torch.no_grad():
        want, per_token, mask = plain(scorer, PAIRS, pool)
        got = lean_scores(FastLM(scorer), score_head(scorer), PAIRS, 0, "cpu", pool, squares=True)
    assert got.scores.tolist() == pytest.approx(want.tolist(), abs=1e-4)
    assert got.tokens == int(mask.sum())
    assert float(got.square_sum) == pytest.approx(float((per_token ** 2).sum()), rel=1e-4)


def test_pointwise_groups_of_one_response(scorer):
    groups = [[p[0]] for p in PAIRS]
    with torch.no_grad():
        want, _, _ = plain(scorer, groups, "sum")
        got = lean_scores(FastLM(scorer), score_head(scorer), groups, 0, "cpu", "sum")
    assert got.scores.tolist() == pytest.approx(want.tolist(), abs=1e-4)


def test_gradients_equal_the_models_own(scorer):
    def grads(score_fn):
        scorer.zero_grad()
        scores = score_fn().view(-1, 2)
        (-torch.nn.functional.logsigmoid(scores[:, 0] - scores[:, 1]).mean()).backward()
        return {n: p.grad.clone() for n, p in scorer.named_parameters() if p.grad is not None}

    want = grads(lambda: plain(scorer, PAIRS, "sum")[0])
    got = grads(lambda: lean_scores(FastLM(scorer), score_head(scorer), PAIRS, 0, "cpu", "sum").scores)
    scorer.zero_grad()
    assert want.keys() == got.keys() and len(want) > 10
    for name in want:
        assert torch.allclose(got[name], want[name], rtol=1e-3, atol=1e-5), name


def test_the_shared_prefix_leaves_every_sequence_a_token():
    assert shared_prefix([[5, 9, 12, 7, 3], [5, 9, 12, 7, 4]]) == 4
    assert shared_prefix([[5, 9], [5, 9, 13]]) == 1  # the shorter keeps its last token
    assert shared_prefix([[6, 9], [5, 9]]) == 0
    assert shared_prefix([[7]]) == 0
    assert doctest.testmod(lean).failed == 0


def losses(run_dir):
    return [json.loads(line)["loss"] for line in (run_dir / "log.jsonl").read_text().splitlines()
            if "loss" in json.loads(line)]


@pytest.mark.parametrize("objective", ["pairwise", "pointwise"])
def test_lean_and_the_models_own_forward_train_the_same(tiny_model_dir, tmp_path, objective, capsys):
    records = pair_records(48, seed=4) if objective == "pairwise" else harm_records(48, seed=4)
    data = write_jsonl(tmp_path / "data.jsonl", records)
    on = "summary" if objective == "pairwise" else "whole"
    runs = {}
    for lean_on in (True, False):
        out = tmp_path / f"lean-{lean_on}"
        train(rm_config(tiny_model_dir, out, data, objective=objective, on=on, pool="sum", max_steps=6,
                        lean=lean_on))
        runs[lean_on] = losses(out)
    said = capsys.readouterr().err
    assert "forward: lean" in said and "forward: the model's own (lean: false)" in said
    assert len(runs[True]) == 6 and runs[True] == pytest.approx(runs[False], rel=2e-3, abs=1e-4)
    assert runs[True][-1] != pytest.approx(runs[True][0])  # it trained
