"""code_accuracy: the last Python block of a completion, run against its record's asserts."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

import r1.rewards.code as code_module
from r1.rewards.code import code_accuracy, extract_code
from r1.rewards.registry import get_reward

MBPP = Path(code_module.__file__).parents[1] / "data/benchmarks/mbpp_sanitized/test.jsonl"
ADD_TESTS = ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(2, 2) == 4"]


def fenced(code: str, tag: str = "python") -> str:
    return f"Let me think.\n```{tag}\n{code}\n```\nDone."


def test_extract_code_takes_the_last_python_or_untagged_block():
    text = "```python\nx = 1\n```\nbetter:\n```py\nx = 2\n```\n```bash\nls\n```\n```text\nout\n```"
    assert extract_code(text) == "x = 2\n"
    assert extract_code("```\nx = 3\n```") == "x = 3\n"
    assert extract_code("  ```Python3\n  y = 1\n  ```") == "  y = 1\n"
    assert extract_code("def f(): pass") is None
    assert extract_code("```python\nunclosed = True\n") is None


def test_correct_wrong_and_missing_code():
    completions = [fenced("def add(a, b):\n    return a + b"), fenced("def add(a, b):\n    return a * b"),
                   "def add(a, b):\n    return a + b", fenced("def add(a, b):\n    return a + b", "js")]
    scores = code_accuracy(completions, [ADD_TESTS] * 4, [[]] * 4)
    assert scores == [1.0, 0.0, 0.0, 0.0]


def test_fraction_mode_gives_partial_credit():
    completion = fenced("def add(a, b):\n    return a * b")  # right for 2 + 2 and 0 + 0 only
    assert code_accuracy([completion], [ADD_TESTS]) == [0.0]
    assert code_accuracy([completion], [ADD_TESTS], fraction=True) == [pytest.approx(2 / 3)]


def test_chat_completions_imports_and_a_timeout():
    chat = [[{"role": "assistant", "content": fenced("def root(x):\n    return sqrt(x)")}],
            [{"role": "assistant", "content": fenced("def root(x):\n    while True:\n        pass")}]]
    tests = [["assert root(9) == 3"]] * 2
    imports = [["from math import sqrt"]] * 2
    assert code_accuracy(chat, tests, imports, timeout_s=1) == [1.0, 0.0]
    assert code_accuracy(chat[:1], tests[:1]) == [0.0]  # no import: NameError
    assert code_accuracy(chat[:1], ["assert root(4) == 2"], ["import math\nsqrt = math.sqrt"]) == [1.0]


def test_no_tests_scores_zero_and_mismatched_lengths_raise():
    assert code_accuracy([fenced("x = 1")], [[]]) == [0.0]
    with pytest.raises(ValueError):
        code_accuracy([fenced("x = 1")] * 2, [["assert x"]])


def test_registered_and_documented():
    assert get_reward("code_accuracy") is code_accuracy
    result = doctest.testmod(code_module)
    assert result.attempted > 0 and result.failed == 0


def test_mbpp_reference_solutions_pass_and_mismatched_ones_do_not():
    records = [json.loads(line) for line in MBPP.read_text().splitlines() if line.strip()]
    assert len(records) > 200
    completions = [fenced(r["solution"]) for r in records]
    tests = [r["test_list"] for r in records]
    imports = [r["test_imports"] for r in records]
    # mbpp-123's reference takes ~3 s of CPU: a long limit so busy CI cores do not time it out.
    scores = code_accuracy(completions, tests, imports, timeout_s=30)
    failing = [r["id"] for r, s in zip(records, scores) if s != 1.0]
    assert failing == []
    shifted = code_accuracy(completions, tests[1:] + tests[:1], imports[1:] + imports[:1])
    assert sum(shifted) / len(shifted) < 0.05
