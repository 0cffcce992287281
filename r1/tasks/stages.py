"""Tiny-world data as pipeline stages: cold-start records (stage 1's SFT data), non-reasoning records
and general prompts with written responses of mixed quality (both mixed into stage 3's SFT set; the
general prompts are also stage 4's). Each writes output_dir/data.jsonl, which later stages name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from r1.config import StageConfig
from r1.progress import console
from r1.tasks.writer import WriterSettings
from r1.train.config import Difficulty, PositiveInt
from r1.train.data import write_records


class ColdStartDataConfig(StageConfig):
    n: PositiveInt = 3000
    """Records, split evenly over the families."""
    families: list[str] = Field(default_factory=lambda: ["arithmetic", "linear", "countdown"])
    """Task families the problems come from (their train split)."""
    difficulty: Difficulty | None = None
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


class GeneralDataConfig(StageConfig):
    n: PositiveInt = 400
    """Records, kinds drawn evenly."""
    split: str = "train"
    """train or test."""
    kinds: list[str] | None = None
    """Kinds of prompt (see r1.tasks.general_prompts.KINDS); None: all."""
    responses: bool = True
    """Give each prompt a written response of mixed quality (SFT data); false: the prompts alone."""
    writer: WriterSettings = Field(default_factory=WriterSettings)
    """The quality mix of the written responses (see r1.tasks.writer)."""


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


def general_records(n: int, split: str, seed: int, kinds: list[str] | None, responses: bool,
                    writer: WriterSettings | None = None) -> list[dict]:
    """General prompt records, with a written response each when `responses` (`r1 tasks general-prompts`)."""
    from r1.tasks.general_prompts import general_prompt_records
    from r1.tasks.writer import general_sft_records

    if responses:
        return general_sft_records(n, split, seed, kinds, writer)
    return general_prompt_records(n, split, seed, kinds)


def general_data(cfg: GeneralDataConfig) -> Path:
    out = Path(cfg.output_dir) / "data.jsonl"
    count = write_records(out, general_records(cfg.n, cfg.split, cfg.seed, cfg.kinds, cfg.responses, cfg.writer))
    console.print(f"general-data: wrote {count} records to {out}")
    return out
