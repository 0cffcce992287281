"""The prompts a GRPO run trains on: records of the train split (or tiny-world families), rendered and
tokenized once, drawn as a seeded stream that a resumed run replays exactly.

Stage 4 (all-scenario RL) adds general prompts: they sit after the reasoning records and are drawn
from a stream of their own, a set share of each step's prompts once the step reaches `general_from`
(the paper adds them for part of the run); the reward combiner weighs each by its `prompt_type`.
"""

from __future__ import annotations

from typing import Any

from r1.errors import R1Error
from r1.prompts import build_prompt
from r1.train.data import RecordStream


class PromptStream(RecordStream):
    """The seeded record stream (r1.train.data) over rendered prompts: `take` gives record indices.

    records[:size] are the reasoning prompts (this stream's own draws); records[size:] the general ones,
    drawn by `general` (None without them)."""

    dropped: int = 0
    """Prompts left out for being longer than max_prompt_tokens (overlong_prompts=drop)."""

    def __init__(self, records: list[dict[str, Any]], prompts: list[str], prompt_ids: list[list[int]],
                 seed: int | str, n_general: int = 0, general_share: float = 0.0, general_from: int = 1):
        super().__init__(len(records) - n_general, seed)
        self.records, self.prompts, self.prompt_ids = records, prompts, prompt_ids
        self.general = RecordStream(n_general, f"{seed}/general") if n_general else None
        self.general_share, self.general_from = general_share, general_from

    def take_for_step(self, count: int, step: int) -> list[int]:
        """`count` record indices for `step`: reasoning prompts, then the step's share of general ones."""
        n_general = round(self.general_share * count) if self.general and step >= self.general_from else 0
        return self.take(count - n_general) + [self.size + i for i in
                                                (self.general.take(n_general) if n_general else [])]


def build_stream(cfg, tokenizer, records: list[dict[str, Any]], seed: int | str,
                 general: list[dict[str, Any]] | None = None) -> PromptStream:
    """Render and tokenize every prompt once; prompts longer than cfg.max_prompt_tokens are refused, or
    with overlong_prompts=drop left out (the stream's `dropped` counts them)."""
    general = general or []
    records = [*records, *general]
    prompts = [build_prompt(tokenizer, r["problem"], cfg.template, cfg.suffix, cfg.response_prefix)
               for r in records]
    ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    keep = fitting(cfg, records, ids)
    n_reasoning = len(records) - len(general)
    n_general = sum(i >= n_reasoning for i in keep)  # general records sit after the reasoning ones
    for name, pool, kept in (("data", n_reasoning, len(keep) - n_general), ("general_data", len(general),
                                                                          n_general)):
        if pool and not kept:
            raise R1Error(f"{name}: every prompt is longer than max_prompt_tokens={cfg.max_prompt_tokens}; "
                          "raise the limit")
    start = max(1, round(cfg.general_from * cfg.max_steps) + 1) if general else 1
    stream = PromptStream([records[i] for i in keep], [prompts[i] for i in keep], [ids[i] for i in keep],
                          seed, n_general, cfg.general_share, start)
    stream.dropped = len(records) - len(keep)
    return stream


def fitting(cfg, records: list[dict[str, Any]], ids: list[list[int]]) -> list[int]:
    """Indices of the prompts within max_prompt_tokens; a longer one is refused (overlong_prompts=refuse)."""
    too_long = [(r.get("id", i), len(x)) for i, (r, x) in enumerate(zip(records, ids))
                if len(x) > cfg.max_prompt_tokens]
    if too_long and cfg.overlong_prompts == "refuse":
        rid, n = too_long[0]
        raise R1Error(f"data: {len(too_long)} prompts are longer than max_prompt_tokens="
                      f"{cfg.max_prompt_tokens} (e.g. {rid}: {n} tokens); raise the limit or set "
                      "overlong_prompts=drop")
    return [i for i, x in enumerate(ids) if len(x) <= cfg.max_prompt_tokens]
