"""rm:PATH as a reward: one score per completion through the reward interface, the summary model blind
to the reasoning, the settings syntax, TRL's GRPOTrainer loading the same directory, bad input."""

import math
import shutil

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from r1.errors import R1Error
from r1.reward_models.reward import RewardModelReward, parse_spec
from r1.rewards.combine import RewardCombiner, RewardWeights
from r1.rewards.registry import get_reward
from tests.reward_models.conftest import response

PROMPTS = ["Tell me about the number 47.", "Tell me about the number 82."]
RIGHT = [response("47 ends in 7.", "47 is odd."), response("82 ends in 2.", "82 is even.")]
WRONG = [response("47 ends in 7.", "47 is even."), response("82 ends in 2.", "82 is odd.")]


def test_rm_reward_gives_one_bounded_score_per_completion_and_prefers_the_right_fact(helpful_rm):
    reward = get_reward(f"rm:{helpful_rm}")
    right, wrong = reward(RIGHT, prompt=PROMPTS), reward(WRONG, prompt=PROMPTS)
    assert len(right) == len(wrong) == 2 and all(0 < s < 1 for s in right + wrong)
    assert all(r > w for r, w in zip(right, wrong)), (right, wrong)
    raw = get_reward(f"rm:{helpful_rm}?transform=raw")(RIGHT, prompt=PROMPTS)
    center = parse_spec(f"rm:{helpful_rm}").center
    assert right == pytest.approx([1 / (1 + math.exp(-(s - center))) for s in raw], abs=1e-6)


def test_the_summary_model_ignores_the_reasoning_and_whole_reads_it(helpful_rm):
    other = [response("Nothing to see; the SECRET is 5.", "47 is odd."), response("x" * 30, "82 is even.")]
    summary = get_reward(f"rm:{helpful_rm}")
    assert summary(other, prompt=PROMPTS) == summary(RIGHT, prompt=PROMPTS)
    whole = get_reward(f"rm:{helpful_rm}?on=whole")
    assert whole(other, prompt=PROMPTS) != whole(RIGHT, prompt=PROMPTS)
    assert whole.model is summary.model  # one model per path, loaded once


def test_the_harmlessness_model_reads_harm_in_the_reasoning(harmless_rm):
    reward = get_reward(f"rm:{harmless_rm}")  # `on: whole` comes from the model's record
    assert parse_spec(f"rm:{harmless_rm}").on == "whole"
    clean = response("The user asks about 47.", "47 is odd.")
    hidden = response("The user asks about 47. The SECRET is 7.", "47 is odd.")
    good, bad = reward([clean, hidden], prompt=PROMPTS[:1] * 2)
    assert good > 0.8 and bad < 0.2, (good, bad)


def test_the_prompt_arrives_as_trl_prompts_r1_prompt_or_problem(helpful_rm):
    reward = get_reward(f"rm:{helpful_rm}")
    base = reward(RIGHT, prompt=PROMPTS)
    chat = [[{"role": "user", "content": p}] for p in PROMPTS]
    assert reward(RIGHT, prompts=chat) == base == reward(RIGHT, problem=PROMPTS)
    assert reward(RIGHT, prompt=PROMPTS[::-1]) != base  # the prompt is read, not ignored
    with pytest.raises(ValueError, match="needs each completion's prompt: none of the fields prompts, "
                                         "prompt, problem came with the 2 completions"):
        reward(RIGHT, answer=["odd", "even"])


def test_a_recipe_weighs_reward_models_like_rules(helpful_rm, harmless_rm):
    weights = RewardWeights(general={"helpfulness": 0.5, "harmlessness": 0.3},
                            rewards={"helpfulness": f"rm:{helpful_rm}", "harmlessness": f"rm:{harmless_rm}"})
    combiner = RewardCombiner(weights)
    combiner.check(["general"])
    totals, parts = combiner.score(RIGHT, prompt=PROMPTS, prompt_type=["general"] * 2)
    assert totals == pytest.approx([0.5 * h + 0.3 * s for h, s in zip(parts["helpfulness"], parts["harmlessness"])])
    with pytest.raises(R1Error, match="reward helpfulness failed on every one of 2 completions"):
        combiner.score(RIGHT, prompt_type=["general"] * 2)  # no prompts: a loud stop, never zeros


def test_trl_grpo_trainer_loads_the_directory_and_scores_as_on_whole(helpful_rm, tiny_model_dir, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    final = helpful_rm / "final"
    chat = [[{"role": "user", "content": p}] for p in PROMPTS]
    config = GRPOConfig(output_dir=str(tmp_path / "trl"), per_device_train_batch_size=2, num_generations=2,
                        max_completion_length=8, use_cpu=True, bf16=False, report_to="none", max_steps=1,
                        save_strategy="no", logging_strategy="no", disable_tqdm=True)
    trainer = GRPOTrainer(model=str(tiny_model_dir), reward_funcs=str(final), args=config,
                          train_dataset=Dataset.from_list([{"prompt": c} for c in chat]))
    rm = trainer.reward_funcs[0]
    assert isinstance(rm, torch.nn.Module) and rm.config.num_labels == 1
    completions = [[{"role": "assistant", "content": c}] for c in RIGHT]
    trl_scores = trainer._calculate_rewards([{"prompt": c} for c in chat], chat, completions, [[1], [1]])
    ours = get_reward(f"rm:{final}?on=whole&transform=raw")(RIGHT, prompts=chat)
    assert trl_scores[:, 0].tolist() == pytest.approx(ours, abs=1e-5)  # TRL renders what r1 renders


def test_bad_rm_specs_are_one_line_errors(helpful_rm, tiny_model_dir, tmp_path):
    def refused(match, spec):
        with pytest.raises(R1Error, match=match) as err:
            RewardModelReward(spec)
        assert "\n" not in str(err.value)

    refused(r"reward 'rm:.*nowhere': .*nowhere does not exist", f"rm:{tmp_path / 'nowhere'}")
    refused("expected rm:PATH", "rm:")
    refused(r"unknown setting 'of=whole' \(known: on, transform, batch_size, device\)", f"rm:{helpful_rm}?of=whole")
    refused("on must be summary or whole, got 'all'", f"rm:{helpful_rm}?on=all")
    refused("transform must be sigmoid or raw", f"rm:{helpful_rm}?transform=tanh")
    two = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2)
    two.config.pad_token_id = 0
    two.save_pretrained(tmp_path / "two")
    shutil.copy(tiny_model_dir / "tokenizer.json", tmp_path / "two")
    refused("has a head with 2 outputs; a reward model outputs exactly one score", f"rm:{tmp_path / 'two'}?on=whole")
    plain = tmp_path / "plain"  # an RM not trained by r1: no record of what it reads
    shutil.copytree(helpful_rm / "final", plain)
    (plain / "r1_final.json").unlink()
    refused("records no `on` .* add \\?on=summary or \\?on=whole", f"rm:{plain}")
    raw = get_reward(f"rm:{helpful_rm}?transform=raw")(RIGHT, prompt=PROMPTS)
    uncentred = [1 / (1 + math.exp(-s)) for s in raw]  # no recorded centre: the sigmoid of the score
    assert RewardModelReward(f"rm:{plain}?on=summary")(RIGHT, prompt=PROMPTS) == pytest.approx(uncentred)


def test_an_ensemble_directory_stands_for_its_models_and_a_bad_listing_is_one_line(helpful_rm, tmp_path):
    """ensemble.json lists models (relative to it, or absolute); the reward centres each model's score,
    averages and then applies the sigmoid; an ensemble directory inside a list is expanded."""
    import json

    from r1.reward_models.reward import reward_model

    texts = [response("", "42 is even."), response("", "42 is odd.")]
    one = RewardModelReward(f"rm:{helpful_rm}?transform=raw")
    centred = one.scores(texts, prompt=["Tell me about the number 42."] * 2) - one.spec.center
    group = tmp_path / "ensemble"
    group.mkdir()
    (group / "ensemble.json").write_text(json.dumps({"members": [str(helpful_rm)]}))
    got = reward_model(f"rm:{group}")(texts, prompt=["Tell me about the number 42."] * 2)
    assert got == pytest.approx(torch.sigmoid(centred).tolist(), abs=1e-6)
    both = reward_model([f"rm:{group}?transform=raw", f"rm:{helpful_rm}?transform=raw"])
    assert len(both.members) == 2
    assert both.scores(texts, prompt=["Tell me about the number 42."] * 2).tolist() == pytest.approx(
        centred.tolist(), abs=1e-6)
    (group / "ensemble.json").write_text("[1, 2]")
    with pytest.raises(R1Error, match=r"ensemble\.json is not a list of models"):
        reward_model(f"rm:{group}")
