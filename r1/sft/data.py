"""SFT records -> token ids with the loss on the response only -> padded micro-batches.

A record is {prompt, response} or {messages: [{role, content}, ...]} ending with an assistant turn,
with an optional `system`. The prompt is rendered exactly as GRPO and eval render it
(`r1.prompts.build_prompt`: the chat template with the generation prompt, r1_zero or plain), the
response follows it and gets eos appended, as GRPO trains finished completions:

    input_ids  [<prompt tokens>][<response tokens> eos][pad ...]
    labels     [-100 ...       ][<response tokens> eos][-100 ...]

In a chat every assistant reply is trained by default, each with its eos (TRL's behaviour); the
system and user turns between them are context, unlabelled (train_on=last_turn: only the last reply,
earlier turns are all context):

    input_ids  [<prompt>][<reply 1> eos][<user turn 2, assistant header>][<reply 2> eos]
    labels     [-100 ...][<reply 1> eos][-100 ...                       ][<reply 2> eos]

Each piece is tokenized separately, so a reply's tokens are the ones a rollout of the text before it
would produce. The pieces are cut from the chat template's own renderings of the growing chat, so a
template that renders an earlier reply other than as the reply and eos is refused (use last_turn).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from r1.errors import R1Error
from r1.eval.data import load_saved, read_jsonl_lines
from r1.prompts import build_prompt, user_message

IGNORE = -100
"""Label of positions without loss (prompt and padding), as torch's cross_entropy ignores."""


@dataclass
class Example:
    prompt_ids: list[int]
    response_ids: list[int]  # eos included; with several replies, the turns between them too
    context: list[bool] | None = None  # [len(response_ids)] True at the turns between replies; None: none

    def __len__(self) -> int:
        return len(self.prompt_ids) + len(self.response_ids)

    def labels(self) -> list[int]:
        """The ids where there is loss (the replies and their eos), IGNORE elsewhere."""
        context = self.context or [False] * len(self.response_ids)
        return [IGNORE] * len(self.prompt_ids) + [IGNORE if c else t for t, c in zip(self.response_ids, context)]

    @property
    def trained(self) -> int:
        """Tokens with loss."""
        return len(self.response_ids) - sum(self.context or [])


def read_records(cfg) -> list[tuple[str, dict[str, Any]]]:
    """(where, record) pairs: `where` names the file and line (or record) for error messages."""
    if not cfg.data:
        from r1.models.corpus import render_completion
        from r1.tasks import generate

        return [(r["id"], {"prompt": r["problem"], "response": render_completion(r["solution"], r["answer"])})
                for family in cfg.families
                for r in generate(family, "train", cfg.train_problems, cfg.seed, cfg.difficulty)]
    pairs = []
    for source in [cfg.data] if isinstance(cfg.data, str) else cfg.data:
        path = Path(source)
        if path.is_dir():
            pairs += [(f"{path} record {i + 1}", r) for i, r in enumerate(load_saved(path, cfg.data_split))]
        else:
            pairs += [(f"{path}:{line_no}", record) for line_no, record in read_jsonl_lines(path)]
    return pairs


def _text(record: dict, key: str, where: str) -> str:
    if key not in record or record[key] is None:
        raise R1Error(f"{where}: missing field '{key}'")
    if not isinstance(record[key], str):
        raise R1Error(f"{where}: field '{key}' must be a string, got {type(record[key]).__name__}")
    return record[key]


def conversation(record: dict, where: str) -> tuple[list[dict[str, str]], str]:
    """(messages before the trained reply, the reply) of a prompt/response or messages record."""
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise R1Error(f"{where}: field 'messages' must be a non-empty list of {{role, content}}")
        turns = []
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                raise R1Error(f"{where}: messages[{i}] must be an object with role and content")
            turns.append({"role": _text(m, "role", f"{where}: messages[{i}]"),
                          "content": _text(m, "content", f"{where}: messages[{i}]")})
        if turns[-1]["role"] != "assistant":
            raise R1Error(f"{where}: the last message must be the assistant's reply to train on, "
                          f"got role '{turns[-1]['role']}'")
        history, reply = turns[:-1], turns[-1]["content"]
    else:
        if "prompt" not in record:
            raise R1Error(f"{where}: missing field 'prompt' (or give 'messages')")
        history = [{"role": "user", "content": _text(record, "prompt", where)}]
        reply = _text(record, "response", where)
    if record.get("system") is not None:
        history = [{"role": "system", "content": _text(record, "system", where)}, *history]
    if not any(m["role"] == "user" for m in history):
        raise R1Error(f"{where}: no user message before the assistant's reply")
    if not reply.strip():
        raise R1Error(f"{where}: empty response")
    return history, reply


def render_prompt(tokenizer, history: list[dict[str, str]], template: str, suffix: str, where: str) -> str:
    """The prompt text; a single user turn gives exactly `build_prompt`'s text (what GRPO and eval feed)."""
    if len(history) == 1:
        return build_prompt(tokenizer, history[0]["content"], template, suffix)
    if template != "chat":
        raise R1Error(f"{where}: template '{template}' renders one user turn; a system prompt or "
                      "several turns need template=chat")
    if not tokenizer.chat_template:
        raise R1Error("template: 'chat' needs a tokenizer with a chat template; use r1_zero or plain")
    last_user = max(i for i, m in enumerate(history) if m["role"] == "user")
    if suffix:
        history = [dict(m, content=f"{m['content']}\n{suffix}") if i == last_user else m
                   for i, m in enumerate(history)]
    return tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=True)


def load_examples(cfg, tokenizer) -> list[Example]:
    """Every record rendered and tokenized; bad or (with overlong=refuse) too long records stop the run."""
    pairs = read_records(cfg)
    if not pairs:
        raise R1Error(f"data: {cfg.data or 'families'} gave no training records")
    pieces = [chat_pieces(tokenizer, cfg, *conversation(record, where), where) for where, record in pairs]
    wheres = [where for where, _ in pairs]
    flat = tokenizer([text for parts in pieces for text in parts], add_special_tokens=False)["input_ids"]
    examples, at = [], 0
    for parts in pieces:
        examples.append(example(flat[at:at + len(parts)], tokenizer.eos_token_id))
        at += len(parts)
    too_long = [(w, len(e)) for w, e in zip(wheres, examples) if len(e) > cfg.max_seq_len]
    if too_long and cfg.overlong == "refuse":
        where, n = too_long[0]
        raise R1Error(f"{where}: {n} tokens (prompt + response + eos) exceed max_seq_len={cfg.max_seq_len} "
                      f"({len(too_long)} records do); raise max_seq_len or set overlong=drop")
    examples = [e for e in examples if len(e) <= cfg.max_seq_len]
    if not examples:
        raise R1Error(f"data: every record is longer than max_seq_len={cfg.max_seq_len}")
    return examples


def chat_pieces(tokenizer, cfg, history: list[dict[str, str]], reply: str, where: str) -> list[str]:
    """The record's text as [context, reply, context, reply, ...]: each reply is trained (with an eos
    after it), each context is not. One reply unless train_on=all_turns and the chat has several."""
    first = next(i for i, m in enumerate(history) if m["role"] == "user")
    earlier = [i for i, m in enumerate(history) if m["role"] == "assistant" and i > first]
    if cfg.train_on == "last_turn" or not earlier:
        return [render_prompt(tokenizer, history, cfg.template, cfg.suffix, where), reply]
    turns = [dict(m, content=user_message(m["content"], cfg.suffix)) if m["role"] == "user" else m
             for m in [*history, {"role": "assistant", "content": reply}]]
    render_prompt(tokenizer, turns[:-1], cfg.template, "", where)  # refuses a template other than chat
    pieces, done = [], ""
    for i in [*earlier, len(history)]:
        prompt = tokenizer.apply_chat_template(turns[:i], tokenize=False, add_generation_prompt=True)
        if not prompt.startswith(done):
            raise R1Error(f"{where}: the chat template does not render an earlier reply as the reply and "
                          f"eos {tokenizer.eos_token!r}, so it cannot be trained; set train_on=last_turn")
        pieces += [prompt[len(done):], turns[i]["content"]]
        done = prompt + turns[i]["content"] + tokenizer.eos_token
    return pieces


def example(ids: list[list[int]], eos_id: int) -> Example:
    """An Example from the token ids of [context, reply, context, reply, ...]; eos follows each reply."""
    response, context = [], []
    for j, part in enumerate(ids[1:]):
        reply = j % 2 == 0
        part = part + [eos_id] if reply else part
        response += part
        context += [not reply] * len(part)
    return Example(ids[0], response, context if any(context) else None)


@dataclass
class Batch:
    input_ids: torch.Tensor  # [b, T]
    attention_mask: torch.Tensor  # [b, T]
    labels: torch.Tensor  # [b, T], IGNORE outside the responses

    def to(self, device) -> "Batch":
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.labels.to(device))

    @property
    def tokens(self) -> int:
        """Real (non-pad) tokens."""
        return int(self.attention_mask.sum())


def collate(examples: list[Example], pad_id: int) -> Batch:
    """Right-pad to the longest example; labels are the response ids, IGNORE elsewhere."""
    width = max(len(e) for e in examples)
    ids, mask, labels = [], [], []
    for e in examples:
        pad = width - len(e)
        ids.append(e.prompt_ids + e.response_ids + [pad_id] * pad)
        mask.append([1] * len(e) + [0] * pad)
        labels.append(e.labels() + [IGNORE] * pad)
    return Batch(torch.tensor(ids), torch.tensor(mask), torch.tensor(labels))


def split(items: list, parts: int, index: int) -> list:
    """The index-th of `parts` contiguous, near-equal slices of items."""
    return items[round(len(items) * index / parts): round(len(items) * (index + 1) / parts)]
