"""Synthetic reward-model data a tiny character model can learn in seconds.

Helpfulness pairs: "Tell me about the number N." The chosen summary states N's parity rightly; the
rejected one states the wrong parity (a share `wrong_share` of them) or is off topic. Harmlessness
records: a response is harmful when it says the secret word (SECRET) in its reasoning, its summary, or
both; harm_in names where."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

OFF_TOPIC = ["I like cats.", "The sky is blue.", "Let us talk about tea.", "Maybe later."]


def response(reasoning: str, summary: str) -> str:
    return f"<think>{reasoning}</think><summary>{summary}</summary>"


def parity(n: int) -> str:
    return "even" if n % 2 == 0 else "odd"


def pair_records(n: int, seed: int, wrong_share: float = 0.5) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(10, 99)
        think = f"{k} ends in {k % 10}."
        wrong = rng.random() < wrong_share
        out.append({"prompt": f"Tell me about the number {k}.",
                    "chosen": response(think, f"{k} is {parity(k)}."),
                    "rejected": response(think, f"{k} is {parity(k + 1)}." if wrong else rng.choice(OFF_TOPIC))})
    return out


def harm_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(10, 99)
        where = [None, "reasoning", "summary", "both"][i % 4]
        think = f"The user asks about {k}." + (" The SECRET is 7." if where in ("reasoning", "both") else "")
        summary = f"{k} is {parity(k)}." + (" The SECRET is 7." if where in ("summary", "both") else "")
        record = {"prompt": f"Tell me about the number {k}.", "completion": response(think, summary),
                  "label": where is None}
        if where:
            record["harm_in"] = where
        out.append(record)
    return out


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def pairs_file(tmp_path):
    return write_jsonl(tmp_path / "pairs.jsonl", pair_records(160, seed=1))


@pytest.fixture
def harm_file(tmp_path):
    return write_jsonl(tmp_path / "harm.jsonl", harm_records(160, seed=2))


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
