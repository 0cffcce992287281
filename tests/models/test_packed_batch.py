"""packed_batch stops generating a step's documents once its rows are full: the rows it returns must stay
exactly those of the old packing (whole chunks of 256 documents generated and tokenized, the first
batch_size * block_size tokens kept), so the base model and every number built on it are unchanged."""

import string

import pytest
import torch

from r1.models import pretrain
from r1.models.corpus import CorpusMix, sample_documents
from r1.models.pretrain import PretrainConfig, packed_batch
from r1.models.tokenizer import train_char_tokenizer


def old_packed_batch(cfg: PretrainConfig, mix: CorpusMix, tokenizer, step: int) -> torch.Tensor:
    """packed_batch as it was up to 2026-12-01, kept here as the reference."""
    need = cfg.batch_size * cfg.block_size
    stream: list[int] = []
    chunk = 0
    while len(stream) < need:
        docs = sample_documents(mix, 256, f"{cfg.seed}/{step}/{chunk}")
        for ids in tokenizer(docs, add_special_tokens=False)["input_ids"]:
            stream.extend(ids)
        chunk += 1
    return torch.tensor(stream[:need]).view(cfg.batch_size, cfg.block_size)


@pytest.fixture(scope="module")
def world():
    cfg = PretrainConfig(output_dir="unused")  # recipes/tiny/pretrain.yaml's corpus and 32 x 256 rows
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    tokenizer = train_char_tokenizer(sample_documents(mix, 2000, f"{cfg.seed}/tokenizer"),
                                     extra_chars=string.printable)
    return cfg, mix, tokenizer


@pytest.mark.parametrize("update, steps", [
    ({}, range(0, 40)),  # the default recipe's shape, its first 40 steps
    ({"seed": 3}, range(790, 800)),  # another seed, the last steps of an 800-step run
    ({"batch_size": 128, "block_size": 256}, range(0, 3)),  # more than one chunk of 256 documents per step
    ({"batch_size": 1, "block_size": 7}, range(0, 20)),  # filled within the first few documents
])
def test_rows_equal_the_old_packing(world, update, steps):
    cfg, mix, tokenizer = world
    cfg = cfg.model_copy(update=update)
    for step in steps:
        new, old = packed_batch(cfg, mix, tokenizer, step), old_packed_batch(cfg, mix, tokenizer, step)
        assert new.shape == (cfg.batch_size, cfg.block_size)
        assert torch.equal(new, old), f"step {step}: rows differ from the old packing"


def test_the_step_generates_only_the_documents_it_uses(world, monkeypatch):
    """Of a chunk's 256 documents, a 32 x 256 step makes the ones it packs (up to one tokenizing group more)."""
    cfg, mix, tokenizer = world
    made = []
    import r1.models.corpus as corpus

    original = corpus.sample_document  # what document_stream calls for each document it makes
    monkeypatch.setattr(corpus, "sample_document", lambda *a: made.append(1) or original(*a))
    packed_batch(cfg, mix, tokenizer, 0)
    monkeypatch.undo()  # count the step's documents only, not the reference draw below
    lengths = [len(ids) for ids in tokenizer(sample_documents(mix, 256, f"{cfg.seed}/0/0"),
                                             add_special_tokens=False)["input_ids"]]
    used = next(k for k in range(1, 257) if sum(lengths[:k]) >= cfg.batch_size * cfg.block_size)
    assert used < 256  # one chunk suffices at this shape, so the old packing wasted 256 - used documents
    assert used <= len(made) < used + pretrain.TOKENIZE_DOCS, (used, len(made))
