"""Code accuracy: run the completion's last Python code block against the record's assert tests.

The program runs in the sandbox (r1.rewards.sandbox): the record's `test_imports`, then the code,
then each line of `test_list`. The reward is 1.0 only when every assert ran and passed
(`fraction=True`: the share that passed). A completion without a code block scores 0.0.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from r1.rewards.registry import completion_texts, register
from r1.rewards.sandbox import RunResult, run_many

# An opening fence with an optional language tag, the body, and the closing fence.
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_PYTHON_TAGS = {"", "python", "py", "python3", "py3"}


def extract_code(text: str) -> str | None:
    """The body of the last ```python (or untagged) fenced block; None if there is none.

    >>> extract_code("try:\\n```python\\nx = 1\\n```\\nthen\\n```\\nx = 2\\n```\\n```bash\\nls\\n```")
    'x = 2\\n'
    >>> extract_code("no code here") is None
    True
    """
    blocks = [body for tag, body in _FENCE.findall(text) if tag.lower() in _PYTHON_TAGS]
    return blocks[-1] if blocks else None


def _as_list(value: Any) -> list[str]:
    """A record's test_list / test_imports as a list of strings (None -> [], one string -> [it])."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


@register("code_accuracy")
def code_accuracy(completions: Sequence[Any], test_list: Sequence[Any],
                  test_imports: Sequence[Any] | None = None, fraction: bool = False,
                  timeout_s: float = 5.0, memory_mb: int = 512, workers: int | None = None,
                  **kwargs: Any) -> list[float]:
    """1.0 per completion whose last code block passes every test of its record, else 0.0.

    TRL-compatible: `completions` are strings or chat turn lists (the last message is scored);
    `test_list` and `test_imports` hold one entry per completion. Programs run in parallel,
    `workers` at a time (default: one per CPU core). `fraction=True` scores passed / total.
    """
    texts = completion_texts(completions)
    n = len(texts)
    imports = list(test_imports) if test_imports is not None else [None] * n
    if len(test_list) != n or len(imports) != n:
        raise ValueError(f"{n} completions but {len(test_list)} test lists / {len(imports)} imports")
    jobs, index = [], []
    for i, text in enumerate(texts):
        code = extract_code(text)
        tests = _as_list(test_list[i])
        if code is not None and tests:
            jobs.append({"code": code, "tests": tests, "imports": _as_list(imports[i]),
                         "timeout_s": timeout_s, "memory_mb": memory_mb})
            index.append(i)
    scores = [0.0] * n
    for i, result in zip(index, run_many(jobs, workers)):
        scores[i] = _score(result, fraction)
    return scores


def _score(result: RunResult, fraction: bool) -> float:
    if fraction:
        return result.fraction
    return 1.0 if result.status == "ok" and result.passed == result.total else 0.0
