"""Reward-model fixtures: the toy data of r1.reward_models.synthetic as files, and two reward models
trained on it once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from r1.reward_models.synthetic import harm_records, pair_records, response

__all__ = ["harm_records", "pair_records", "response", "rm_config", "write_jsonl"]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


FAST = dict(batch_size=16, lr=1e-3, eval_fraction=0.25, save_every=0)
"""Settings that learn the synthetic data in a few seconds on one CPU thread."""


def rm_config(model_dir, out, data, **overrides):
    from r1.reward_models.config import RewardModelConfig

    return RewardModelConfig(output_dir=str(out), model=str(model_dir), data=str(data),
                             **{**FAST, "max_steps": 40, **overrides})


@pytest.fixture(scope="session")
def helpful_rm(tiny_model_dir, tmp_path_factory):
    """output_dir of a pairwise (Bradley-Terry) model on summaries, trained once per session."""
    from r1.reward_models.trainer import train

    work = tmp_path_factory.mktemp("helpful-rm")
    data = write_jsonl(work / "pairs.jsonl", pair_records(160, seed=1, wrong_share=1.0))
    train(rm_config(tiny_model_dir, work / "out", data, objective="pairwise", on="summary"))
    return work / "out"


@pytest.fixture(scope="session")
def harmless_rm(tiny_model_dir, tmp_path_factory):
    """output_dir of a pointwise model on whole responses, trained once per session."""
    from r1.reward_models.trainer import train

    work = tmp_path_factory.mktemp("harmless-rm")
    data = write_jsonl(work / "harm.jsonl", harm_records(160, seed=2))
    train(rm_config(tiny_model_dir, work / "out", data, objective="pointwise", on="whole"))
    return work / "out"
