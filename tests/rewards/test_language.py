"""Language consistency: script-based word counts inside the reasoning."""

import math

import pytest

from r1.rewards import get_reward
from r1.rewards.language import count_words, language_consistency, language_share


@pytest.mark.parametrize("text, en, zh, other", [
    ("7+5=12 carry 1", 1, 0, 0),
    ("7加5得12进1", 0, 3, 0),
    ("13-7=6 borrow 1", 1, 0, 0),
    ("15x=60-3, so x=57/15", 1, 0, 0),          # lone x is a variable; "so" is a word
    (r"\frac{60}{15} = \sqrt{16}", 0, 0, 0),    # LaTeX commands are not words
    ("，。！？ 123 + - = ()", 0, 0, 0),           # punctuation, digits and symbols are not words
    ("Café au lait", 3, 0, 0),                  # accented Latin is Latin
    ("это 中文", 0, 2, 1),
    ("", 0, 0, 0),
])
def test_count_words(text, en, zh, other):
    assert count_words(text) == {"en": en, "zh": zh, "other": other}


def test_share_mixed_tiny_world_reasoning():
    cot = "7+5=12 carry 1\n7加5得12进1\n1+2+1=4\n1加2加1得4"
    assert language_share(cot, "en") == pytest.approx(1 / 7)  # carry | 加 得 进 加 加 得
    assert language_share(cot, "zh") == pytest.approx(6 / 7)


def test_a_reasoning_without_words_is_not_scored():
    """Before, an empty or digits-only reasoning scored 1.0, so dropping the reasoning maximised the
    reward. Now it is not scored (None -> NaN in the combiner, adding nothing to the total)."""
    assert language_share("12+30=42\n42*2=84", "en") is None
    assert language_share("12+30=42\n42*2=84", "zh") is None
    dropped, digits, english = ("<think></think><answer>42</answer>", "<think>12+30=42</think><answer>42</answer>",
                                "<think>12+30=42 carry 0</think><answer>42</answer>")
    assert language_consistency([dropped, digits, english]) == [None, None, 1.0]
    from r1.rewards.combine import RewardCombiner, RewardWeights

    totals, parts = RewardCombiner(RewardWeights(language=0.5)).score(
        [dropped, english], task=["arithmetic"] * 2, answer=["42"] * 2)
    assert totals == pytest.approx([1.0, 1.5]) and math.isnan(parts["language"][0])


def test_reward_reads_only_the_reasoning():
    completion = "<think>7+5=12 carry 1</think><answer>十二</answer>"
    assert language_consistency([completion]) == [1.0]
    assert language_consistency([completion], target_language="zh") == [0.0]


def test_zh_variant_and_record_language_field():
    zh = get_reward("language_consistency_zh")
    texts = ["<think>7加5得12进1</think>", "<think>carry the one</think>"]
    assert zh(texts) == [1.0, 0.0]
    assert language_consistency(texts, language=["zh", "en"]) == [1.0, 1.0]
    assert language_consistency(texts, language=["en", "zh"]) == [0.0, 0.0]


def test_unclosed_think_and_no_think():
    assert language_consistency(["carry 进", "<think>进位 carry"], target_language="zh") == [0.5, pytest.approx(2 / 3)]


def test_record_fields_named_like_a_setting_do_not_break_the_reward():
    """Countdown records carry a numeric `target`; it reached the reward as its language setting, the
    reward raised, and the combiner scored every completion 0 (the stage-2 run of 2026-11-30 logged
    reward/language 0.0 at every step)."""
    from r1.rewards.combine import RewardCombiner, RewardWeights

    english = "<think>7+5=12 carry 1</think><answer>12</answer>"
    records = dict(task=["countdown", "arithmetic"], answer=["7+5", "12"], numbers=[[5, 7], None],
                   target=[12, None])
    _, parts = RewardCombiner(RewardWeights(language=0.2)).score([english, english], **records)
    assert parts["language"] == [1.0, 1.0]
