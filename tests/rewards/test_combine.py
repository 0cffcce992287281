"""Weighted reward per prompt type, per-component scores, and accuracy routed by task."""

import logging
import math

import pytest

from r1.errors import R1Error
from r1.rewards import RewardCombiner, RewardWeights, combine, register, task_accuracy

GOOD = "<think>7+5=12 carry 1</think><answer>12</answer>"
WRONG = "<think>7+5=13 carry 0</think><answer>13</answer>"
UNFORMATTED = "12"
ARITH = dict(task=["arithmetic"] * 3, answer=["12"] * 3, id=["a", "b", "c"])


def test_reasoning_default_is_07_accuracy_03_format():
    totals, parts = combine([GOOD, WRONG, UNFORMATTED], **ARITH)
    assert totals == pytest.approx([1.0, 0.3, 0.0])
    assert parts == {"accuracy": [1.0, 0.0, 0.0], "format": [1.0, 1.0, 0.0]}


def test_weights_model_documents_every_field():
    for name, field in RewardWeights.model_fields.items():
        assert field.description, name
    with pytest.raises(ValueError):
        RewardWeights(reasonning={"accuracy": 1.0})


def test_language_weight_adds_a_component():
    zh_cot = "<think>7加5得12进1</think><answer>12</answer>"
    fields = {k: v[:2] for k, v in ARITH.items()}
    totals, parts = combine([GOOD, zh_cot], RewardWeights(language=0.1), **fields)
    assert parts["language"] == [1.0, 0.0]
    assert totals == pytest.approx([1.1, 1.0])


@pytest.fixture
def model_rewards(scratch_registry):
    """Stand-ins for the reward models of a later issue: just registered callables."""
    register("helpfulness", lambda completions, **kw: [0.8 if "help" in c else 0.2 for c in completions])
    register("harmlessness", lambda completions, **kw: [1.0] * len(completions))


def test_general_prompts_use_model_rewards_and_readability(model_rewards):
    readable = "<think></think><summary>Happy to help.</summary>"
    totals, parts = combine([GOOD, readable], task=["arithmetic", None], answer=["12", None],
                            prompt_type=["reasoning", "general"])
    assert totals == pytest.approx([1.0, 0.5 * 0.8 + 0.3 * 1.0 + 0.2 * 1.0])
    assert parts["accuracy"][0] == 1.0 and math.isnan(parts["accuracy"][1])  # not scored: general
    assert math.isnan(parts["helpfulness"][0]) and parts["helpfulness"][1] == 0.8
    assert set(parts) == {"accuracy", "format", "helpfulness", "harmlessness", "readability"}


def test_missing_prompt_type_means_reasoning(model_rewards):
    totals, _ = combine([GOOD], task=["arithmetic"], answer=["12"], prompt_type=[None])
    assert totals == [pytest.approx(1.0)]


def test_check_fails_early_for_an_unregistered_model_reward():
    combiner = RewardCombiner()
    combiner.check(["reasoning"])
    with pytest.raises(R1Error, match="unknown reward 'helpfulness'"):
        combiner.check(["reasoning", "general"])


def test_unknown_prompt_type():
    with pytest.raises(R1Error, match="prompt_type 'chitchat'"):
        combine([GOOD], task=["arithmetic"], answer=["12"], prompt_type=["chitchat"])


def test_component_rewards_are_configurable(scratch_registry):
    register("always_half", lambda completions, **kw: [0.5] * len(completions))
    weights = RewardWeights(reasoning={"accuracy": 1.0, "style": 2.0}, rewards={"accuracy": "tiny_accuracy",
                            "style": "always_half"}, monitor=["language"])
    totals, parts = combine([GOOD, WRONG], weights, **{k: v[:2] for k, v in ARITH.items()})
    assert totals == pytest.approx([2.0, 1.0])
    assert parts["language"] == [1.0, 1.0]  # monitored: logged, weight 0 (it resolves by its own name)


def test_a_list_of_rewards_scores_their_mean_an_ensemble(scratch_registry):
    register("low", lambda completions, **kw: [0.2] * len(completions))
    register("by_length", lambda completions, **kw: [len(c) / 10 for c in completions])
    weights = RewardWeights(general={"helpfulness": 1.0}, rewards={"helpfulness": ["low", "by_length"]})
    totals, parts = combine(["12345", "1"], weights, prompt_type=["general", "general"])
    assert parts["helpfulness"] == pytest.approx([(0.2 + 0.5) / 2, (0.2 + 0.1) / 2]) and totals == parts["helpfulness"]
    with pytest.raises(R1Error, match="nope"):
        RewardCombiner(RewardWeights(rewards={"helpfulness": ["low", "nope"]})).check(["general"])


def test_a_failing_component_scores_zero_for_its_items_only(scratch_registry, caplog):
    def flaky(completions, id, **kw):
        if "b" in id:
            raise RuntimeError("boom")
        return [1.0] * len(completions)

    register("flaky", flaky)
    weights = RewardWeights(reasoning={"accuracy": 0.5, "flaky": 0.5})
    with caplog.at_level(logging.WARNING):
        totals, parts = combine([GOOD, GOOD, GOOD], weights, **ARITH)
    assert parts["flaky"] == [1.0, 0.0, 1.0]
    assert totals == pytest.approx([1.0, 0.5, 1.0])
    assert "record b" in caplog.text


def test_combiner_is_a_trl_reward():
    combiner = RewardCombiner()
    assert combiner.__name__ == "r1_reward"
    assert combiner(completions=[GOOD], trainer_state=None, **{k: v[:1] for k, v in ARITH.items()}) \
        == [pytest.approx(1.0)]


def test_accuracy_routes_by_task():
    completions = [r"\boxed{0.5}", r"\boxed{\$1,234}", "<answer>12</answer>", "<answer>2*3+4</answer>",
                   r"\boxed{\frac12}"]
    scores = task_accuracy(completions, task=["math", "gsm8k", "arithmetic", "countdown", None],
                           answer=[r"\frac{1}{2}", "1234", "12", "2*3+4", "0.5"],
                           numbers=[None, None, None, [2, 3, 4], None], target=[None, None, None, 10, None])
    assert scores == [1.0, 1.0, 1.0, 1.0, 1.0]


def test_accuracy_rejects_an_unknown_task():
    with pytest.raises(R1Error, match="unknown task 'poetry'"):
        task_accuracy(["x"], task=["poetry"], answer=["x"])


def test_a_not_applicable_score_adds_nothing(scratch_registry):
    # TRL lets a reward return None for a sample it does not apply to; the total stays a number
    register("partial", lambda completions, **kw: [None, 1.0])
    weights = RewardWeights(reasoning={"accuracy": 0.5, "partial": 0.5})
    totals, parts = combine([GOOD, GOOD], weights, **{k: v[:2] for k, v in ARITH.items()})
    assert totals == pytest.approx([0.5, 1.0])
    assert math.isnan(parts["partial"][0])
