"""Answer extraction and GSM8K number normalisation."""

import pytest

from r1.rewards.extract import extract_answer, last_boxed, normalize_number, parse_number, think_text


@pytest.mark.parametrize("text, expected", [
    (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
    (r"first \boxed{1} then \boxed{\sqrt{\frac{a}{b}}}", r"\sqrt{\frac{a}{b}}"),
    (r"\fbox{7}", "7"),
    (r"\boxed {42}", "42"),
    (r"\boxed{unclosed {", None),
    ("no box", None),
])
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_answer_tag_wins_over_boxed_and_last_tag_wins():
    text = r"\boxed{1} <answer>2</answer> \boxed{3} <answer> 4 </answer>"
    assert extract_answer(text) == "4"


def test_boxed_inside_answer_is_unwrapped():
    assert extract_answer(r"<answer>The answer is \boxed{x^2}.</answer>") == "x^2"


def test_boxed_when_no_tags():
    assert extract_answer(r"so $\boxed{ 12 }$.") == "12"


@pytest.mark.parametrize("fallback, expected", [
    ("none", None), ("last_number", "1234"), ("text", "we get 7 and then 1,234 apples"),
])
def test_fallbacks(fallback, expected):
    assert extract_answer("  we get 7 and then 1,234 apples ", fallback=fallback) == expected


def test_unclosed_answer_tag_is_not_an_answer():
    assert extract_answer("<answer>12") is None


@pytest.mark.parametrize("text, expected", [
    ("$1,234.00 dollars", "1234"),
    ("18", "18"),
    (r"\$18", "18"),
    ("-5 degrees", "-5"),
    ("−5", "-5"),
    ("5-3", "3"),
    ("3.50 per hour", "3.5"),
    ("1,2,3", "3"),
    ("0.0", "0"),
    ("-0", "0"),
    (".5", "0.5"),
    ("1000000", "1000000"),
    ("She has 12 apples and 30 pears.", "30"),
    ("none", None),
    ("", None),
    (None, None),
])
def test_normalize_number(text, expected):
    assert normalize_number(text) == expected


def test_parse_number_compares_numerically():
    assert parse_number("18.00") == parse_number("18") == 18


@pytest.mark.parametrize("text, expected", [
    ("<think>a\nb</think><answer>1</answer>", "a\nb"),
    ("a</think><answer>1</answer>", "a"),
    ("<think>never closed", "never closed"),
    ("plain text", "plain text"),
])
def test_think_text(text, expected):
    assert think_text(text) == expected


READABLE = r"<think>7+5=12</think><summary>Adding gives 7+5=12, so the answer is \boxed{12}.</summary>"


@pytest.mark.parametrize("text, expected", [
    (READABLE, "12"),
    # the summary wins over a box tried in the reasoning, even one that comes later in a malformed text
    (r"<think>first \boxed{11}, no</think><summary>so the answer is \boxed{12}.</summary>", "12"),
    (r"<summary>so \boxed{12}.</summary> then \boxed{13}", "12"),
    # a summary that states no boxed answer gives none, not the reasoning's box
    (r"<think>\boxed{11}</think><summary>the answer is twelve</summary>", None),
    # the last summary counts, as the last <answer> does
    (r"<summary>\boxed{1}</summary><summary>\boxed{2}</summary>", "2"),
    # an unclosed summary is no summary: the old rule (last box anywhere) applies
    (r"<think>\boxed{11}</think><summary>so \boxed{12}", "12"),
    (r"<think>\boxed{11}</think><summary>so 12", "11"),
])
def test_readable_format_answer_is_read_from_the_summary(text, expected):
    assert extract_answer(text) == expected


def test_answer_tag_still_wins_over_a_summary():
    assert extract_answer(r"<summary>\boxed{1}</summary><answer>2</answer>") == "2"
    assert extract_answer(r"<think>a</think><answer>3</answer><summary>\boxed{4}</summary>") == "3"


@pytest.mark.parametrize("fallback, expected", [
    ("none", None), ("last_number", "12"), ("text", "7 and 5 make 12 apples"),
])
def test_fallbacks_look_only_inside_the_summary(fallback, expected):
    text = "<think>try 99 first</think><summary> 7 and 5 make 12 apples </summary> 100"
    assert extract_answer(text, fallback=fallback) == expected
