"""Math accuracy (math-verify equivalence, fast paths, bad golds, threads) and the GSM8K scorer."""

import logging
import threading

import pytest

from r1.rewards.math import gsm8k_accuracy, math_accuracy, math_equal


def boxed(answer: str) -> str:
    return f"<think>work</think> so the answer is $\\boxed{{{answer}}}$."


@pytest.mark.parametrize("gold, answer", [
    (r"\frac{1}{2}", "0.5"),
    ("0.5", r"\dfrac{1}{2}"),
    (r"\frac{14}{3}", r"\frac{28}{6}"),
    ("23", "023"),
    (r"-\frac{3}{4}", "-0.75"),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3, \pi/2)"),
    (r"(-\infty, 3]", r"(-\infty,3]"),
    (r"[2,5)", r"[2, 5)"),
    (r"(1,2)", r"\left(1, 2\right)"),
    ("3, 5, 7", "7, 5, 3"),
    (r"5\text{ cm}", "5"),
    (r"\$36", "36"),
    (r"\$32,\!348", "32348"),
    ("1000", r"1\,000"),
    (r"\frac{1}{2}", r"\frac {1} {2}"),
    (r"10\%", r"10\%"),
    (r"\text{Evelyn}", r"\text{Evelyn}"),
    (r"3\sqrt{13}", r"\sqrt{117}"),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}"),
    ("x = 5", "5"),
])
def test_equivalent(gold, answer):
    assert math_equal(gold, answer)
    assert math_accuracy([boxed(answer)], answer=[gold]) == [1.0]


@pytest.mark.parametrize("gold, answer", [
    (r"\frac{1}{3}", "0.333"),          # a decimal counts only where it is exact
    (r"(-\infty, 3]", r"(-\infty, 3)"),  # closed vs open interval
    ("(1,2)", "(2,1)"),                 # tuples are ordered
    ("12", "13"),
    (r"\frac{14}{3}", r"\frac{3}{14}"),
    (r"3\sqrt{13}", r"3\sqrt{12}"),
    ("5", "x"),
    ("23", "2 3"),                      # a space between digits is not thousands formatting
])
def test_not_equivalent(gold, answer):
    assert not math_equal(gold, answer)
    assert math_accuracy([boxed(answer)], answer=[gold]) == [0.0]


def test_no_answer_scores_zero_unless_lenient():
    completion = "the answer is $\\frac{1}{2}$"
    assert math_accuracy([completion], answer=["0.5"]) == [0.0]
    assert math_accuracy([completion], answer=["0.5"], fallback="text") == [1.0]


def test_conversational_completions_use_last_message():
    chat = [{"role": "user", "content": r"\boxed{7}"}, {"role": "assistant", "content": r"\boxed{0.5}"}]
    assert math_accuracy([chat], answer=[r"\frac12"]) == [1.0]


@pytest.mark.parametrize("gold", ["", None, "}{", r"\boxed{}"])
def test_unparseable_gold_scores_zero_and_warns_with_id(gold, caplog):
    same = "" if gold is None else gold
    with caplog.at_level(logging.WARNING, logger="r1.rewards.math"):
        scores = math_accuracy([f"<answer>{same}</answer>", "<answer>1</answer>"], answer=[gold, gold],
                               id=[f"bad-{gold!r}", f"bad-{gold!r}"])
    assert scores == [0.0, 0.0]
    assert f"bad-{gold!r}" in caplog.text and "cannot be parsed" in caplog.text


def test_math_accuracy_in_a_thread():
    # math-verify's signal-based timeout raises outside the main thread unless turned off there.
    results, errors = [], []

    def work():
        try:
            results.append(math_accuracy([boxed(r"\frac{\sqrt{3}}{3}"), boxed("(1, 2)")],
                                         answer=[r"\frac{1}{\sqrt{3}}", "(2,1)"]))
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not errors and results == [[1.0, 0.0]]


def test_extra_kwargs_are_ignored():
    scores = math_accuracy([boxed("2")], answer=["2"], prompts=["p"], trainer_state=None, task=["math"])
    assert scores == [1.0]


@pytest.mark.parametrize("completion, gold, expected", [
    (r"\boxed{18}", "18", 1.0),
    ("<answer>$1,234.00 dollars</answer>", "1234", 1.0),
    (r"\boxed{\$18.00}", "18", 1.0),
    ("She makes 9 * 2 = $18 every day.", "18", 1.0),   # last number, GSM8K style
    ("<answer>18 dollars per 7 days</answer>", "18", 0.0),  # the final number is 7
    (r"\boxed{19}", "18", 0.0),
    ("no number", "18", 0.0),
    (r"\boxed{-3}", "-3", 1.0),
])
def test_gsm8k_accuracy(completion, gold, expected):
    assert gsm8k_accuracy([completion], answer=[gold]) == [expected]


def test_gsm8k_bad_gold_warns(caplog):
    with caplog.at_level(logging.WARNING):
        assert gsm8k_accuracy([r"\boxed{1}"], answer=["n/a"], id=["gsm8k-x"]) == [0.0]
    assert "gsm8k-x" in caplog.text
