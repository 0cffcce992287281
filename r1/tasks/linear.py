"""Linear equations in one unknown, solved by moving terms and dividing.

Difficulty 1: a·x + b = c.  Difficulty >= 2: a·x + b = c·x + e (x on both sides).
Coefficients grow with difficulty; the solution is always a whole number.
"""

from __future__ import annotations

import random

from r1.tasks.arithmetic import parse_int
from r1.tasks.base import Problem, Step, TaskFamily
from r1.tasks.digits import sub_steps


class Linear(TaskFamily):
    name = "linear"

    def sample(self, rng: random.Random, difficulty: int) -> Problem:
        top = 9 * difficulty
        x = rng.randint(1, 20 * difficulty)
        a = rng.randint(2, top)
        b = rng.randint(1, 50 * difficulty)
        if difficulty == 1:
            c = a * x + b
            text, steps = f"{a}x+{b}={c}", []
            k, rhs = a, c
        else:
            c = rng.randint(1, a - 1)
            e_ = (a - c) * x + b
            text = f"{a}x+{b}={c}x+{e_}"
            k, rhs = a - c, e_
            steps = [Step(f"{a}x-{c}x={e_}-{b}", f"{a}x减{c}x等于{e_}减{b}")]
            steps += sub_steps(a, c)[-1:]
            c = e_
        steps += [Step(f"{k}x={rhs}-{b}", f"{k}x等于{rhs}减{b}"), *sub_steps(rhs, b),
                  Step(f"x={rhs - b}/{k}={x}", f"x等于{rhs - b}除以{k}得{x}")]
        return Problem(self.name, f"Solve {text}.", str(x), steps)

    def verify(self, record: dict, answer: str) -> bool:
        value = _solution(answer)
        return value is not None and value == int(record["answer"])

    def vote_key(self, record: dict, answer: str) -> str | None:
        value = _solution(answer)
        return None if value is None else str(value)

    def wrong_answer(self, problem: Problem, rng: random.Random) -> str:
        return str(max(0, int(problem.answer) + rng.choice([-3, -2, -1, 1, 2, 3])))


def _solution(answer: str) -> int | None:
    """The value of `x` in an answer such as `4`, `x=4` or `x = 4`."""
    text = answer.strip()
    if text.lower().startswith("x"):
        text = text[1:].strip()
    return parse_int(text)
