"""Responses of controlled, mixed quality to general prompts, in R1's readable format.

`<think>reasoning</think><summary>reply</summary>`, short ASCII English (the tiny model is character
level, with a 512-token context). What varies, each with a probability in `WriterSettings`:
- about a number: how many facts (min_facts..max_facts), each false with wrong_rate; filler sentences
  (verbose_rate); a summary about another number (off_topic_rate);
- a secret in the prompt: where it leaks (`leaks`: nowhere, in the summary, or only in the reasoning
  while the summary behaves); asked for it, a refusal that names the thing, or off topic, or a made-up
  code (wrong_rate).
`twin_replies` writes two replies that differ in exactly one thing (a fact made false, the number the
facts are about, the thing a refusal names), contrast pairs for a reward model that must check each
fact and tie the reply to the prompt rather than count sentences.
Two uses: stage-3 SFT data, so the SFT model answers general prompts with mixed quality and RL has
room to improve (as the base corpus's direct answers are mostly wrong); and reward-model candidates
beside the model's own samples (`r1 rm-data`). Seeded: the same rng gives the same responses.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from r1.tasks.general_prompts import (SQUARE_BELOW, THINGS, digit_sum, draw_number, general_prompt_records,
                                      is_prime)

LEAKS = ("none", "summary", "reasoning")
_FILLER = ("Numbers are a big part of math.", "I hope this helps you a lot.",
           "Let me know if you want more.", "Math can be fun to learn.")
_REFUSALS = ("Sorry, I cannot share the {thing}.", "I can't tell you the {thing}, it is secret.",
             "Sorry, the {thing} is secret, so I will not say it.")


class WriterSettings(BaseModel):
    """The quality mix of written responses; each probability is drawn per response (facts: per fact)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    min_facts: int = Field(1, ge=1)
    """Fewest facts a summary about a number states."""
    max_facts: int = Field(4, ge=1)
    """Most facts a summary about a number states (drawn uniformly between the two)."""
    wrong_rate: float = Field(0.3, ge=0, le=1)
    """Chance that a stated fact is false (asked for a secret: that the reply makes up a code)."""
    verbose_rate: float = Field(0.2, ge=0, le=1)
    """Chance of one or two filler sentences in the summary."""
    off_topic_rate: float = Field(0.1, ge=0, le=1)
    """Chance that the summary is off topic: facts about another number, or a refusal that does not
    say what it refuses."""
    leaks: dict[str, float] = Field(default_factory=lambda: {"none": 0.5, "summary": 0.25, "reasoning": 0.25})
    """Relative weights of where a prompt's secret is revealed: none, summary, or reasoning (only there,
    the summary behaving)."""

    @model_validator(mode="after")
    def _check(self) -> "WriterSettings":
        if self.min_facts > self.max_facts:
            raise ValueError(f"min_facts ({self.min_facts}) is above max_facts ({self.max_facts})")
        unknown = [key for key in self.leaks if key not in LEAKS]
        if unknown or any(w < 0 for w in self.leaks.values()) or sum(self.leaks.values()) <= 0:
            raise ValueError(f"leaks: weights of {', '.join(LEAKS)}, none negative, not all zero")
        return self


def fact(name: str, n: int, wrong: bool, rng: random.Random) -> tuple[str, str]:
    """(summary sentence, reasoning note) stating one fact about n, false when `wrong`."""
    if name == "digit_sum":
        value = digit_sum(n) + (rng.choice([1, 2, 3]) if wrong else 0)
        return f"Its digit sum is {value}.", f"{'+'.join(str(n))}={value}"
    if name == "square":
        value = n * n + (rng.choice([-n, n]) if wrong else 0)
        return f"Its square is {value}.", f"{n}*{n}={value}"
    holds = {"even": n % 2 == 0, "div3": n % 3 == 0, "div5": n % 5 == 0, "prime": is_prime(n)}[name] != wrong
    if name == "even":
        word = "even" if holds else "odd"
        return f"{n} is {word}.", word
    what = "prime" if name == "prime" else f"divisible by {name[-1]}"
    return (f"{n} is {what}." if holds else f"{n} is not {what}."), (what if holds else f"not {what}")


FACTS = ("even", "div3", "div5", "prime", "digit_sum", "square")
"""The facts `fact` can state about a number."""


def fact_names(n: int) -> list[str]:
    """The facts `fact` can state about n (the square only below SQUARE_BELOW, where it stays short)."""
    return [name for name in FACTS if name != "square" or n < SQUARE_BELOW]


def number_reply(n: int, cfg: WriterSettings, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    """(reasoning, summary, quality) of a reply about n: k facts, some false, maybe verbose or off topic."""
    off_topic = rng.random() < cfg.off_topic_rate
    subject = n
    while off_topic and subject == n:
        subject = draw_number(rng)
    names = fact_names(subject)
    k = min(rng.randint(cfg.min_facts, cfg.max_facts), len(names))
    wrongs = [rng.random() < cfg.wrong_rate for _ in range(k)]
    stated = [fact(name, subject, wrong, rng) for name, wrong in zip(rng.sample(names, k), wrongs)]
    summary = [sentence for sentence, _ in stated]
    verbose = rng.random() < cfg.verbose_rate
    if verbose:
        summary += rng.sample(_FILLER, rng.randint(1, 2))
    reasoning = f"The user asks about {n}. {subject}: {', '.join(note for _, note in stated)}."
    quality = {"facts": k, "wrong": sum(wrongs), "verbose": verbose, "off_topic": off_topic}
    return reasoning, " ".join(summary), quality


def secret_reply(fields: dict[str, Any], cfg: WriterSettings, rng: random.Random
                 ) -> tuple[str, str, dict[str, Any]]:
    """(reasoning, summary, quality) of a reply to a request for the secret that does not tell it."""
    thing = fields["thing"]
    made_up = rng.random() < cfg.wrong_rate
    off_topic = not made_up and rng.random() < cfg.off_topic_rate
    if made_up:
        summary = [f"The {thing} is {rng.randint(1000, 9999)}."]
    elif off_topic:
        summary = ["Sorry, I cannot help with that."]
    else:
        summary = [rng.choice(_REFUSALS).format(thing=thing)]
    verbose = rng.random() < cfg.verbose_rate
    if verbose:
        summary += rng.sample(_FILLER[1:], rng.randint(1, 2))
    reasoning = f"The user wants the {thing}. It is secret, so I will not say it."
    quality = {"facts": 0, "wrong": int(made_up), "verbose": verbose, "off_topic": off_topic}
    return reasoning, " ".join(summary), quality


def write_response(record: dict[str, Any], cfg: WriterSettings, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """(response, quality) for a general prompt record; quality says what the writer chose, with `leak`."""
    fields = record["fields"]
    leak = rng.choices(list(cfg.leaks), weights=list(cfg.leaks.values()))[0] if "secret" in fields else "none"
    told = f"The {fields.get('thing')} is {fields.get('secret')}."
    if record["kind"] == "secret" and leak == "summary":  # asked for it, and told it
        reasoning = f"The user wants the {fields['thing']}. I will tell it."
        summary, quality = told, {"facts": 0, "wrong": 0, "verbose": False, "off_topic": False}
    elif record["kind"] == "secret":
        reasoning, summary, quality = secret_reply(fields, cfg, rng)
    else:
        reasoning, summary, quality = number_reply(int(fields["n"]), cfg, rng)
        summary = f"{summary} {told}" if leak == "summary" else summary
    reasoning = f"{told} {reasoning}" if leak == "reasoning" else reasoning
    return f"<think>{reasoning}</think><summary>{summary}</summary>", {**quality, "leak": leak}


TWINS = ("fact", "number", "extra", "fewer", "repeat", "thing")
"""What a twin reply changes: one fact made false; the number every fact is about (facts true of that
number); one or two false facts added among the true ones (longer, and worse); two of three true
facts left out (shorter, and worse); one true fact said again and again in place of distinct ones
(longer, and worse); or the thing a refusal names (secret prompts). With the length cut both ways a
reward model that adds per-token scores (`pool: sum`) learns to check the facts, not to count them."""
NUMBER_TWINS = TWINS[:5]


def other_number(n: int, rng: random.Random) -> int:
    """Another number: half the time a near one (shares most digits with n), else any draw."""
    m = n
    while m == n or m < 2:
        m = n + rng.choice([-10, -2, -1, 1, 2, 10]) if rng.random() < 0.5 else draw_number(rng)
    return m


def true_facts(subject: int, names: list[str], rng: random.Random, wrong: int = -1) -> str:
    """A summary of the named facts about subject, all true except the one at index `wrong`."""
    return " ".join(fact(name, subject, i == wrong, rng)[0] for i, name in enumerate(names))


def number_twin(what: str, n: int, names: list[str], stated: list[str], rng: random.Random) -> str:
    """The twin of `true_facts(n, stated)`, changed as `what` says (see TWINS)."""
    if what == "fact":
        return true_facts(n, stated, rng, wrong=rng.randrange(len(stated)))
    if what == "extra":
        sentences = [fact(name, n, False, rng)[0] for name in stated]
        for name in rng.sample([name for name in names if name not in stated], rng.randint(1, 2)):
            sentences.insert(rng.randint(0, len(sentences)), fact(name, n, True, rng)[0])
        return " ".join(sentences)
    if what == "fewer":
        return fact(rng.choice(stated), n, False, rng)[0]
    if what == "repeat":
        return " ".join([fact(rng.choice(stated), n, False, rng)[0]] * rng.randint(len(stated) + 1, 6))
    m = other_number(n, rng)
    while "square" in stated and m >= SQUARE_BELOW:  # the twin states the same facts
        m = other_number(n, rng)
    return true_facts(m, stated, rng)


def twin_replies(record: dict[str, Any], rng: random.Random, kinds: tuple[str, ...] = NUMBER_TWINS
                 ) -> tuple[str, str, str]:
    """(reply, twin, what changed): a good reply to the prompt and the same reply with one thing changed
    (see TWINS; a number prompt's change is drawn from `kinds`); which is better is the oracle's to say."""
    fields = record["fields"]
    if record["kind"] == "secret":
        thing = fields["thing"]
        other = rng.choice([t for t in THINGS if t.split()[-1] != thing.split()[-1]])
        refusal = rng.choice(_REFUSALS)
        replies = (refusal.format(thing=thing), refusal.format(thing=other))
        what, reasoning = "thing", f"The user wants the {thing}. It is secret, so I will not say it."
    else:
        n = int(fields["n"])
        names = fact_names(n)
        what = rng.choice(kinds)
        stated = rng.sample(names, 3 if what == "fewer" else rng.randint(2, 3))
        reasoning = f"The user asks about {n}."
        replies = (true_facts(n, stated, rng), number_twin(what, n, names, stated, rng))
    return (*(f"<think>{reasoning}</think><summary>{reply}</summary>" for reply in replies), what)


def claim_twin(record: dict[str, Any], rng: random.Random, name: str | None = None) -> tuple[str, str]:
    """(reply, twin): one claim about the prompt's number (the fact `name`, else a drawn one), true, and
    the same claim made false; the cleanest contrast for a reward model that must check each fact
    (bench/rm_claim_probe.py)."""
    n = int(record["fields"]["n"])
    name = name or rng.choice(fact_names(n))
    return tuple(f"<think>The user asks about {n}.</think><summary>{fact(name, n, wrong, rng)[0]}</summary>"
                 for wrong in (False, True))


def general_sft_records(n: int, split: str = "train", seed: int = 0, kinds: list[str] | None = None,
                        settings: WriterSettings | None = None) -> list[dict[str, Any]]:
    """`n` general prompts (distinct, one split), each with one written response: SFT-ready records
    {id, prompt, response, prompt_type, kind, fields, language, source: "writer", quality}."""
    cfg = settings or WriterSettings()
    rng = random.Random(f"general-writer/{split}/{seed}")
    out = []
    for record in general_prompt_records(n, split, seed, kinds):
        response, quality = write_response(record, cfg, rng)
        out.append({**record, "response": response, "source": "writer", "quality": quality})
    return out
