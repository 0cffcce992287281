"""Pull the final answer out of a completion: <answer>…</answer>, else the summary, else the last \\boxed{}.

Two output formats state the answer differently. R1-Zero: `<think>…</think><answer>N</answer>`.
R1's readable format (the cold-start data): `<think>…</think><summary>… so the answer is
\\boxed{N}.</summary>`, the summary stating the answer in a box, as the paper's eval prompt asks. A
summary is read on its own, so a box in the reasoning never outvotes the summary's answer.

Also the pieces every reward shares: the reasoning inside <think>…</think>, and GSM8K-style numbers
("$1,234.00 dollars" -> 1234).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.DOTALL)
# A number as people write it: optional sign (not a minus between two terms), thousands commas,
# decimals. "1,2,3" is three numbers, "1,234" is one.
_NUMBER = re.compile(r"(?:(?<![\w)\]}])[-−])?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<!\d)\.\d+")

Fallback = Literal["none", "last_number", "text"]


def last_boxed(text: str) -> str | None:
    r"""Content of the last `\boxed{…}` (or `\fbox{…}`), nested braces included.

    >>> last_boxed(r"so \boxed{\frac{1}{2}} and \boxed{3}")
    '3'
    >>> last_boxed(r"\boxed 5") is None
    True
    """
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = start + (6 if text.startswith("\\boxed", start) else 5)
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def extract_answer(completion: str, fallback: Fallback = "none") -> str | None:
    r"""The answer inside the last <answer>…</answer>; else, from the last closed <summary>…</summary>,
    its last \boxed{} (or the fallback applied to the summary alone); else the last \boxed{}; else the
    fallback.

    fallback: "none" gives None; "last_number" gives the last number in the text (commas removed);
    "text" gives the whole completion, stripped (for a verifier that finds the answer itself).

    >>> extract_answer("<think>7+5=12</think><answer>12</answer>")
    '12'
    >>> extract_answer(r"<answer>so \boxed{x+1}</answer>")
    'x+1'
    >>> extract_answer(r"<think>\boxed{11}?</think><summary>7+5=12, so the answer is \boxed{12}.</summary>")
    '12'
    >>> extract_answer("it is 1,234 apples", fallback="last_number")
    '1234'
    """
    tagged = _ANSWER.findall(completion)
    if tagged:
        inner = tagged[-1].strip()
        boxed = last_boxed(inner)
        return boxed.strip() if boxed is not None else inner
    summaries = _SUMMARY.findall(completion)
    if summaries:  # the readable format: the summary states the answer, whatever the reasoning tried
        completion = summaries[-1]
    boxed = last_boxed(completion)
    if boxed is not None:
        return boxed.strip()
    if fallback == "last_number":
        numbers = _NUMBER.findall(completion)
        return numbers[-1].replace(",", "").replace("−", "-") if numbers else None
    if fallback == "text":
        return completion.strip() or None
    return None


def think_text(completion: str) -> str:
    """The reasoning: inside the first <think>…</think>; after an unclosed <think>; else everything.

    >>> think_text("<think>7+5=12</think><answer>12</answer>")
    '7+5=12'
    >>> think_text("7+5=12</think>12")  # the prompt opened <think> for the model
    '7+5=12'
    """
    start = completion.find("<think>")
    start = 0 if start < 0 else start + len("<think>")
    end = completion.find("</think>", start)
    return completion[start:] if end < 0 else completion[start:end]


def summary_text(completion: str) -> str:
    """The summary: inside <summary>…</summary>; after an unclosed <summary>; else what follows the
    reasoning (R1's helpfulness reward model reads only this part of a response).

    >>> summary_text("<think>7+5=12</think><summary>7+5 is 12.</summary>")
    '7+5 is 12.'
    >>> summary_text("<think>7+5=12</think>It is 12.")
    'It is 12.'
    """
    start = completion.find("<summary>")
    if start < 0:
        end = completion.find("</think>")
        return completion if end < 0 else completion[end + len("</think>"):]
    start += len("<summary>")
    end = completion.find("</summary>", start)
    return completion[start:] if end < 0 else completion[start:end]


def parse_number(text: str | None) -> Decimal | None:
    r"""The last number in `text`, GSM8K style: `$`, commas, units and trailing words dropped.

    >>> parse_number("$1,234.00 dollars")
    Decimal('1234.00')
    >>> parse_number(r"\$18") == 18, parse_number("5-3"), parse_number("no digits")
    (True, Decimal('3'), None)
    """
    if not text:
        return None
    numbers = _NUMBER.findall(text)
    if not numbers:
        return None
    try:
        return Decimal(numbers[-1].replace(",", "").replace("−", "-"))
    except InvalidOperation:  # pragma: no cover - the regex only lets through valid decimals
        return None


def normalize_number(text: str | None) -> str | None:
    """The last number in `text` in canonical form: "$1,234.00 dollars" -> "1234".

    >>> normalize_number("$1,234.00 dollars"), normalize_number("-0.50%"), normalize_number("x")
    ('1234', '-0.5', None)
    """
    value = parse_number(text)
    if value is None:
        return None
    out = format(value.normalize(), "f")
    return "0" if out in ("-0", "0") else out
