"""Language consistency (DeepSeek-R1, section 2.3.2): the share of reasoning words in the target language.

Script-based, by design: each CJK character counts as one Chinese word, each run of two or more Latin
letters as one English word, any other run of letters (Cyrillic, kana, Hangul, …) as one word of
another language; digits, symbols, punctuation, LaTeX commands and single Latin letters (math
variables such as the `x` in `15x=60`) are not words. This is exact for English against Chinese, costs
microseconds, and needs no model.

A language-ID library was considered and not used: langdetect and langid guess one language per text
and are unreliable on steps as short as `7+5=12 carry 1`; lingua-language-detector handles short and
mixed text but is a large extra dependency for what, between these two scripts, the script decides.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Sequence

from r1.rewards.extract import think_text
from r1.rewards.registry import completion_texts, register

Language = Literal["en", "zh"]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LATIN = "A-Za-z\u00c0-\u024f"
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(rf"(?P<zh>[{_HAN}])|(?P<en>[{_LATIN}]+)|(?P<other>[^\W\d_{_HAN}{_LATIN}]+)")


def word_spans(text: str) -> list[tuple[int, int, str]]:
    r"""(start, end, script) of each word of `text`, script `zh`, `en` or `other` (the module docstring says
    what a word is); positions index `text` itself, so a report can mark the words.

    >>> word_spans(r"\frac 7加 carry x")
    [(7, 8, 'zh'), (9, 14, 'en')]
    """
    # LaTeX commands blanked to as many spaces, so positions stay those of `text`
    masked = _LATEX_COMMAND.sub(lambda m: " " * len(m.group()), text)
    return [(match.start(), match.end(), match.lastgroup) for match in _WORD.finditer(masked)
            if match.lastgroup != "en" or len(match.group()) >= 2]  # a lone letter is a variable, not a word


def count_words(text: str) -> dict[str, int]:
    r"""Words per script: `zh` (one per CJK character), `en` (Latin runs of 2+ letters), `other`.

    >>> count_words("7+5=12 carry 1")
    {'en': 1, 'zh': 0, 'other': 0}
    >>> count_words("7加5得12进1")
    {'en': 0, 'zh': 3, 'other': 0}
    >>> count_words(r"15x=60, so \frac{60}{15} = 4 и всё")
    {'en': 1, 'zh': 0, 'other': 2}
    """
    counts = {"en": 0, "zh": 0, "other": 0}
    for _, _, script in word_spans(text):
        counts[script] += 1
    return counts


def language_share(text: str, target: Language = "en") -> float | None:
    """Share of the words of `text` that are in `target`; None when there are no words at all.

    >>> language_share("7+5=12 carry 1\\n7加5得12进1", "en")
    0.25
    >>> language_share("12+30=42", "zh") is None
    True
    """
    counts = count_words(text)
    total = sum(counts.values())
    return None if total == 0 else counts[target] / total


def is_mixed_language(reasoning: str) -> bool:
    """Whether the text has words of both English and Chinese (other scripts are not counted).

    >>> is_mixed_language("7+5=12 carry 1"), is_mixed_language("7+5=12 进位 1")
    (False, False)
    >>> is_mixed_language("7+5=12 carry 1\\n十位 3+4=7")
    True
    """
    counts = count_words(reasoning)
    return counts["en"] > 0 and counts["zh"] > 0


@register("language_consistency")
def language_consistency(completions: Sequence[Any], target_language: Language = "en",
                         language: Sequence[str] | None = None, **kwargs: Any) -> list[float | None]:
    """Share of the reasoning's words (inside <think>…</think>) in the target language.

    target_language: the language asked for; a record's own `language` field ("en"/"zh"), if any,
    wins. (Not `target`: record fields arrive as keyword arguments, and countdown records have a
    numeric `target`, which used to replace the language and make the reward fail and score 0.)
    A reasoning without words (empty, or only digits and symbols) is not scored: None, which the
    combiner logs as NaN and adds nothing for. Scoring it 1.0 would make dropping the reasoning the
    surest way to a full language reward; scoring it 0.0 would punish the empty reasoning of
    non-reasoning answers, which the paper's data has by design.

    >>> language_consistency(["<think>12+30=42 carry 0</think><answer>42</answer>", "<think>进1</think>",
    ...                       "<think>12+30=42</think><answer>42</answer>"])
    [1.0, 0.0, None]
    """
    texts = completion_texts(completions)
    targets = language if isinstance(language, (list, tuple)) and len(language) == len(texts) \
        else [target_language] * len(texts)
    return [language_share(think_text(text), lang or target_language) for text, lang in zip(texts, targets)]


register("language_consistency_zh", language_consistency, target_language="zh")
