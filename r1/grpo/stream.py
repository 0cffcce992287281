"""The prompts a GRPO run trains on: records of the train split (or tiny-world families), rendered and
tokenized once, drawn as a seeded stream that a resumed run replays exactly."""

from __future__ import annotations

from typing import Any

from r1.errors import R1Error
from r1.prompts import build_prompt
from r1.train.data import RecordStream


class PromptStream(RecordStream):
    """The seeded record stream (r1.train.data) over rendered prompts: `take` gives record indices."""

    def __init__(self, records: list[dict[str, Any]], prompts: list[str], prompt_ids: list[list[int]],
                 seed: int | str):
        super().__init__(len(records), seed)
        self.records, self.prompts, self.prompt_ids = records, prompts, prompt_ids


def build_stream(cfg, tokenizer, records: list[dict[str, Any]], seed: int | str) -> PromptStream:
    """Render and tokenize every prompt once; refuse prompts longer than cfg.max_prompt_tokens."""
    prompts = [build_prompt(tokenizer, r["problem"], cfg.template, cfg.suffix, cfg.response_prefix)
               for r in records]
    ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    too_long = [(r.get("id", i), len(x)) for i, (r, x) in enumerate(zip(records, ids))
                if len(x) > cfg.max_prompt_tokens]
    if too_long:
        rid, n = too_long[0]
        raise R1Error(f"data: {len(too_long)} prompts are longer than max_prompt_tokens="
                      f"{cfg.max_prompt_tokens} (e.g. {rid}: {n} tokens); raise the limit or drop them")
    return PromptStream(records, prompts, ids, seed)
