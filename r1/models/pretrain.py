"""Pretrain the tiny base model: a character-level tokenizer and a small Llama decoder, from scratch.

    r1 pretrain -c recipes/tiny/pretrain.yaml [output_dir=DIR] [max_steps=N]

Documents come from `r1.models.corpus`; they are packed into rows of `block_size` tokens. The run
checkpoints every `save_every` steps and resumes from the last checkpoint when started again.
"""

from __future__ import annotations

import json
import math
import random
import string
import time
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from r1.config import StageConfig, save_config
from r1.models.corpus import CorpusMix, sample_documents
from r1.models.tokenizer import train_char_tokenizer
from r1.progress import console, progress_bar
from r1.runtime import autocast, recover_dir, resolve_precision, set_seed, swap_in_dir

DONE_FILE = "r1_pretrain.json"


class PretrainConfig(StageConfig):
    families: dict[str, float] = Field(default_factory=lambda: {"arithmetic": 0.7, "linear": 0.15,
                                                                "countdown": 0.15})
    """Task families in the corpus and their shares of documents."""
    difficulty: int | None = None
    """Difficulty of the corpus problems; None uses each family's default."""
    cot_share: float = 0.3
    """Share of documents that reason step by step (always correctly)."""
    direct_right: float = 0.15
    """Share of direct (no reasoning) answers that are right; the rest are plausible mistakes."""
    zh_step_share: float = 0.2
    """Probability that a reasoning step is written in Chinese rather than English."""
    hidden_size: int = 192
    """Width of the decoder."""
    num_layers: int = 4
    """Number of decoder layers."""
    num_heads: int = 6
    """Attention heads (hidden_size must divide by it)."""
    intermediate_size: int = 512
    """Width of the MLP."""
    block_size: int = 256
    """Tokens per packed training row; also the model's context length is twice this."""
    batch_size: int = 32
    """Packed rows per optimiser step."""
    max_steps: int = 800
    """Optimiser steps in all."""
    lr: float = 2e-3
    """Peak learning rate (tiny models want a large one)."""
    warmup_steps: int = 30
    """Linear warmup steps before the cosine decay."""
    min_lr_ratio: float = 0.1
    """The cosine decays to lr * min_lr_ratio."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """bf16 autocast where the CPU or GPU supports it (auto), or force one."""
    save_every: int = 100
    """Checkpoint every this many steps (the run resumes from the last one)."""
    log_every: int = 10
    """Write a log line every this many steps."""


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


def packed_batch(cfg: PretrainConfig, mix: CorpusMix, tokenizer, step: int) -> torch.Tensor:
    """[batch_size, block_size] token ids; a function of (seed, step) alone, so resuming is exact."""
    need = cfg.batch_size * cfg.block_size
    stream: list[int] = []
    chunk = 0
    while len(stream) < need:
        docs = sample_documents(mix, 256, f"{cfg.seed}/{step}/{chunk}")
        for ids in tokenizer(docs, add_special_tokens=False)["input_ids"]:
            stream.extend(ids)
        chunk += 1
    return torch.tensor(stream[:need]).view(cfg.batch_size, cfg.block_size)


def lr_at(cfg: PretrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def pretrain(cfg: PretrainConfig) -> Path:
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "pretrain_config.yaml")
    set_seed(cfg.seed)
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    tokenizer = _tokenizer(cfg, mix, out)
    ckpt = recover_dir(out / "checkpoint")
    if (ckpt / "trainer_state.pt").is_file():
        model = AutoModelForCausalLM.from_pretrained(ckpt)
    else:
        model = build_model(cfg, len(tokenizer), tokenizer.pad_token_id, tokenizer.eos_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  betas=(0.9, 0.95))
    start = _resume(ckpt, optimizer)
    dtype = resolve_precision(cfg.precision)
    n_params = sum(p.numel() for p in model.parameters())
    console.print(f"pretrain: {n_params / 1e6:.2f}M parameters, vocab {len(tokenizer)}, "
                  f"{cfg.max_steps} steps of {cfg.batch_size}x{cfg.block_size} tokens, {dtype}"
                  + (f", resuming at step {start}" if start else ""))
    model.train()
    with (out / "pretrain_log.jsonl").open("a") as log, progress_bar() as bar:
        task = bar.add_task("pretrain", total=cfg.max_steps, completed=start, status="")
        for step in range(start, cfg.max_steps):
            tick = time.time()
            batch = packed_batch(cfg, mix, tokenizer, step)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(cfg, step)
            with autocast(dtype):
                loss = model(input_ids=batch, labels=batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            tok_s = batch.numel() / (time.time() - tick)
            bar.update(task, advance=1, status=f"loss {loss.item():.3f}  {tok_s:,.0f} tok/s")
            if step % cfg.log_every == 0 or step == cfg.max_steps - 1:
                log.write(json.dumps({"step": step, "loss": round(loss.item(), 4), "lr": lr_at(cfg, step),
                                      "tokens_per_s": round(tok_s)}) + "\n")
                log.flush()
            if (step + 1) % cfg.save_every == 0 and step + 1 < cfg.max_steps:
                _checkpoint(ckpt, model, optimizer, step + 1)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / DONE_FILE).write_text(json.dumps({"steps": cfg.max_steps, "final_loss": loss.item(),
                                             "parameters": n_params}, indent=2))
    console.print(f"pretrain: saved the base model to {out}")
    return out


def is_pretrained(path: str | Path) -> bool:
    """True once a pretrain run finished writing the model into `path`."""
    return (Path(path) / DONE_FILE).is_file() and (Path(path) / "config.json").is_file()


def _tokenizer(cfg: PretrainConfig, mix: CorpusMix, out: Path):
    """Train the tokenizer once per output_dir; a resumed run must reuse the same vocabulary."""
    if (out / "tokenizer.json").is_file():  # the model's config.json is written only at the end
        return PreTrainedTokenizerFast.from_pretrained(out)
    sample = sample_documents(mix, 20_000, f"{cfg.seed}/tokenizer")
    tokenizer = train_char_tokenizer(sample, extra_chars=string.printable)
    tokenizer.save_pretrained(out)
    return tokenizer


def _checkpoint(ckpt: Path, model, optimizer, step: int) -> None:
    tmp = ckpt.with_name("checkpoint.tmp")
    model.save_pretrained(tmp)
    torch.save({"step": step, "optimizer": optimizer.state_dict(), "python_rng": random.getstate(),
                "torch_rng": torch.get_rng_state()}, tmp / "trainer_state.pt")
    swap_in_dir(tmp, ckpt)  # only after the new checkpoint is complete


def _resume(ckpt: Path, optimizer) -> int:
    state_file = ckpt / "trainer_state.pt"
    if not state_file.is_file():
        return 0
    state = torch.load(state_file, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    random.setstate(state["python_rng"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"]
