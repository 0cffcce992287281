"""Reward-model records -> token ids, in the formats TRL's RewardTrainer reads.

pairwise (preference): {"prompt", "chosen", "rejected"}; prompt optional (TRL's implicit prompt), each
value a string or a list of chat messages (then chosen/rejected end with the assistant's turn and any
earlier turns are shared prompt); an optional per-record "margin".
pointwise (unpaired): {"prompt", "completion", "label": bool} (true: a good, e.g. harmless, response);
an optional "harm_in" names where the harm was put ("reasoning": only there), for a per-subset accuracy.

A pair whose two responses are the same as the model reads them (identical, or with `on: summary`
identical summaries) teaches nothing: it is left out and counted in one logged line, never silently.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from r1.errors import R1Error
from r1.eval.data import load_saved, read_jsonl_lines
from r1.reward_models.render import Messages, as_messages, encode, rm_input, view

logger = logging.getLogger(__name__)


@dataclass
class Example:
    ids: list[list[int]]  # pairwise: [chosen, rejected]; pointwise: [response]
    target: float  # pairwise: the margin to clear; pointwise: the label, 1.0 good, 0.0 bad
    harm_in: str | None = None

    def __len__(self) -> int:
        return max(len(x) for x in self.ids)


def read_records(source: str, split: str, field: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, record) pairs of a JSONL file or datasets dir; `where` names file and line."""
    path = Path(source)
    if path.is_dir():
        pairs = [(f"{path} record {i + 1}", r) for i, r in enumerate(load_saved(path, split))]
    else:
        pairs = [(f"{path}:{n}", r) for n, r in read_jsonl_lines(path, field)]
    if not pairs:
        raise R1Error(f"{field}: {source} holds no records")
    return pairs


def response(record: dict, key: str, where: str) -> tuple[Messages, str]:
    """(prompt messages, the response text) of `record[key]`, a string or messages ending with the
    assistant's turn (earlier turns join the prompt)."""
    if record.get(key) is None:
        raise R1Error(f"{where}: missing field '{key}'")
    prompt = as_messages(record.get("prompt"), f"{where}: prompt")
    if isinstance(record[key], str):
        return prompt, record[key]
    turns = as_messages(record[key], f"{where}: {key}")
    if not turns or turns[-1]["role"] != "assistant":
        raise R1Error(f"{where}: '{key}' must end with the assistant's message")
    return prompt + turns[:-1], turns[-1]["content"]


def pair_texts(tokenizer, record: dict, where: str, on: str) -> tuple[str, str] | None:
    """Rendered (chosen, rejected), or None when the model would read them as the same."""
    prompt, chosen = response(record, "chosen", where)
    prompt_r, rejected = response(record, "rejected", where)
    if prompt != prompt_r:
        raise R1Error(f"{where}: chosen and rejected have different prompts (earlier messages)")
    if view(chosen, on) == view(rejected, on):
        return None
    return rm_input(tokenizer, prompt, chosen, on), rm_input(tokenizer, prompt, rejected, on)


def label_of(record: dict, where: str) -> float:
    label = record.get("label")
    if not isinstance(label, bool):
        raise R1Error(f"{where}: field 'label' must be true or false, got {label!r}")
    return float(label)


def load_examples(cfg, tokenizer, records: list[tuple[str, dict]], what: str) -> list[Example]:
    """Every record rendered (with cfg.on) and tokenized; see the module docstring for the formats."""
    texts, targets, tags, wheres, same = [], [], [], [], 0
    for where, record in records:
        if cfg.objective == "pairwise":
            pair = pair_texts(tokenizer, record, where, cfg.on)
            if pair is None:
                same += 1
                continue
            texts.append(list(pair))
            targets.append(cfg.margin + float(record.get("margin") or 0.0))
        else:
            prompt, completion = response(record, "completion", where)
            texts.append([rm_input(tokenizer, prompt, completion, cfg.on)])
            targets.append(label_of(record, where))
        tags.append(record.get("harm_in"))
        wheres.append(where)
    if same:
        logger.warning("%s: left out %d of %d pairs whose chosen and rejected read the same (on=%s)",
                       what, same, len(records), cfg.on)
    if not texts:
        raise R1Error(f"{what}: no usable records ({same} pairs have chosen and rejected that read "
                      f"the same with on={cfg.on})")
    width = len(texts[0])
    ids = encode(tokenizer, [t for group in texts for t in group])
    examples = [Example(ids[i * width:(i + 1) * width], target, tag)
                for i, (target, tag) in enumerate(zip(targets, tags))]
    return fit_length(cfg, examples, wheres, what)


def fit_length(cfg, examples: list[Example], wheres: list[str], what: str) -> list[Example]:
    """Refuse (overlong=refuse) or drop records longer than max_seq_len; never truncate them."""
    too_long = [(w, len(e)) for w, e in zip(wheres, examples) if len(e) > cfg.max_seq_len]
    if too_long and cfg.overlong == "refuse":
        where, n = too_long[0]
        raise R1Error(f"{where}: {n} tokens exceed max_seq_len={cfg.max_seq_len} ({len(too_long)} "
                      f"records do); raise max_seq_len or set overlong=drop")
    if too_long:
        logger.warning("%s: dropped %d records longer than max_seq_len=%d", what, len(too_long),
                       cfg.max_seq_len)
    kept = [e for e in examples if len(e) <= cfg.max_seq_len]
    if not kept:
        raise R1Error(f"{what}: every record is longer than max_seq_len={cfg.max_seq_len}")
    return kept


def train_and_heldout(cfg, tokenizer) -> tuple[list[Example], list[Example]]:
    """The training examples and the held-out ones (eval_data, or a seeded eval_fraction of data)."""
    records = read_records(cfg.data, cfg.data_split, "data")
    if cfg.eval_data:
        heldout = read_records(cfg.eval_data, cfg.eval_split, "eval_data")
    else:
        order = list(range(len(records)))
        random.Random(f"{cfg.seed}/heldout").shuffle(order)
        n = round(len(records) * cfg.eval_fraction)
        heldout = [records[i] for i in sorted(order[:n])]
        records = [records[i] for i in sorted(order[n:])]
    train = load_examples(cfg, tokenizer, records, "data")
    return train, load_examples(cfg, tokenizer, heldout, "eval_data") if heldout else []
