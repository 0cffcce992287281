"""The column-by-column steps must be real arithmetic: every column right, the result right."""

import random
import re

import pytest

from r1.tasks.digits import add_steps, mul_steps, no_carry_add, sub_steps
from r1.tasks.expr import evaluate

_ADD = re.compile(r"^(\d(?:\+\d)*)=(\d+)( carry 1)?$")
_SUB = re.compile(r"^(1?)(\d)(?:-(1))?-(\d)=(\d)( borrow 1)?$")
_MUL = re.compile(r"^(\d)\*(\d)(?:\+(\d))?=(\d+)( carry (\d))?$")


def _pairs(n=400, seed=0, low=0, high=99999):
    rng = random.Random(seed)
    pairs = [(rng.randint(low, high), rng.randint(low, high)) for _ in range(n)]
    return pairs + [(0, 0), (9, 1), (999, 1), (1000, 999), (5, 5), (10, 10), (99999, 99999)]


def _digits(n):
    return [int(c) for c in reversed(str(n))]


def check_add(a, b, steps):
    *columns, final = [s.en for s in steps]
    assert final == f"{a}+{b}={a + b}"
    da, db = _digits(a), _digits(b)
    assert len(columns) == max(len(da), len(db))
    carry, result_digits = 0, []
    for i, line in enumerate(columns):
        m = _ADD.match(line)
        assert m, line
        terms, total = [int(t) for t in m[1].split("+")], int(m[2])
        assert sum(terms) == total, line
        column = [d[i] for d in (da, db) if i < len(d)]
        assert terms == column + ([carry] if carry else []), (a, b, line)
        last = i == len(columns) - 1
        assert bool(m[3]) == (total >= 10 and not last), line  # "carry 1" said exactly when it happens
        carry = total // 10
        result_digits.append(str(total) if last else str(total % 10))
    assert int("".join(reversed(result_digits))) == a + b


def check_sub(a, b, steps):
    lines = [s.en for s in steps]
    assert lines[-1] == f"{a}-{b}={a - b}"
    if a < b:
        assert lines[0] == f"{a}<{b}, so {a}-{b}=-({b}-{a})"
        check_sub(b, a, sub_steps(b, a))
        assert lines[1:-1] == [s.en for s in sub_steps(b, a)[:-1]]
        return
    da, db = _digits(a), _digits(b)
    borrow, result_digits = 0, []
    for i, line in enumerate(lines[:-1]):
        m = _SUB.match(line)
        assert m, line
        need, top, borrow_in, bottom, value = bool(m[1]), int(m[2]), int(m[3] or 0), int(m[4]), int(m[5])
        assert top == da[i] and bottom == (db[i] if i < len(db) else 0), (a, b, line)
        assert borrow_in == borrow, line
        assert value == 10 * need + top - borrow_in - bottom, line
        assert need == (top - borrow_in < bottom) and bool(m[6]) == need, line
        borrow = int(need)
        result_digits.append(str(value))
    columns = len(lines) - 1
    assert borrow == 0  # a >= b: nothing left owing
    untouched = str(a)[: len(da) - columns]  # the columns not worked on are copied down
    assert int(untouched + "".join(reversed(result_digits))) == a - b


def check_mul(a, d, steps):
    *columns, final = [s.en for s in steps]
    assert final == f"{a}*{d}={a * d}"
    da = _digits(a)
    assert len(columns) == len(da)
    carry, result_digits = 0, []
    for i, line in enumerate(columns):
        m = _MUL.match(line)
        assert m, line
        digit, factor, carry_in, total = int(m[1]), int(m[2]), int(m[3] or 0), int(m[4])
        assert digit == da[i] and factor == d and carry_in == carry, (a, d, line)
        assert total == digit * factor + carry_in, line
        last = i == len(columns) - 1
        assert (m[5] is not None) == (total >= 10 and not last), line
        if m[5]:
            assert int(m[6]) == total // 10
        carry = total // 10
        result_digits.append(str(total) if last else str(total % 10))
    assert int("".join(reversed(result_digits))) == a * d


@pytest.mark.parametrize("a, b", _pairs())
def test_add_steps(a, b):
    check_add(a, b, add_steps(a, b))


@pytest.mark.parametrize("a, b", _pairs(seed=1) + [(3, 998), (100, 1), (1, 100)])
def test_sub_steps(a, b):
    check_sub(a, b, sub_steps(a, b))


def test_mul_steps():
    rng = random.Random(2)
    for a in [0, 1, 9, 10, 99, 999, *(rng.randint(0, 99999) for _ in range(300))]:
        for d in range(10):
            check_mul(a, d, mul_steps(a, d))


def _line_value(side):
    return evaluate("0" + side if side.startswith("-") else side)[0]


@pytest.mark.parametrize("a, b", [(-800, 500), (-5, 995), (-999, 999), (-1, 0), (-123, 4567)])
def test_negative_running_value(a, b):
    """Chains like 100-900+500 pass a negative value on to the next step."""
    for steps, op, value in ((add_steps(a, b), "+", a + b), (sub_steps(a, b), "-", a - b)):
        assert steps[-1].en == f"{a}{op}{b}={value}"
        for step in steps:
            line = re.sub(r" (carry|borrow) 1$", "", step.en)
            if "<" not in line:
                assert len({_line_value(side) for side in line.split("=")}) == 1, line
            assert re.findall(r"\d+", step.en) == re.findall(r"\d+", step.zh), step


def test_chinese_steps_carry_the_same_numbers():
    rng = random.Random(3)
    for _ in range(200):
        a, b, d = rng.randint(0, 9999), rng.randint(0, 9999), rng.randint(0, 9)
        for steps in (add_steps(a, b), sub_steps(a, b), mul_steps(a, d)):
            for step in steps:
                assert re.findall(r"\d+", step.en) == re.findall(r"\d+", step.zh), step
                assert re.search(r"[\u4e00-\u9fff]", step.zh), step


def test_checker_catches_a_wrong_column():
    """The checks above can fail: a single wrong digit in one column is caught."""
    from r1.tasks.base import Step

    steps = add_steps(467, 385)
    broken = [Step(steps[1].en.replace("=15", "=14"), steps[1].zh), *steps[2:]]
    with pytest.raises(AssertionError):
        check_add(467, 385, [steps[0], *broken])


def test_no_carry_add_drops_exactly_the_carries():
    assert no_carry_add(467, 385) == 742
    assert no_carry_add(12, 34) == 46
    assert no_carry_add(5, 995) == 990
