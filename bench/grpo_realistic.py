"""Seconds per GRPO step and peak memory, r1 against TRL's `GRPOTrainer`, on a model of Qwen2.5-0.5B's shape.

    pip install -e ".[bench]"
    python bench/grpo_realistic.py --threads 2                  # 2 prompts x 4 completions x 64 tokens
    python bench/grpo_realistic.py --layers 2 --hidden 64 --vocab 1024 --intermediate 128 --heads 4 \\
        --kv-heads 2 --steps 1 --warmup 0                       # shrunk: a smoke run in seconds
    python bench/grpo_realistic.py --json runs/bench/grpo_realistic.json

bench/grpo_vs_trl.py compares the two on the tiny world's 1.8M-parameter Llama, where Python and
framework overhead dominate. This one asks the question at a real size, where the matrix products,
the 151,936-token vocabulary and the memory for weights, optimizer and reference model dominate.

What it does:
1. Builds, in a scratch directory, with nothing downloaded:
   - a byte-level BPE tokenizer trained with `tokenizers` on tiny-world text (task problems and
     worked solutions, `r1.tasks.generate`, and pretraining documents, `r1.models.corpus`), split
     like Qwen2's (its pre-tokenizer regex: digits one by one), its vocabulary padded with unused
     tokens to Qwen2.5's 151,643 byte-level entries, then Qwen's special tokens `<|endoftext|>`
     (151,643, also pad), `<|im_start|>`, `<|im_end|>`, reserved tokens up to the model's 151,936 rows,
     and a ChatML chat template with Qwen2's default system message;
   - a randomly initialised Qwen2ForCausalLM of Qwen2.5-0.5B's configuration: hidden 896, 24 layers,
     14 query / 2 key-value heads, MLP 4864, vocabulary 151,936, tied embeddings, rope theta 1e6,
     context 32,768, rms_norm_eps 1e-6, fp32 (494M parameters, ~2 GB); `--layers/--hidden/--vocab/
     --heads/--kv-heads/--intermediate` shrink it (for tests);
   - the tiny arithmetic 'train' records the prompts come from.
2. Runs `--warmup + --steps` steps of TRL's GRPOTrainer and of r1's `grpo_step`, each framework in its
   own fresh process, one after the other (never both at once: each needs ~10 GB), and r1's step
   parts alone in a third (rollout, reward, reference log-probs, policy forward+backward, optimizer:
   bench/grpo_parts.py), with the memory each part needs on top of what the process held before it.
3. Memory: each framework process's peak resident set (VmHWM: the most it ever held, loading
   included), what it held after setup (both models loaded, before the first step: anon = its own
   memory, file = mapped files), and the peak within each step (VmHWM reset at the step's start).
The last line is `ratios: TRL s/step / r1 s/step X.XX, r1 peak RSS / TRL peak RSS Y.YY, TRL CPU s/step /
r1 CPU s/step Z.ZZ` (the issue's goal: the first >= 1.3, the second <= 1.0; the third is the first in
CPU seconds, which a busy machine disturbs less at one thread); `--json PATH` also writes every number.

The settings are bench/grpo_vs_trl.py's, whose docstring says setting by setting why they are fair:
same model directory and tokenizer, fp32, same prompts (rendered once with the chat template; TRL's
token ids checked equal to r1's), prompts_per_step x group_size completions of exactly --new-tokens
tokens (eos is one extra special token past the model's 151,936 output rows, so no sampler can pick
it: every completion in both frameworks has the same length), temperature 1.0, top_p 1, beta 0.04
(so the reference model is loaded and run), one inner iteration, lr 1e-4 constant, plain torch AdamW,
clipping at 1.0, the same reward function, TRL's gradient checkpointing off (r1 does not checkpoint).
Differences from there: `--compile` is off by default (compiling 24 layers costs minutes of warm-up
on two cores for a few timed steps; matrix products, not Python overhead, dominate at this size),
and 1 warm-up + 3 timed steps by default (a step takes about a minute on two cores).

What each framework does with the 151,936-wide vocabulary (the largest activation here; one
[tokens, vocab] fp32 logits tensor is 0.6 MB per token):
- r1 (r1.grpo.forward): the lean forward computes the logits of the completion tokens only, [b, L, V]
  at once, then log-probs one row at a time (r1.grpo.logprobs); autograd keeps those logits for the
  backward, and their gradient is as large. Its prompt tokens run once per distinct prompt.
- TRL 1.16 (trl.trainer.utils.add_fused_lm_head): on a CPU it projects every position, prompt
  included, in [4096 tokens, 32768 vocab] tiles folded into running log-sum-exps, keeps only the
  hidden states, and recomputes each tile in the backward: no full logits, two LM-head passes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grpo_common import (STOP_TOKEN, add_common_args, framework_lines, header_lines, parts_line,
                         quiet_transformers, token_warning, write_records)
from grpo_common import main as run_bench
from grpo_parts import worker_parts
from grpo_workers import worker_r1, worker_trl

from r1.models.stand_in import QWEN25, SHAPES

HERE = Path(__file__).resolve()
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN_TAIL = 151_936 - 151_643  # Qwen2.5's output rows beyond its byte-level BPE vocabulary
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")  # Qwen2's pre-tokenizer split
CHATML = ("{%- if messages[0]['role'] == 'system' %}"
          "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
          "{%- set loop_messages = messages[1:] %}"
          "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
          "{%- set loop_messages = messages %}{%- endif %}"
          "{%- for message in loop_messages %}"
          "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
          "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, prompts=2, group=4, steps=3, warmup=1, part_reps=1, threads=2, compile=False)
    shape = SHAPES["qwen2.5-0.5b"]
    p.add_argument("--layers", type=int, default=shape["num_hidden_layers"])
    p.add_argument("--hidden", type=int, default=shape["hidden_size"])
    p.add_argument("--heads", type=int, default=shape["num_attention_heads"], help="query heads")
    p.add_argument("--kv-heads", type=int, default=shape["num_key_value_heads"], help="key/value heads")
    p.add_argument("--intermediate", type=int, default=shape["intermediate_size"], help="MLP width")
    p.add_argument("--vocab", type=int, default=shape["vocab_size"], help="model output rows (>= 600)")
    p.add_argument("--plain", action=argparse.BooleanOptionalAction, default=False,
                   help="also time plain HF model.generate and model() fwd+bwd in the parts worker")
    args = p.parse_args(argv)
    if args.vocab < 600 or args.hidden % args.heads or args.heads % args.kv_heads:
        p.error("--vocab must be >= 600, --hidden a multiple of --heads, --heads of --kv-heads")
    return args


# ---------------------------------------------------------------------------------------------------
# The world: a Qwen2-style tokenizer and a random Qwen2.5-0.5B-shaped model.


def training_text(seed: int) -> list[str]:
    """Tiny-world text for the BPE: problems and solutions of every task family, and pretraining
    documents."""
    from r1.models.corpus import CorpusMix, sample_documents
    from r1.models.pretrain import PretrainConfig
    from r1.tasks import generate

    cfg = PretrainConfig(output_dir="unused")  # only its corpus settings
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    records = generate("all", "train", 3000, seed)
    return ([f"{r['problem']}\n{r.get('solution') or ''}" for r in records]
            + sample_documents(mix, 3000, f"{seed}/tokenizer"))


def build_tokenizer(vocab: int, texts: list[str]):
    """A byte-level BPE of vocab - QWEN_TAIL entries (trained, then padded with unused tokens), Qwen's
    special tokens after it, reserved tokens up to the model's `vocab` rows, STOP_TOKEN (eos) at id
    `vocab`: past every logit, never sampled. Returns the HF tokenizer and how many entries training
    made (the rest of the BPE vocabulary is padding)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe_size = vocab - QWEN_TAIL
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=bpe_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    data = json.loads(tok.to_str())
    trained = tok.get_vocab_size()
    entries = data["model"]["vocab"]  # token -> id, ids 0..n-1
    unused = (f"<unused{i}>" for i in range(bpe_size))  # no merge yields them: never produced by encoding
    while len(entries) < bpe_size:
        name = next(unused)
        entries.setdefault(name, len(entries))
    tok = Tokenizer.from_str(json.dumps(data))
    special = [*QWEN_SPECIALS, *(f"<|reserved_{i}|>" for i in range(vocab - bpe_size - len(QWEN_SPECIALS))),
               STOP_TOKEN]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in special])
    assert tok.token_to_id(QWEN_SPECIALS[0]) == bpe_size and tok.token_to_id(STOP_TOKEN) == vocab
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=STOP_TOKEN, pad_token=QWEN_SPECIALS[0])
    tokenizer.chat_template = CHATML
    return tokenizer, trained


def qwen_config(args: argparse.Namespace, eos_id: int, pad_id: int):
    """Qwen2.5-0.5B's configuration, with the sizes the arguments give."""
    from transformers import Qwen2Config

    return Qwen2Config(
        hidden_size=args.hidden, num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, intermediate_size=args.intermediate, vocab_size=args.vocab,
        max_position_embeddings=SHAPES["qwen2.5-0.5b"]["max_position_embeddings"], **QWEN25,
        initializer_range=0.02, eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=None)


def build_world(args: argparse.Namespace, work: Path) -> dict:
    import gc

    import torch
    from transformers import Qwen2ForCausalLM

    quiet_transformers()
    tokenizer, trained = build_tokenizer(args.vocab, training_text(args.seed))
    torch.manual_seed(args.seed)
    model = Qwen2ForCausalLM(qwen_config(args, tokenizer.eos_token_id, tokenizer.pad_token_id)).float()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(work / "model")
    tokenizer.save_pretrained(work / "model")
    records, n_records = write_records(args, work)
    world = {"model_dir": str(work / "model"), "records": records, "n_records": n_records,
             "parameters": sum(p.numel() for p in model.parameters()), "vocab": args.vocab,
             "tokenizer_size": len(tokenizer), "trained_bpe": trained,
             "shape": {k: getattr(args, k) for k in ("layers", "hidden", "heads", "kv_heads", "intermediate")}}
    del model  # the frameworks' processes measure their own memory; this one should hold little meanwhile
    gc.collect()
    return world


WORKERS = {"trl": worker_trl, "r1": worker_r1, "parts": worker_parts}


# ---------------------------------------------------------------------------------------------------
# Report.


def gib(mb: float | None) -> str:
    return "-" if mb is None else f"{mb / 1024:.2f}"


def memory_lines(res: dict, parameters: int) -> list[str]:
    """Each framework's peak and setup memory, and r1's parts' needs on top of what was resident."""
    lines = [f"arithmetic, fp32: weights {parameters * 4 / 2**30:.2f} GiB per model copy (policy, reference), "
             f"gradients {parameters * 4 / 2**30:.2f} GiB, AdamW moments {parameters * 8 / 2**30:.2f} GiB"]
    for name, label in (("trl", "TRL"), ("r1", "r1")):
        if name in res:
            m = res[name]["memory"]
            steps = " ".join(gib(p) for p in m["step_peak_mb"])
            lines.append(f"{label} memory (GiB): peak RSS {gib(m['peak_mb'])}; after setup {gib(m['setup_rss_mb'])} "
                         f"(anon {gib(m['setup_anon_mb'])}, file {gib(m['setup_file_mb'])}; peak while loading "
                         f"{gib(m['setup_peak_mb'])}); "
                         f"peak within each step {steps}")
    if "parts" in res:
        p = res["parts"]
        loaded = p["loaded_mb"]
        need = ", ".join(f"{k} +{gib(v['peak_mb'] - v['before_mb'])} (from {gib(v['before_mb'])})"
                         for k, v in p["memory"].items() if v["peak_mb"] is not None)
        lines.append(f"r1 parts memory (GiB): process at start {gib(loaded['start'])}, with the policy loaded "
                     f"{gib(loaded['policy'])}, and the reference {gib(loaded['reference'])}, with AdamW's moments "
                     f"{gib(loaded['adamw'])}; each part's peak over what it started from: {need}")
    return lines


def report(args: argparse.Namespace, world: dict, res: dict) -> list[str]:
    lines = header_lines(args, world)
    shape = world["shape"]
    lines.append(f"model: Qwen2 {shape['layers']} layers, hidden {shape['hidden']}, heads {shape['heads']}/"
                 f"{shape['kv_heads']}, MLP {shape['intermediate']}, tied embeddings; tokenizer "
                 f"{world['tokenizer_size']} ids (byte-level BPE, {world['trained_bpe']} entries trained, ChatML)")
    lines += framework_lines(res)
    for name, label in (("trl", "TRL"), ("r1", "r1")):
        phases = ", ".join(f"{k} {v['s']:.2f} s (peak {gib(v['peak_mb'])} GiB)"
                           for k, v in res.get(name, {}).get("phases", {}).items())
        if phases:
            lines.append(f"{label} step phases (mean per timed step; peak RSS while each ran): {phases}")
    if "parts" in res:
        p = res["parts"]
        lines.append(parts_line(args, p))
        if "plain_generate_s" in p:
            lines.append(f"plain HF alone: model.generate {p['plain_generate_s']:.3f} s "
                         f"({p['plain_tok_s']:,.0f} tok/s), policy fwd+bwd via model() + log_softmax "
                         f"{p['plain_fwd_bwd_s']:.3f} s")
    lines += memory_lines(res, world["parameters"])
    lines += token_warning(res)
    if "trl" in res and "r1" in res:
        t, r = res["trl"], res["r1"]
        lines.append(f"ratios: TRL s/step / r1 s/step {t['median_s'] / r['median_s']:.2f}, "
                     f"r1 peak RSS / TRL peak RSS {r['memory']['peak_mb'] / t['memory']['peak_mb']:.2f}, "
                     f"TRL CPU s/step / r1 CPU s/step {t['cpu_median_s'] / r['cpu_median_s']:.2f}")
    return lines


if __name__ == "__main__":
    run_bench(HERE, parse_args, WORKERS, build_world, report)
