"""A stand-in for a real checkpoint, built here: a real architecture (Qwen2.5-0.5B's, or the same layout
shrunk) with random weights, a byte-level BPE tokenizer trained locally with Qwen's special tokens and
ChatML template, and the generation_config Qwen2.5-Instruct ships (two end-of-sequence ids,
repetition_penalty 1.1, top_k 20). Nothing is downloaded, and it has learnt nothing.

What it is for: rehearsing a real-model recipe end to end on a CPU at reduced depth before renting a
GPU (`r1 stand-in output_dir=runs/stand-in`, then the recipe with `model=runs/stand-in`), and running the
Qwen2 / BPE / ChatML path in CI, where the tiny world's Llama and character tokenizer would hide what a
real checkpoint brings (several eos ids, a default system prompt, sampling defaults in the checkpoint).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import torch
from pydantic import Field

from r1.config import StageConfig
from r1.train.config import PositiveInt

SHAPES = {
    # Qwen2.5-0.5B(-Instruct)'s config.json
    "qwen2.5-0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, max_position_embeddings=32768),
    # the same layout (grouped-query attention, biased q/k/v, tied embeddings) at a size a CPU test runs in seconds
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=128, vocab_size=0, max_position_embeddings=4096),
}
QWEN25 = dict(rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
              use_sliding_window=False)
"""What Qwen2.5's config.json fixes beside its sizes (bench/grpo_realistic.py builds the same)."""
SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
# Qwen2.5's template without its tool-calling branches: a system turn (the default one when none is given),
# each message as <|im_start|>role\ncontent<|im_end|>\n, and the assistant header to generate after.
CHATML = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if not (loop.first and message['role'] == 'system') %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


class StandInConfig(StageConfig):
    shape: Literal["qwen2.5-0.5b", "tiny"] = "tiny"
    """The architecture: qwen2.5-0.5b (494M parameters, ~2 GB in fp32) or tiny (the same layout, ~0.2M
    parameters)."""
    layers: PositiveInt | None = None
    """Decoder layers, to shrink a shape's depth (None: the shape's)."""
    tokenizer_vocab: Annotated[int, Field(ge=300)] = 2048
    """Tokens the BPE tokenizer learns (its 256 bytes and 3 special tokens included); the model's
    vocabulary is the shape's, or this rounded up to a multiple of 64 for tiny."""
    dtype: Literal["fp32", "bf16"] = "fp32"
    """dtype of the saved weights (Qwen ships bf16)."""
    corpus_docs: PositiveInt = 4000
    """Tiny-world documents and GSM8K train questions the tokenizer is trained on."""


def training_text(cfg: StandInConfig) -> list[str]:
    """Text for the BPE merges: tiny-world documents, GSM8K's train questions (shipped), and chat turns."""
    from r1.eval.data import benchmark_path, read_jsonl
    from r1.models.corpus import CorpusMix, sample_documents

    mix = CorpusMix({"arithmetic": 0.5, "linear": 0.25, "countdown": 0.25}, None, 0.5, 0.15, 0.2)
    texts = sample_documents(mix, cfg.corpus_docs, f"{cfg.seed}/stand-in")
    texts += [r["problem"] for r in read_jsonl(benchmark_path("gsm8k", "train"))[: cfg.corpus_docs]]
    texts += [f"<think>\n{t}\n</think>\n<answer>{i}</answer>" for i, t in enumerate(texts[:200])]
    return texts


def build_tokenizer(cfg: StandInConfig):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=cfg.tokenizer_vocab, special_tokens=list(SPECIAL),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(training_text(cfg), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHATML, model_max_length=SHAPES[cfg.shape]["max_position_embeddings"],
                                   clean_up_tokenization_spaces=False, split_special_tokens=False)


def build(cfg: StandInConfig) -> Path:
    """output_dir/final: the model, its tokenizer and generation_config, with r1's finished marker."""
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from r1.progress import console
    from r1.runtime import set_seed
    from r1.train.checkpoint import is_final, write_final

    out = Path(cfg.output_dir) / "final"
    if is_final(out):
        return out
    set_seed(cfg.seed)
    tokenizer = build_tokenizer(cfg)
    endoftext, im_end = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    shape = dict(SHAPES[cfg.shape])
    shape["vocab_size"] = shape["vocab_size"] or -(-len(tokenizer) // 64) * 64
    if cfg.layers:
        shape["num_hidden_layers"] = cfg.layers
    config = Qwen2Config(**shape, **QWEN25, bos_token_id=endoftext, eos_token_id=im_end,
                         dtype="bfloat16" if cfg.dtype == "bf16" else "float32")
    model = Qwen2ForCausalLM(config).to(torch.bfloat16 if cfg.dtype == "bf16" else torch.float32)
    model.generation_config = GenerationConfig(
        bos_token_id=endoftext, eos_token_id=[im_end, endoftext], pad_token_id=endoftext, do_sample=True,
        repetition_penalty=1.1, temperature=0.7, top_p=0.8, top_k=20)
    parameters = sum(p.numel() for p in model.parameters())
    write_final(model, tokenizer, out, {"stand_in": cfg.shape, "parameters": parameters})
    console.print(f"stand-in: {cfg.shape} Qwen2 layout, {parameters / 1e6:.2f}M parameters with random weights, "
                  f"a {len(tokenizer)}-token BPE tokenizer, ChatML -> {out}")
    return out
