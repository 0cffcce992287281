"""A character-level tokenizer trained with `tokenizers`, saved as a Hugging Face fast tokenizer.

Every character is its own token (so every digit is), and the chat-role and reasoning tags are
single special tokens. Character level suits a tiny model doing arithmetic: merged digit tokens
make column arithmetic much harder to learn.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

PAD, EOS, UNK = "<|pad|>", "<|end|>", "<|unk|>"
ROLES = ("<|system|>", "<|user|>", "<|assistant|>")
TAGS = ("<think>", "</think>", "<answer>", "</answer>", "<summary>", "</summary>")
RESERVED = tuple(f"<|reserved_{i}|>" for i in range(8))  # room for later stages without a new vocab
SPECIAL_TOKENS = [PAD, EOS, UNK, *ROLES, *TAGS, *RESERVED]

# <|user|>question<|end|><|assistant|>answer<|end|>
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def train_char_tokenizer(texts: Iterable[str], extra_chars: str = "") -> PreTrainedTokenizerFast:
    """Learn the character vocabulary of `texts` (plus `extra_chars`, e.g. printable ASCII)."""
    core = Tokenizer(models.WordLevel(unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    trainer = trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS, min_frequency=1)
    core.train_from_iterator(_with_extra(texts, extra_chars), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, eos_token=EOS, unk_token=UNK,
        additional_special_tokens=[*ROLES, *TAGS, *RESERVED], chat_template=CHAT_TEMPLATE,
        padding_side="left", clean_up_tokenization_spaces=False, model_max_length=1024,
    )


def _with_extra(texts: Iterable[str], extra_chars: str) -> Iterable[str]:
    yield from texts
    if extra_chars:
        yield extra_chars
