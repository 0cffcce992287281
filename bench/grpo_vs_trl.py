"""Seconds per GRPO step: r1's `grpo_step` against TRL's `GRPOTrainer`, same model, prompts and settings.

    pip install -e ".[bench]"
    python bench/grpo_vs_trl.py                        # 8 prompts x 8 completions x 64 tokens, 2 threads
    python bench/grpo_vs_trl.py --steps 10 --json runs/bench/grpo_vs_trl.json
    python bench/grpo_vs_trl.py --rounds 3             # busy machine: TRL and r1 alternate 3 times

What it does:
1. Builds one tiny world in a scratch directory: r1's character tokenizer and a randomly initialised
   1.8M-parameter Llama of the tiny pretraining shape (`r1.models.pretrain.build_model`), saved as a
   Hugging Face directory, and one set of tiny arithmetic 'train' records (`r1.tasks.generate`).
2. Runs `--warmup + --steps` steps of TRL's GRPOTrainer and of r1's GRPO (`r1.grpo.trainer.setup`, then
   `grpo_step` per step), each in its own fresh Python process with the same thread count, and reports
   the median seconds per timed step (warm-up steps are discarded).
3. Measures r1's step parts alone on one batch of the same shape (rollout through r1's engine, plain
   `model.generate`, reward, reference forward, policy forward+backward, optimizer), and prints their
   sum, the step's ratio to that sum, and r1's rollout tokens/s over plain `generate`'s.
The last line is `ratio TRL/r1: X.XX`; `--json PATH` also writes every number.

Fairness, setting by setting:
- Same model directory, same tokenizer, fp32 (TRL's bf16 default is turned off), CPU, the same
  `torch.set_num_threads` (and OMP_NUM_THREADS) in every process, one process per framework so neither
  inherits the other's allocator state, caches or patches (TRL patches a fused LM head onto its models).
- Same prompts: each record's problem rendered once with the tokenizer's chat template (r1's
  `template=chat`), given to TRL as plain strings; the worker checks TRL's prompt token ids equal
  r1's. Same record pool in both (`train_problems` = that pool).
- Same shape: prompts_per_step x group_size completions per step (TRL: per_device_train_batch_size =
  P*G, num_generations = G, gradient_accumulation_steps = 1, so one generation batch per optimizer
  step), max_new_tokens = max_completion_length, temperature 1.0, top_p 1, top_k off, no stop strings.
- Same amount of generated text. A random-init model would stop at a random point (eos has
  probability ~1/V per token), so lengths, and with them every part of the step, would differ by
  chance. The benchmark's tokenizer therefore gets its eos as one extra special token whose id lies
  past the model's output vocabulary: no sampler can ever pick it, so every completion in both
  frameworks is exactly max_new_tokens long, whatever generation loop a framework uses (no
  min_new_tokens or logits processor that one engine might honour and another ignore). Tokens per
  step are measured and printed for both anyway, with seconds per 1k tokens (r1 drops a sampled pad
  token from a completion, TRL keeps it, so r1 counts ~0.5% fewer). A consequence: no row ever
  finishes early, so an engine that stops computing finished rows gains nothing here; on a trained
  model with completions of mixed lengths it would.
- Same objective: beta > 0 (so the reference forward counts), one inner iteration (TRL
  num_iterations = 1, r1 mu = 1: no old-policy forward in either), eps 0.2, per-sequence token mean
  (loss_type="grpo" in both), group-std scaling, lr constant, plain torch AdamW
  (weight decay 0), grad clipping at 1.0.
- Same reward: both call one `RewardCombiner` with r1's default weights (0.7 tiny accuracy + 0.3
  format), r1 through its trainer, TRL as its reward function.
- Compile: `--compile` (the default) turns on each framework's own switch, r1's `compile` (its decode
  step and both forwards) and TRL's `torch_compile` (the Trainer compiles the model it trains; TRL's
  generation stays uncompiled); `--no-compile` turns both off. The compiles fall in the warm-up steps,
  whose times are printed.
- TRL's gradient checkpointing (on by default) is turned off: r1 does not checkpoint, and
  recomputing the forward would only make TRL slower for a saving that does not matter here.
- TRL logging, saving, evaluation and progress bars are off, and the timer is a TrainerCallback:
  a TRL step is the time from one step's end to the next (data loading and all of the trainer's
  own work between optimizer steps included); the first timed step, when there is no warm-up, runs
  from its on_step_begin. An r1 step is the wall time of one `grpo_step` call.
- The median over timed steps is the headline figure (the mean is printed too): robust to a stray
  slow step on a shared machine.
"""

from __future__ import annotations

import argparse
import string
from pathlib import Path

from grpo_common import (STOP_TOKEN, add_common_args, framework_lines, header_lines, parts_line,
                         quiet_transformers, token_warning, write_records)
from grpo_common import main as run_bench
from grpo_parts import worker_parts
from grpo_workers import worker_r1, worker_trl

HERE = Path(__file__).resolve()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, prompts=8, group=8, steps=6, warmup=2, part_reps=3, threads=2, compile=True)
    return p.parse_args(argv)


def build_world(args: argparse.Namespace, work: Path) -> dict:
    """The tiny world: r1's character tokenizer, the tiny pretraining-shape Llama, the records."""
    import torch

    from r1.models.corpus import CorpusMix, sample_documents
    from r1.models.pretrain import PretrainConfig, build_model
    from r1.models.tokenizer import train_char_tokenizer

    quiet_transformers()
    cfg = PretrainConfig(output_dir=str(work / "model"))  # the tiny pretraining shape
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    tokenizer = train_char_tokenizer(sample_documents(mix, 2000, f"{args.seed}/tokenizer"),
                                     extra_chars=string.printable)
    vocab = len(tokenizer)
    torch.manual_seed(args.seed)
    model = build_model(cfg, vocab, tokenizer.pad_token_id, vocab)
    # eos = one new special token with id == vocab: past the model's logits, so never sampled.
    tokenizer.add_special_tokens({"eos_token": STOP_TOKEN})
    assert tokenizer.eos_token_id == vocab == model.config.vocab_size, (tokenizer.eos_token_id, vocab)
    model.generation_config.eos_token_id = vocab
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(work / "model")
    tokenizer.save_pretrained(work / "model")
    records, n_records = write_records(args, work)
    return {"model_dir": str(work / "model"), "records": records,
            "parameters": sum(p.numel() for p in model.parameters()), "vocab": vocab, "n_records": n_records}


WORKERS = {"trl": worker_trl, "r1": worker_r1, "parts": worker_parts}

def report(args: argparse.Namespace, world: dict, res: dict) -> list[str]:
    lines = header_lines(args, world) + framework_lines(res)
    if "parts" in res:
        p = res["parts"]
        lines.append(parts_line(args, p))
        lines.append(f"plain HF alone: model.generate {p['plain_generate_s']:.3f} s ({p['plain_tok_s']:,.0f} tok/s, "
                     f"{p['plain_tokens']} tokens), policy fwd+bwd via model() + log_softmax "
                     f"{p['plain_fwd_bwd_s']:.3f} s")
        lines.append(f"r1 rollout tokens/s / plain generate tokens/s: {p['rollout_tok_s'] / p['plain_tok_s']:.2f} "
                     f"(target >= 1.5)")
        if "r1" in res:
            lines.append(f"r1 step / sum of parts alone: {res['r1']['median_s'] / p['sum_s']:.2f} (target <= 1.15)")
    lines += token_warning(res)
    if "trl" in res and "r1" in res:
        lines.append(f"ratio TRL/r1: {res['trl']['median_s'] / res['r1']['median_s']:.2f}")
    return lines


if __name__ == "__main__":
    run_bench(HERE, parse_args, WORKERS, build_world, report)
