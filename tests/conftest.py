"""Shared fixtures: one tiny pretrained model per test session (a few seconds on one CPU core), and a
recorder of the rollout engine's generate calls."""

from __future__ import annotations

import os

import pytest
import torch

# Two busy cores: torch's intra-op threads fight the other workers and run ~6x slower than one
# thread. One thread also keeps fp32 reductions in a fixed order, so reruns are bit-identical.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(1)

# Small enough to pretrain in seconds, big enough to learn the <think></think><answer>…</answer> shape.
TINY_PRETRAIN = dict(
    max_steps=80, batch_size=8, block_size=128, hidden_size=64, num_layers=2, num_heads=2,
    intermediate_size=128, warmup_steps=5, lr=5e-3, log_every=1, save_every=40, precision="fp32",
)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """Directory of a tiny base model pretrained once for the whole session."""
    from r1.models.pretrain import PretrainConfig, pretrain

    out = tmp_path_factory.mktemp("tiny-base")
    return pretrain(PretrainConfig(output_dir=str(out), **TINY_PRETRAIN))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from r1.models.load import load_model

    return load_model(tiny_model_dir).eval()


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from r1.models.load import load_tokenizer

    return load_tokenizer(tiny_model_dir)


@pytest.fixture
def count_generate(monkeypatch):
    """Record the prompts of every HFEngine.generate call (eval and rejection sampling tests)."""
    from r1.rollout import HFEngine

    calls = []
    original = HFEngine.generate

    def counting(self, prompts, params):
        calls.append(list(prompts))
        return original(self, prompts, params)

    monkeypatch.setattr(HFEngine, "generate", counting)
    return calls
