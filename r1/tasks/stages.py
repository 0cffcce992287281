"""Tiny-world data as pipeline stages: cold-start records (stage 1's SFT data) and non-reasoning
records (mixed into stage 3's SFT set). Each writes output_dir/data.jsonl, which later stages name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from r1.config import StageConfig
from r1.progress import console
from r1.train.config import PositiveInt
from r1.train.data import write_records


class ColdStartDataConfig(StageConfig):
    n: PositiveInt = 3000
    """Records, split evenly over the families."""
    families: list[str] = Field(default_factory=lambda: ["arithmetic", "linear", "countdown"])
    """Task families the problems come from (their train split)."""
    difficulty: int | None = None
    """Difficulty of the problems; None uses each family's default."""
    style: Literal["prose", "steps"] = "prose"
    """How the reasoning is written (r1.tasks.cold_start.STYLES): English sentences, or the base
    corpus's own steps in English with an opening sentence."""


class NonReasoningDataConfig(StageConfig):
    n: PositiveInt = 600
    """Records, kinds drawn evenly."""
    split: str = "train"
    """train or test."""
    kinds: list[str] | None = None
    """Kinds of prompt (see r1.tasks.general.KINDS); None: all."""


def cold_start_data(cfg: ColdStartDataConfig) -> Path:
    from r1.tasks.cold_start import cold_start_records

    out = Path(cfg.output_dir) / "data.jsonl"
    count = write_records(out, cold_start_records(cfg.n, cfg.seed, cfg.families, cfg.difficulty, cfg.style))
    console.print(f"cold-start-data: wrote {count} records to {out}")
    return out


def non_reasoning_data(cfg: NonReasoningDataConfig) -> Path:
    from r1.tasks.general import non_reasoning_records

    out = Path(cfg.output_dir) / "data.jsonl"
    count = write_records(out, non_reasoning_records(cfg.n, cfg.split, cfg.seed, cfg.kinds))
    console.print(f"non-reasoning-data: wrote {count} records to {out}")
    return out
