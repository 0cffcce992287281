"""Multi-step arithmetic: chains of + − × over 3-digit numbers, worked column by column.

Difficulty d: d+1 operands; − joins at d >= 2; × by a one-digit number at d >= 3.
"""

from __future__ import annotations

import random
import re

from r1.tasks.base import Problem, Step, TaskFamily
from r1.tasks.digits import add_steps, mul_steps, no_carry_add, sub_steps

_INT = re.compile(r"^[+-]?\d+$")


def parse_int(text: str) -> int | None:
    """An integer answer; tolerates spaces, thousands commas and a leading `=`."""
    text = text.strip().lstrip("=").replace(",", "").replace(" ", "")
    return int(text) if _INT.match(text) else None


class Arithmetic(TaskFamily):
    name = "arithmetic"

    def sample(self, rng: random.Random, difficulty: int) -> Problem:
        ops = ["+"] + (["-"] if difficulty >= 2 else []) + (["*"] if difficulty >= 3 else [])
        terms: list[int] = [rng.randint(100, 999)]
        chosen: list[str] = []
        for _ in range(difficulty):
            op = rng.choice(ops)
            chosen.append(op)
            terms.append(rng.randint(2, 9) if op == "*" else rng.randint(100, 999))
        text = str(terms[0]) + "".join(f"{op}{t}" for op, t in zip(chosen, terms[1:]))
        groups, value = worked_operations(terms, chosen)
        steps = [step for group in groups for step in group]
        return Problem(self.name, f"Compute {text}.", str(value), steps)

    def verify(self, record: dict, answer: str) -> bool:
        value = parse_int(answer)
        return value is not None and value == int(record["answer"])

    def vote_key(self, record: dict, answer: str) -> str | None:
        value = parse_int(answer)
        return None if value is None else str(value)

    def wrong_answer(self, problem: Problem, rng: random.Random) -> str:
        truth = int(problem.answer)
        sums = re.fullmatch(r"Compute (\d+)\+(\d+)\.", problem.problem)
        if sums and no_carry_add(int(sums[1]), int(sums[2])) != truth:
            return str(no_carry_add(int(sums[1]), int(sums[2])))
        return str(truth + rng.choice([-100, -10, -1, 1, 10, 100]))


def worked_operations(terms: list[int], ops: list[str]) -> tuple[list[list[Step]], int]:
    """The steps of each binary operation in the order worked (× first, then + and − left to right),
    each shown column by column and ending with its result; and the final value."""
    groups: list[list[Step]] = []
    terms, ops = list(terms), list(ops)
    while "*" in ops:
        i = ops.index("*")
        groups.append(mul_steps(terms[i], terms[i + 1]))
        terms[i : i + 2] = [terms[i] * terms[i + 1]]
        del ops[i]
    value = terms[0]
    for op, term in zip(ops, terms[1:]):
        groups.append(add_steps(value, term) if op == "+" else sub_steps(value, term))
        value = value + term if op == "+" else value - term
    return groups, value
