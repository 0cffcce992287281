"""Format rewards: the strict R1-Zero template and the R1 readable format, with near misses."""

import pytest

from r1.rewards import get_reward
from r1.rewards.format import format_r1_zero, format_readable, is_r1_zero_format, is_readable_format

R1_ZERO_OK = [
    "<think>7+5=12</think><answer>12</answer>",
    "<think>\n7+5=12\n7加5得12\n</think>\n<answer>\n12\n</answer>\n",
    "  <think>a</think>   <answer>12</answer>  ",
    "<think></think><answer>12</answer>",              # an empty think is allowed
    "<think>a</think><answer>x < 5 and y > 2</answer>",  # angle brackets that are not tags
]
R1_ZERO_NEAR_MISSES = {
    "missing </think>": "<think>7+5=12<answer>12</answer>",
    "missing </answer>": "<think>7+5=12</think><answer>12",
    "missing <think>": "7+5=12</think><answer>12</answer>",
    "two answers": "<think>a</think><answer>12</answer><answer>13</answer>",
    "two answers with space": "<think>a</think><answer>12</answer>\n<answer>13</answer>",
    "two thinks": "<think>a</think><think>b</think><answer>12</answer>",
    "text after the answer": "<think>a</think><answer>12</answer> Hope this helps!",
    "text before think": "Sure! <think>a</think><answer>12</answer>",
    "text between the blocks": "<think>a</think> so <answer>12</answer>",
    "answer tag inside think": "<think>a <answer>11</answer> b</think><answer>12</answer>",
    "think tag inside think": "<think>a <think> b</think><answer>12</answer>",
    "summary tag inside answer": "<think>a</think><answer><summary>12</summary></answer>",
    "answer before think": "<answer>12</answer><think>a</think>",
    "empty answer": "<think>a</think><answer>  </answer>",
    "only an answer": "<answer>12</answer>",
    "nothing": "",
}


@pytest.mark.parametrize("text", R1_ZERO_OK)
def test_r1_zero_accepts(text):
    assert is_r1_zero_format(text)


@pytest.mark.parametrize("case", sorted(R1_ZERO_NEAR_MISSES))
def test_r1_zero_rejects_near_misses(case):
    assert not is_r1_zero_format(R1_ZERO_NEAR_MISSES[case])


def test_prefilled_variant_completes_the_opened_think():
    prefilled = get_reward("format_r1_zero_prefilled")
    assert prefilled(["7+5=12\n</think>\n<answer>12</answer>",
                      "<think>7+5=12</think><answer>12</answer>"]) == [1.0, 0.0]


READABLE_OK = [
    "<think>7+5=12</think><summary>7+5 is 12.</summary>",
    "<think>\nlong reasoning\n</think>\n\n<summary>\nThe sum is $\\boxed{12}$.\n</summary>\n",
    "<think></think><summary>Hello! How can I help?</summary>",  # general data: empty reasoning
]
READABLE_NEAR_MISSES = {
    "missing </summary>": "<think>a</think><summary>12",
    "missing </think>": "<think>a<summary>12</summary>",
    "summary before think": "<summary>12</summary><think>a</think>",
    "two summaries": "<think>a</think><summary>1</summary><summary>2</summary>",
    "text after summary": "<think>a</think><summary>1</summary> bye",
    "text before think": "Hi <think>a</think><summary>1</summary>",
    "summary tag inside think": "<think>a <summary>x</summary></think><summary>1</summary>",
    "answer tags instead of summary": "<think>a</think><answer>12</answer>",
    "empty summary": "<think>a</think><summary>\n</summary>",
    "no think": "<summary>12</summary>",
}


@pytest.mark.parametrize("text", READABLE_OK)
def test_readable_accepts(text):
    assert is_readable_format(text)


@pytest.mark.parametrize("case", sorted(READABLE_NEAR_MISSES))
def test_readable_rejects_near_misses(case):
    assert not is_readable_format(READABLE_NEAR_MISSES[case])


def test_the_two_formats_exclude_each_other():
    assert format_r1_zero(READABLE_OK) == [0.0] * len(READABLE_OK)
    assert format_readable(R1_ZERO_OK) == [0.0] * len(R1_ZERO_OK)


def test_conversational_completions():
    chat = [[{"role": "assistant", "content": R1_ZERO_OK[0]}]]
    assert format_r1_zero(chat) == [1.0]
    assert format_readable(chat, answer=["12"], trainer_state=object()) == [0.0]
