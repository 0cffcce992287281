"""Training records and the order a stage draws them in.

Training reads the **train** split by default (a shipped benchmark such as `gsm8k`, a DatasetDict
directory, hf:NAME), evaluation the test split; a stage's `data_split` picks another. The draw order is
an endless seeded stream: each pass over the records is a fresh shuffle, and the n-th record drawn
depends only on (seed, n), so a resumed run, and every process of a multi-process run, draws exactly
what an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, Iterable

from r1.errors import R1Error


# Tasks a dataset-level `task` setting gives to its records (tiny records carry their family instead).
RECORD_TASKS = ("math", "gsm8k", "code")


def load_training_records(data: str, split: str = "train", task: str | None = None,
                          fields: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Records of a shipped benchmark's train split (`gsm8k`), a JSONL file, a `datasets` directory or
    hf:NAME (the given split); never empty. `fields` maps r1's names to the data's columns
    ({problem: question}); TRL's `prompt` (text or chat messages) stands for `problem`. A record without
    `task` gets `task`, or a shipped benchmark's scorer, so the accuracy reward scores it right."""
    from r1.eval.data import benchmark_path, load_data, read_jsonl, shipped_task

    if shipped_task(data):
        records = read_jsonl(benchmark_path(data, split), "data")
        task = task or shipped_task(data)
    else:
        records = load_data(data, split=split, need_problem=False)
    if not records:
        raise R1Error(f"data: {data} holds no records")
    return [prompt_record(r, data, fields or {}, task) for r in records]


def prompt_record(record: dict[str, Any], data: str, fields: dict[str, str], task: str | None) -> dict[str, Any]:
    """One record in r1's names: mapped columns, `problem` (or TRL's `prompt`), and its scoring task."""
    for name, column in fields.items():
        if column not in record:
            raise R1Error(f"fields: {data}: record {record.get('id')} has no column {column!r} (for {name})")
        record[name] = record[column]
    if "problem" not in record and "prompt" in record:
        record["problem"] = record["prompt"]
    problem = record.get("problem")
    if not (isinstance(problem, str) or is_messages(problem)):
        raise R1Error(f"data: {data}: record {record.get('id')} needs 'problem' (or TRL's 'prompt') as text or "
                      "chat messages; map another column with fields: {problem: COLUMN}")
    if task in RECORD_TASKS and record.get("task") is None:
        record["task"] = task
    return record


def is_messages(value: Any) -> bool:
    """A conversational prompt: a non-empty list of {role, content} messages."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in value)


def load_prompt_records(cfg) -> list[dict[str, Any]]:
    """Prompts of an RL or sampling stage: cfg.data (its data_split, cfg.task, cfg.fields), or each
    tiny-world family's train split (cfg.families, cfg.train_problems, cfg.difficulty)."""
    if cfg.data:
        return load_training_records(cfg.data, cfg.data_split, cfg.task, cfg.fields)
    from r1.tasks import generate

    records = [r for family in cfg.families
               for r in generate(family, "train", cfg.train_problems, cfg.seed, cfg.difficulty)]
    if not records:
        raise R1Error(f"data: families {', '.join(cfg.families)} gave no training problems")
    return records


def keep_scorable(records: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """GRPO's documented skip: reasoning prompts without what the accuracy reward scores against
    (`answer`, or code's `test_list`) would train on the format reward alone, so they are left out, with
    one line saying how many; none left is an error."""
    from r1.eval.data import has_reference
    from r1.progress import console

    kept = [r for r in records if (r.get("prompt_type") or "reasoning") != "reasoning" or has_reference(r)]
    if not kept:
        raise R1Error(f"data: {source}: none of its {len(records)} records has an 'answer' (or code's "
                      "'test_list') for the accuracy reward")
    if len(kept) < len(records):
        console.print(f"data: {source}: skipped {len(records) - len(kept)} of {len(records)} records without "
                      "an 'answer' (or code's 'test_list') for the accuracy reward")
    return kept


def write_records(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records as JSONL beside `path`, then rename: a kill never leaves a half file that looks
    finished. Returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return count


GROUP_SPAN = 64
"""Steps whose records are sorted by length together when a stream groups by length."""


def length_grouped(order: list[int], lengths: list[int], batch: int, shift: int, rng: random.Random
                   ) -> list[int]:
    """`order` rearranged so that each window of `batch` draws, the first starting `shift` draws in,
    holds records of similar length: every GROUP_SPAN windows' records are sorted by length, cut into
    windows, and the windows put in random order (a short last one, at the pass's end, stays last)."""
    out = list(order[:shift])
    span = batch * GROUP_SPAN
    for start in range(shift, len(order), span):
        chunk = sorted(order[start:start + span], key=lambda i: lengths[i])
        windows = [chunk[k:k + batch] for k in range(0, len(chunk), batch)]
        short = windows.pop() if len(windows[-1]) < batch else []
        rng.shuffle(windows)
        out += [i for w in windows for i in w] + short
    return out


class RecordStream:
    """Indices into `size` records, drawn as an endless stream of seeded shuffles.

    With `lengths` and `batch`, each pass is shuffled and then grouped by length (length_grouped):
    each step's `batch` draws are of similar length, so a padded batch wastes little, while which
    records share a step, and the steps' order, stay random."""

    def __init__(self, size: int, seed: int | str, lengths: list[int] | None = None, batch: int = 1):
        if size < 1:
            raise R1Error("data: no records to draw from")
        self.size, self.seed, self.lengths, self.batch = size, seed, lengths, batch
        self.cursor = 0
        self._orders: dict[int, list[int]] = {}

    def at(self, n: int) -> int:
        """The index of the n-th record drawn (0-based)."""
        epoch, offset = divmod(n, self.size)
        if epoch not in self._orders:
            order = list(range(self.size))
            rng = random.Random(f"{self.seed}/epoch/{epoch}")
            rng.shuffle(order)
            if self.lengths is not None:
                shift = min(-epoch * self.size % self.batch, self.size)  # where this pass's first step starts
                order = length_grouped(order, self.lengths, self.batch, shift, rng)
            self._orders = {epoch: order}  # keep one pass in memory
        return self._orders[epoch][offset]

    def window(self, start: int, count: int) -> list[int]:
        """Indices of draws start .. start + count - 1, without moving the cursor."""
        return [self.at(n) for n in range(start, start + count)]

    def take(self, count: int) -> list[int]:
        """Indices of the next `count` draws."""
        picked = self.window(self.cursor, count)
        self.cursor += count
        return picked
