"""Countdown: combine the given numbers with + − × ÷, each exactly once, to reach the target.

Any valid expression is accepted; it is checked with a safe parser (r1.tasks.expr), never `eval`.
Difficulty d: d+2 numbers.
"""

from __future__ import annotations

import random
from collections import Counter

from r1.tasks.base import Problem, Step, TaskFamily
from r1.tasks.expr import ExprError, evaluate

_ZH = {"+": "加", "-": "减", "*": "乘", "/": "除以"}


def _combine(rng: random.Random, items: list[tuple[int, str]]) -> tuple[list[Step], int, str] | None:
    """Fold the numbers into one by random operations with whole, positive intermediate results."""
    items, steps = list(items), []
    rng.shuffle(items)
    while len(items) > 1:
        (a, ea), (b, eb) = items.pop(), items.pop()
        a, ea, b, eb = (a, ea, b, eb) if a >= b else (b, eb, a, ea)
        options = [("+", a + b), ("*", a * b)]
        options += [("-", a - b)] if a > b else []
        options += [("/", a // b)] if b > 1 and a % b == 0 else []
        op, value = rng.choice(options)
        steps.append(Step(f"{a}{op}{b}={value}", f"{a}{_ZH[op]}{b}得{value}"))
        items.append((value, f"({ea}{op}{eb})"))
    value, expr = items[0]
    return steps, value, expr[1:-1] if expr.startswith("(") else expr


class Countdown(TaskFamily):
    name = "countdown"

    def sample(self, rng: random.Random, difficulty: int) -> Problem:
        while True:
            numbers = sorted(rng.randint(1, 20) for _ in range(difficulty + 2))
            steps, target, expr = _combine(rng, [(n, str(n)) for n in numbers])
            if 10 <= target <= 200:
                break
        nums = " ".join(map(str, numbers))
        steps.append(Step(f"{expr}={target}", f"{expr}得{target}"))
        return Problem(self.name, f"Use {nums} to make {target}.", expr, steps,
                       {"numbers": numbers, "target": target})

    def verify(self, record: dict, answer: str) -> bool:
        expr = answer.split("=")[0]
        try:
            value, used = evaluate(expr)
        except ExprError:
            return False
        return value == record["target"] and Counter(used) == Counter(record["numbers"])

    def vote_key(self, record: dict, answer: str) -> str | None:
        """The value reached and the numbers used: correctness depends on both, not on the value alone."""
        try:
            value, used = evaluate(answer.split("=")[0])
        except ExprError:
            return None
        return f"{value} from {' '.join(map(str, sorted(used)))}"

    def wrong_answer(self, problem: Problem, rng: random.Random) -> str:
        numbers, target = problem.fields["numbers"], problem.fields["target"]
        for _ in range(20):  # a random combination reaches the target by chance ~8% of the time
            _, value, expr = _combine(rng, [(n, str(n)) for n in numbers])
            if value != target:
                return expr
        return f"({expr})+1"

    def reasoning(self, problem: Problem, rng: random.Random) -> list[Step]:
        """Shows a failed attempt or two before the one that works, as a search would."""
        numbers, target = problem.fields["numbers"], problem.fields["target"]
        steps: list[Step] = []
        for _ in range(rng.choice([0, 1, 1, 2])):
            tried, value, _ = _combine(rng, [(n, str(n)) for n in numbers])
            if value != target:
                steps += [*tried, Step(f"{value}!={target}, try again", f"{value}不等于{target}，再试")]
        return steps + problem.steps
