"""Cold-start data (DeepSeek-R1 stage 1): long, readable chains of thought in one language, as SFT records.

Each record is built from a task generator's reference solution. The prompt is the problem, as the
tiny recipes show it (the chat template renders it; no suffix); the response is R1's readable format:

    <think>
    every step of the reference solution in English, one per line, joined by short sentences
    </think><summary>one sentence ending "so the answer is \\boxed{ANSWER}."</summary>

The summary states the answer in a box, which is where `r1.rewards.extract.extract_answer` reads it.
The base corpus writes a step in English or Chinese at random; here every step is English (record
field `language: en`), and countdown shows the failed attempts of its search before the one that works.
Problems come from the train split only.

    r1 tasks cold-start --n 3000 --out data/cold-start.jsonl
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from r1.errors import R1Error
from r1.tasks import FAMILIES, Problem, Step, get_family, per_family, sample_problems
from r1.tasks.arithmetic import worked_operations

_COLUMN = re.compile(r"1?\d(?:[+*-]\d)*=(\d+)(?: (carry|borrow) (\d))?")
"""One column of a worked +, − or × (see r1.tasks.digits): `4+8+1=13 carry 1`, `12-1-5=6 borrow 1`."""
_RESULT = re.compile(r"(-?\d+)([+*-])(\d+)=-?\d+")
_PLACES = ("ones", "tens", "hundreds", "thousands", "ten thousands", "hundred thousands", "millions")
_INTRO = {"+": "Now add {a}+{b}, one column at a time.", "-": "Now subtract {a}-{b}, one column at a time.",
          "*": "Now multiply {a}*{b}, one digit at a time."}
_ANSWER_CLAUSE = "so the answer is \\boxed{{{answer}}}."
"""How every summary ends: the answer in a box, as the paper's eval prompt asks for it."""


def worked_lines(group: list[Step]) -> list[str]:
    """One binary operation worked column by column (a group of r1.tasks.digits steps), as sentences."""
    *work, result = group
    a, op, b = _RESULT.fullmatch(result.en).groups()
    lines, column = [_INTRO[op].format(a=a, b=b)], 0
    for step in work:
        match = _COLUMN.fullmatch(step.en)
        if not match:  # a rewrite first, e.g. `200<500, so 200-500=-(500-200)`
            lines.append(f"Rewrite it first: {step.en}.")
            continue
        place = _PLACES[column] if column < len(_PLACES) else f"column {column + 1}"
        equation = step.en.split(" ")[0]
        total, kind, amount = match.groups()
        tail = {"carry": f", write {int(total) % 10} and carry {amount}",
                "borrow": ", borrowing 1 from the next column", None: ""}[kind]
        joined = "" if re.search(r"[+*-]", equation) else "nothing to add, "  # a lone digit, e.g. `6=6`
        lines.append(f"{place.capitalize()} column: {joined}{equation}{tail}.")
        column += 1
    return [*lines, f"So {result.en}."]


def _listing(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def arithmetic_lines(problem: Problem, rng: random.Random) -> tuple[list[str], str]:
    expr = problem.problem.removeprefix("Compute ").removesuffix(".")
    tokens = re.findall(r"\d+|[+*-]", expr)
    groups, value = worked_operations([int(t) for t in tokens[::2]], tokens[1::2])
    opening = f"We need to compute {expr}."
    if len(groups) > 1:
        opening += (" Multiplication comes first, then we go" if "*" in expr else " We go") + " from left to right."
    lines = [opening, *(line for group in groups for line in worked_lines(group))]
    if len(groups) > 1:
        lines.append(f"Putting it together, {expr}={value}.")
    summary = f"Working column by column, {expr}={value}, " + _ANSWER_CLAUSE.format(answer=value)
    return lines, summary


def linear_lines(problem: Problem, rng: random.Random) -> tuple[list[str], str]:
    equation = problem.problem.removeprefix("Solve ").removesuffix(".")
    a, b, c, e = re.fullmatch(r"(\d+)x\+(\d+)=(?:(\d+)x\+)?(\d+)", equation).groups()
    a, b, e, x = int(a), int(b), int(e), int(problem.answer)
    steps, lines = problem.steps, [f"We need to solve {equation} for x."]
    if c is None:  # a*x+b=e: [k*x=e-b, the subtraction worked, x=(e-b)/k]
        k, lines = a, [*lines, f"Move {b} to the right side: {steps[0].en}."]
        check = f"Check: {a}*{x}+{b}={a * x + b}, which is the right side."
    else:  # a*x+b=c*x+e: [a*x-c*x=e-b, a-c=k, k*x=e-b, the subtraction worked, x=(e-b)/k]
        k, steps = a - int(c), steps[2:]
        lines += [f"Bring the x terms to the left and the numbers to the right: {problem.steps[0].en}.",
                  f"Since {problem.steps[1].en}, this is {steps[0].en}."]
        check = f"Check: {a}*{x}+{b}={a * x + b} and {c}*{x}+{e}={int(c) * x + e}, so both sides agree."
    lines += [*worked_lines(steps[1:-1]), f"Divide both sides by {k}: {steps[-1].en}.", check]
    summary = (f"Moving the numbers to the right and dividing by {k} gives x={x}, "
               + _ANSWER_CLAUSE.format(answer=x))
    return lines, summary


def countdown_lines(problem: Problem, rng: random.Random) -> tuple[list[str], str]:
    """The search as the family's `reasoning` gives it: failed attempts, then the one that works."""
    numbers, target = problem.fields["numbers"], problem.fields["target"]
    search = get_family("countdown").reasoning(problem, rng)
    lines = [f"We need to make {target} from {_listing(numbers)}, using each number exactly once."]
    first = True
    for step in search[:-1]:
        if step.en.endswith(", try again"):
            value = step.en.split("!=")[0]
            lines.append(f"That gives {value}, not {target}; try another way.")
            first = True
        else:
            lines.append(f"{'Try' if first else 'Then'} {step.en}.")
            first = False
    lines += [f"That makes {target}, so {search[-1].en} works.",
              f"Check: it uses {_listing(numbers)}, each exactly once."]
    summary = (f"Combining the numbers as {problem.answer} gives {target}, "
               + _ANSWER_CLAUSE.format(answer=problem.answer))
    return lines, summary


WRITERS: dict[str, Callable[[Problem, random.Random], tuple[list[str], str]]] = {
    "arithmetic": arithmetic_lines, "countdown": countdown_lines, "linear": linear_lines}
"""Per family: (the reasoning's lines, the summary) of a problem's reference solution."""


def steps_lines(problem: Problem, rng: random.Random) -> tuple[list[str], str]:
    """The base corpus's own reasoning steps, every one in English, framed by an opening sentence."""
    steps = get_family(problem.task).reasoning(problem, rng)
    opening = _OPENINGS[problem.task].format(**_opening_fields(problem))
    return [opening, *(step.en for step in steps)], f"{steps[-1].en}, " + _ANSWER_CLAUSE.format(answer=problem.answer)


_OPENINGS = {"arithmetic": "We need to compute {body}.", "linear": "We need to solve {body} for x.",
             "countdown": "We need to make {target} from {numbers}, using each number once."}


def _opening_fields(problem: Problem) -> dict[str, str]:
    body = re.sub(r"^(Compute|Solve) |\.$", "", problem.problem)
    numbers = problem.fields.get("numbers")
    return {"body": body, "target": problem.fields.get("target", ""),
            "numbers": _listing(numbers) if numbers else ""}


STYLES = ("prose", "steps")
"""prose: every step as an English sentence (readable to people; a model must know English to learn
it). steps: the steps the base corpus reasons in, all in English, with an opening sentence and the
summary; for the tiny base model, which knows those steps and little English (docs/r1-stages.md)."""


def readable_response(problem: Problem, rng: random.Random, style: str = "prose") -> str:
    """`<think>\\nline\\nline\\n</think><summary>summary</summary>` for one problem."""
    if problem.task not in WRITERS:
        raise R1Error(f"families: no cold-start writer for {problem.task!r} (known: {', '.join(WRITERS)})")
    if style not in STYLES:
        raise R1Error(f"style: {style!r} is not one of {', '.join(STYLES)}")
    write = WRITERS[problem.task] if style == "prose" else steps_lines
    lines, summary = write(problem, rng)
    return "<think>\n" + "\n".join(lines) + "\n</think><summary>" + summary + "</summary>"


def cold_start_records(n: int, seed: int = 0, families: list[str] | None = None,
                       difficulty: int | None = None, style: str = "prose") -> list[dict[str, Any]]:
    """`n` SFT records (split evenly over `families`, default all) from train-split problems.

    Each has the problem's record fields (`id`, `task`, `problem`, `answer`, …, so the tiny verifiers
    score it) plus `prompt`, `response`, `language` ("en") and `prompt_type` ("reasoning").
    """
    if n < 1:
        raise R1Error(f"n: the number of cold-start records must be >= 1, got {n}")
    records = []
    for name, count in per_family(n, families or list(FAMILIES)):
        level = difficulty or get_family(name).default_difficulty
        for i, problem in enumerate(sample_problems(name, "train", count, seed, difficulty)):
            record = problem.record(f"cold-start-{name}-{seed}-{i:05d}", level)
            del record["solution"]  # the response is the solution, written out
            response = readable_response(problem, random.Random(f"cold-start/{name}/{seed}/{i}"), style)
            records.append({**record, "prompt": problem.problem, "response": response, "language": "en",
                            "prompt_type": "reasoning"})
    return records
