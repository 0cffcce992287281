"""Pretrain the tiny base model: a character-level tokenizer and a small Llama decoder, from scratch.

    r1 pretrain -c recipes/tiny/pretrain.yaml [output_dir=DIR] [max_steps=N]

Documents come from `r1.models.corpus`; they are packed into rows of `block_size` tokens. The tokenizer
is trained once into output_dir; the model trains in the stage skeleton (r1.train: checkpoints every
`save_every` steps, resumes when started again, output_dir/final when done).
"""

from __future__ import annotations

import string
import time
from itertools import chain, count, islice
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from r1.errors import R1Error
from r1.models.corpus import CorpusMix, document_stream, sample_documents
from r1.models.tokenizer import train_char_tokenizer
from r1.progress import console
from r1.runtime import autocast, resolve_precision, set_seed
from r1.train.checkpoint import is_final
from r1.train.config import Count, Difficulty, PositiveInt, Rate, Share, TrainConfig
from r1.train.flops import parameter_count, train_flops
from r1.train.loop import Hooks, TrainRun, fit, make_optimizer, open_run, record_config, resume

STEP_KEYS = ("step", "loss", "lr", "tokens_per_s", "step_flops", "flops", "train_s")


class PretrainConfig(TrainConfig):
    families: dict[str, float] = Field(default_factory=lambda: {"arithmetic": 0.7, "linear": 0.15,
                                                                "countdown": 0.15})
    """Task families in the corpus and their shares of documents."""
    difficulty: Difficulty | None = None
    """Difficulty of the corpus problems; None uses each family's default."""
    cot_share: Share = 0.3
    """Share of documents that reason step by step (always correctly)."""
    direct_right: Share = 0.15
    """Share of direct (no reasoning) answers that are right; the rest are plausible mistakes."""
    zh_step_share: Share = 0.2
    """Probability that a reasoning step is written in Chinese rather than English."""
    hidden_size: PositiveInt = 192
    """Width of the decoder."""
    num_layers: PositiveInt = 4
    """Number of decoder layers."""
    num_heads: PositiveInt = 6
    """Attention heads (hidden_size must divide by it)."""
    intermediate_size: PositiveInt = 512
    """Width of the MLP."""
    block_size: PositiveInt = 256
    """Tokens per packed training row; also the model's context length is twice this."""
    batch_size: PositiveInt = 32
    """Packed rows per optimiser step, over all processes together."""
    max_steps: PositiveInt = 800
    """Optimiser steps in all."""
    lr: Rate = 2e-3
    """Peak learning rate (tiny models want a large one)."""
    lr_schedule: Literal["constant", "cosine"] = "cosine"
    """constant after warmup, or cosine decay that reaches lr * min_lr_ratio at the last step."""
    warmup_steps: Count = 30
    """Linear warmup steps before the cosine decay."""
    adam_betas: tuple[Share, Share] = (0.9, 0.95)
    """AdamW's beta1 and beta2."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """bf16 autocast where the CPU or GPU supports it (auto), or force one."""
    save_every: Count = 100
    """Checkpoint every this many steps (the run resumes from the last one)."""
    log_every: PositiveInt = 10
    """Write a log row every this many steps."""

    def check(self) -> None:
        if self.hidden_size % self.num_heads:
            raise R1Error(f"num_heads: hidden_size ({self.hidden_size}) must divide by num_heads "
                          f"({self.num_heads})")
        if (self.hidden_size // self.num_heads) % 2:
            raise R1Error(f"num_heads: the head width hidden_size / num_heads = "
                          f"{self.hidden_size // self.num_heads} must be even (rotary embeddings)")


@dataclass
class Run(TrainRun):
    mix: CorpusMix | None = None
    dtype: torch.dtype = torch.float32


def build_model(cfg: PretrainConfig, vocab_size: int, pad_id: int, eos_id: int) -> LlamaForCausalLM:
    # Llama, not Qwen2: transformers maps model_type qwen2 to Qwen2Tokenizer, which would rebuild our
    # character-level tokenizer as byte-level and lose spaces and Chinese when AutoTokenizer loads it.
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_heads, max_position_embeddings=2 * cfg.block_size,
        tie_word_embeddings=True, pad_token_id=pad_id, eos_token_id=eos_id, bos_token_id=None,
    )
    return LlamaForCausalLM(config)


CHUNK_DOCS = 256
"""Documents per seeded generator: a step draws chunk 0, 1, ... of {seed}/{step}/{chunk} until its rows are full."""
TOKENIZE_DOCS = 16
"""Documents generated and tokenized at a time while a step's rows fill up."""


def packed_batch(cfg: PretrainConfig, mix: CorpusMix, tokenizer, step: int) -> torch.Tensor:
    """[batch_size, block_size] token ids; a function of (seed, step) alone, so resuming is exact.

    The step's documents come one after another from seeded generators of CHUNK_DOCS documents each;
    they are generated and tokenized TOKENIZE_DOCS at a time until batch_size * block_size tokens are
    there, so the documents past the last one used are never made (the rows are the same as when whole
    chunks were generated and tokenized: a chunk's first k documents do not depend on the rest).
    """
    need = cfg.batch_size * cfg.block_size
    docs = chain.from_iterable(islice(document_stream(mix, f"{cfg.seed}/{step}/{chunk}"), CHUNK_DOCS)
                               for chunk in count())
    stream: list[int] = []
    while len(stream) < need:
        for ids in tokenizer(list(islice(docs, TOKENIZE_DOCS)), add_special_tokens=False)["input_ids"]:
            stream.extend(ids)
    return torch.tensor(stream[:need]).view(cfg.batch_size, cfg.block_size)


def pretrain(cfg: PretrainConfig) -> Path:
    """Run (or resume) pretraining; returns output_dir/final, the base model in HF format."""
    cfg.check()
    opened = open_run(cfg, "pretrain")
    accelerator = opened.accelerator
    if cfg.batch_size % accelerator.num_processes:
        raise R1Error(f"batch_size ({cfg.batch_size}) must divide by the number of processes "
                      f"({accelerator.num_processes})")
    set_seed(cfg.seed)  # the same on every process: the same initial weights
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    tokenizer = _tokenizer(cfg, mix, opened.out, accelerator)
    model = build_model(cfg, len(tokenizer), tokenizer.pad_token_id, tokenizer.eos_token_id)
    if opened.resuming:
        from r1.models.load import load_model

        model = load_model(opened.ckpt, "checkpoint")
    optimizer, scheduler = make_optimizer(cfg, model, cfg.max_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    run = Run(accelerator, model, tokenizer, optimizer, scheduler, cfg.max_steps, mix=mix,
              dtype=resolve_precision(cfg.precision), parameters=parameter_count(model))
    resume(opened, run)
    record_config(cfg, opened, "pretrain")
    if accelerator.is_main_process:
        console.print(f"pretrain: {run.parameters / 1e6:.2f}M parameters, vocab {len(tokenizer)}, "
                      f"{cfg.max_steps} steps of {cfg.batch_size}x{cfg.block_size} tokens, {run.dtype}"
                      + (f", resuming after step {run.start}" if run.start else ""))
    hooks = Hooks(step=lambda step: pretrain_step(cfg, run, step), keys=STEP_KEYS, log_every=cfg.log_every,
                  status=lambda m: f"loss {m['loss']:.3f}  {m['tokens_per_s']:,.0f} tok/s")
    return fit(cfg, run, hooks, "pretrain")


def pretrain_step(cfg: PretrainConfig, run: Run, step: int) -> dict[str, float]:
    """One optimizer step on the packed batch of `step`; each process trains on its share of the rows."""
    tick, lr = time.time(), run.scheduler.get_last_lr()[0]
    accelerator = run.accelerator
    batch = packed_batch(cfg, run.mix, run.tokenizer, step - 1)  # [batch_size, block_size]
    mine = batch[accelerator.process_index :: accelerator.num_processes].to(accelerator.device)
    with autocast(run.dtype):
        loss = run.model(input_ids=mine, labels=mine).loss
    accelerator.backward(loss)
    accelerator.clip_grad_norm_(run.model.parameters(), cfg.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    loss_value = loss.detach()
    if accelerator.num_processes > 1:
        loss_value = accelerator.reduce(loss_value, "mean")
    return {"loss": float(loss_value), "lr": lr, "tokens_per_s": batch.numel() / (time.time() - tick),
            "step_flops": train_flops(run.parameters, batch.numel())}


def is_pretrained(path: str | Path) -> bool:
    """True once a pretrain run finished writing its model: `path` is the run or its final/."""
    return is_final(Path(path) / "final") or is_final(path)


def _tokenizer(cfg: PretrainConfig, mix: CorpusMix, out: Path, accelerator):
    """Train the tokenizer once per output_dir; a resumed run must reuse the same vocabulary."""
    if not (out / "tokenizer.json").is_file() and accelerator.is_main_process:
        sample = sample_documents(mix, 20_000, f"{cfg.seed}/tokenizer")
        train_char_tokenizer(sample, extra_chars=string.printable).save_pretrained(out)
    accelerator.wait_for_everyone()
    return PreTrainedTokenizerFast.from_pretrained(out)
