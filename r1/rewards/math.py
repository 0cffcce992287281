r"""Math accuracy: the extracted answer against the gold, by LaTeX equivalence (math-verify), and GSM8K's
numeric check of the final number.

math-verify decides equivalence (`\frac{1}{2}` = `0.5`, intervals, tuples, `\text{}` units). Three
things around it:
- both sides are parsed as one boxed expression (`\boxed{gold}`), because math-verify's parse of bare
  LaTeX finds only what its regexes expect (`(1,2)` alone parses to nothing);
- before math-verify (~20 ms a parse), two fast paths: the same string once spacing macros are
  dropped, and exact comparison when both sides are plain numbers or fractions (most golds of GSM8K,
  AIME, MATH and the tiny world), so 0.5 = \frac{1}{2} but 0.333 != \frac{1}{3};
- math-verify times out with SIGALRM, which only works in a process's main thread; in any other thread
  (a trainer's reward worker) it runs without a timeout rather than raising.
A gold that cannot be parsed scores 0 with a logged warning, never 1.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from fractions import Fraction
from typing import Any, Sequence

from r1.rewards.extract import Fallback, extract_answer, parse_number
from r1.rewards.registry import completion_texts, register

logger = logging.getLogger(__name__)

TIMEOUT_S = 5
"""Seconds math-verify may spend parsing or comparing one expression (main thread only)."""
_DELIMS = ((r"\(", r"\)"), (r"\[", r"\]"), ("$$", "$$"), ("$", "$"))
# Spacing and sizing that never change a value; removed before the string and number fast paths.
_NOISE = re.compile(r"\\left|\\right|\\[!,;: ]|\\\$|(?<!\d)\s+|\s+(?!\d)")  # "2 3" keeps its space
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_FRAC = re.compile(r"([+-]?)\\[dt]?frac(?:\{([+-]?\d+)\}|(\d))(?:\{([+-]?\d+)\}|(\d))")
_warned: set[tuple[Any, str]] = set()


def _timeout() -> int | None:
    # signal.alarm only works in the main thread; elsewhere math-verify must run without a timeout.
    return TIMEOUT_S if threading.current_thread() is threading.main_thread() else None


def _unwrap(text: str) -> str:
    text = text.strip()
    for left, right in _DELIMS:
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            return text[len(left) : -len(right)].strip()
    return text


@functools.lru_cache(maxsize=65536)
def _canonical(text: str) -> tuple[str, Fraction | None]:
    """(the answer without spacing macros, its exact value if it is a plain number or fraction)."""
    canon = _NOISE.sub("", _unwrap(text)).rstrip(".").replace("\\dfrac", "\\frac")
    if _NUMBER.fullmatch(canon):
        return canon, Fraction(canon)
    frac = _FRAC.fullmatch(canon)
    if frac:
        sign, num, den = frac[1], int(frac[2] or frac[3]), int(frac[4] or frac[5])
        if den:
            return canon, Fraction(-num if sign == "-" else num, den)
    return canon, None


@functools.lru_cache(maxsize=16384)
def parse_math(text: str) -> tuple:
    r"""math-verify's parse of one answer (sympy objects, then the string); () when nothing parses.

    Cached: golds repeat across a group of samples, and so do the answers a policy converges on.

    >>> parse_math(r"\frac{1}{2}")[0]
    1/2
    """
    from math_verify import LatexExtractionConfig, parse

    body = _unwrap(text)
    if not body:
        return ()
    if "$" in body.replace("\\$", "") or "\\(" in body:  # prose with inline math: math-verify finds it
        return tuple(parse(body, parsing_timeout=_timeout()))
    parsed = parse("\\boxed{" + body + "}", extraction_config=[LatexExtractionConfig()],
                   parsing_timeout=_timeout())
    return tuple(parsed) or tuple(parse(body, parsing_timeout=_timeout()))


def _parse_free(text: str) -> tuple:
    from math_verify import parse

    return tuple(parse(text, parsing_timeout=_timeout()))


def _warn_gold(gold: Any, record_id: Any) -> None:
    key = (record_id, str(gold))
    if key not in _warned:  # once per record, not once per sample
        _warned.add(key)
        logger.warning("record %s: gold answer %r cannot be parsed; its completions score 0",
                       record_id if record_id is not None else "?", gold)


def math_equal(gold: Any, answer: str | None, record_id: Any = None, free_text: bool = False) -> bool:
    r"""Whether `answer` is mathematically equivalent to `gold` (both LaTeX or plain text).

    `free_text`: `answer` is prose, and math-verify picks the expression out of it (not cached).

    >>> math_equal(r"\frac{14}{3}", r"\dfrac{14}{3}"), math_equal("0.5", r"\frac12"), math_equal("23", "023")
    (True, True, True)
    >>> math_equal(r"(-\infty, 3]", r"(-\infty, 3)"), math_equal("5", None)
    (False, False)
    """
    gold = "" if gold is None else str(gold)
    gold_canon, gold_value = _canonical(gold)
    if gold_value is None and not any(not isinstance(x, str) for x in parse_math(gold)):
        _warn_gold(gold, record_id)  # only a string came back: nothing to compare against
        return False
    if answer is None:
        return False
    if not free_text:
        # Fast paths before math-verify (~20 ms a parse): the same string, or two plain numbers.
        canon, value = _canonical(answer)
        if gold_canon == canon:
            return True
        if gold_value is not None and value is not None:
            return gold_value == value
    predicted = _parse_free(answer) if free_text else parse_math(answer)
    if not predicted:
        return False
    from math_verify import verify

    gold_parsed = parse_math(gold)
    return verify(list(gold_parsed), list(predicted), timeout_seconds=_timeout())


def same_answer(first: str, second: str) -> bool:
    r"""Whether two model answers agree, for majority voting: the same text, or equivalent expressions.

    Unlike `math_equal`, neither side is a gold: text math-verify cannot parse agrees only with itself.

    >>> same_answer("0.5", r"\frac{1}{2}"), same_answer("blue", " blue"), same_answer("blue", "red")
    (True, True, False)
    """
    (canon_a, value_a), (canon_b, value_b) = _canonical(first), _canonical(second)
    if canon_a == canon_b:
        return True
    if value_a is not None and value_b is not None:
        return value_a == value_b
    parsed_a, parsed_b = parse_math(first), parse_math(second)
    if not any(not isinstance(x, str) for x in parsed_a) or not parsed_b:
        return False
    from math_verify import verify

    return verify(list(parsed_a), list(parsed_b), timeout_seconds=_timeout())


def _ids(id: Sequence[Any] | None, n: int) -> Sequence[Any]:
    return id if isinstance(id, (list, tuple)) and len(id) == n else [None] * n


@register("math_accuracy")
def math_accuracy(completions: Sequence[Any], answer: Sequence[Any], id: Sequence[Any] | None = None,
                  fallback: Fallback = "none", **kwargs: Any) -> list[float]:
    r"""1.0 when the completion's answer is equivalent to the gold `answer`, else 0.0.

    The answer is taken from <answer>…</answer>, else the last \boxed{}, else `fallback` ("text" lets
    math-verify search the whole completion).

    >>> math_accuracy([r"so \boxed{0.5}", "<answer>(1, 2)</answer>", "no answer"],
    ...               answer=[r"\frac{1}{2}", "(2,1)", "3"])
    [1.0, 0.0, 0.0]
    """
    texts = completion_texts(completions)
    scores = []
    for text, gold, record_id in zip(texts, answer, _ids(id, len(texts))):
        extracted = extract_answer(text, "last_number" if fallback == "last_number" else "none")
        if extracted is None and fallback == "text":
            scores.append(float(math_equal(gold, text, record_id, free_text=True)))
        else:
            scores.append(float(math_equal(gold, extracted, record_id)))
    return scores


# Same reward, but a completion with neither tags nor a box is searched whole by math-verify.
register("math_accuracy_lenient", math_accuracy, fallback="text")


@register("gsm8k_accuracy")
def gsm8k_accuracy(completions: Sequence[Any], answer: Sequence[Any], id: Sequence[Any] | None = None,
                   fallback: Fallback = "last_number", **kwargs: Any) -> list[float]:
    r"""1.0 when the final number of the completion's answer equals the gold number, else 0.0.

    GSM8K style: `$`, thousands commas, units and trailing words are dropped; 18.00 equals 18.

    >>> gsm8k_accuracy([r"<answer>$1,234.00 dollars</answer>", r"\boxed{18}", "so 7 then 18"],
    ...                answer=["1234", "17", "18"])
    [1.0, 0.0, 1.0]
    """
    texts = completion_texts(completions)
    scores = []
    for text, gold, record_id in zip(texts, answer, _ids(id, len(texts))):
        gold_value = parse_number(None if gold is None else str(gold))
        if gold_value is None:
            _warn_gold(gold, record_id)
            scores.append(0.0)
            continue
        value = parse_number(extract_answer(text, fallback))
        scores.append(float(value is not None and value == gold_value))
    return scores
