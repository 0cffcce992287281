import builtins
from fractions import Fraction

import pytest

from r1.tasks.expr import MAX_LEN, ExprError, evaluate


@pytest.mark.parametrize("text, value", [
    ("2+3*4", 14),
    ("(2+3)*4", 20),
    ("10-4-3", 3),            # left associative
    ("8/4/2", 1),
    ("2*3+4*5", 26),
    ("12 - (3 - 1)", 10),
    ("((7))", 7),
    ("7/2", Fraction(7, 2)),  # exact, not 3 or 3.5
    ("1/3+1/3+1/3", 1),
    ("2×3÷4", Fraction(3, 2)),
    ("9 − 4", 5),
    ("100/(3-1)*3", 150),
])
def test_values_follow_precedence_and_parentheses(text, value):
    result, _ = evaluate(text)
    assert isinstance(result, Fraction)
    assert result == value


def test_reports_the_numbers_used_in_order():
    assert evaluate("(19+12)-3")[1] == [19, 12, 3]
    assert evaluate("8*((16+8)/4)-20")[1] == [8, 16, 8, 4, 20]


@pytest.mark.parametrize("text", [
    "__import__('os')", "2**3", "x+1", "abs(3)", "", "   ", "(1+2", "1+2)", "((1)", "1+", "*2",
    "1 2", "3/0", "4/(2-2)", "1/(1-1)*5", "1.5+2", "1e3", "2^3", "1;2",
])
def test_rejects_anything_but_arithmetic(text):
    with pytest.raises(ExprError):
        evaluate(text)


def test_rejects_overlong_input():
    text = "+".join(["1"] * (MAX_LEN // 2 + 1))
    assert len(text) > MAX_LEN
    with pytest.raises(ExprError):
        evaluate(text)


def test_division_by_zero_is_an_expr_error_not_zerodivision():
    with pytest.raises(ExprError, match="zero"):
        evaluate("5/(3-3)")


def test_never_calls_eval(monkeypatch):
    from r1.tasks import FAMILIES

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must not be called")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    assert evaluate("(2+3)*4-6/3")[0] == 18
    with pytest.raises(ExprError):
        evaluate("__import__('os').system('true')")
    record = {"task": "countdown", "numbers": [3, 12, 19], "target": 28}
    assert FAMILIES["countdown"].verify(record, "(19+12)-3")
    assert not FAMILIES["countdown"].verify(record, "__import__('os')")
