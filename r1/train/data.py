"""Training records and the order a stage draws them in.

Training reads the **train** split by default (a DatasetDict directory, hf:NAME), evaluation the test
split; a stage's `data_split` picks another. The draw order is an endless seeded stream: each pass over
the records is a fresh shuffle, and the n-th record drawn depends only on (seed, n), so a resumed run,
and every process of a multi-process run, draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, Iterable

from r1.errors import R1Error


def load_training_records(data: str, split: str = "train") -> list[dict[str, Any]]:
    """Records of a JSONL file, a `datasets` directory or hf:NAME (the given split); never empty."""
    from r1.eval.data import load_data

    records = load_data(data, split=split)
    if not records:
        raise R1Error(f"data: {data} holds no records")
    return records


def load_prompt_records(cfg) -> list[dict[str, Any]]:
    """Prompts of an RL or sampling stage: cfg.data (its data_split), or each tiny-world family's
    train split (cfg.families, cfg.train_problems, cfg.difficulty)."""
    if cfg.data:
        return load_training_records(cfg.data, cfg.data_split)
    from r1.tasks import generate

    records = [r for family in cfg.families
               for r in generate(family, "train", cfg.train_problems, cfg.seed, cfg.difficulty)]
    if not records:
        raise R1Error(f"data: families {', '.join(cfg.families)} gave no training problems")
    return records


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


class RecordStream:
    """Indices into `size` records, drawn as an endless stream of seeded shuffles."""

    def __init__(self, size: int, seed: int | str):
        if size < 1:
            raise R1Error("data: no records to draw from")
        self.size, self.seed = size, seed
        self.cursor = 0
        self._orders: dict[int, list[int]] = {}

    def at(self, n: int) -> int:
        """The index of the n-th record drawn (0-based)."""
        epoch, offset = divmod(n, self.size)
        if epoch not in self._orders:
            order = list(range(self.size))
            random.Random(f"{self.seed}/epoch/{epoch}").shuffle(order)
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
