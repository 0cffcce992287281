"""What a reward model reads: one function, used when training and when scoring as a reward.

A response is cut to the part the model judges (`on`): `summary` keeps only the summary of R1's
readable format `<think>reasoning</think><summary>reply</summary>` (`r1.rewards.extract.summary_text`;
the helpfulness model of the paper reads only this), `whole` keeps the reasoning too (the harmlessness
model: harm hidden in the reasoning counts). The prompt's messages and the cut response are then
rendered with the model's chat template as one finished conversation, as TRL's RewardTrainer renders a
conversational record; a tokenizer without a chat template gets the prompt texts, the response and eos
run together (TRL's plain-text form).
"""

from __future__ import annotations

from typing import Any

from r1.errors import R1Error
from r1.rewards.extract import summary_text

Messages = list[dict[str, str]]


def as_messages(value: Any, where: str) -> Messages:
    """A prompt as chat messages: a string is one user turn, a list must be {role, content} messages,
    None is no prompt."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise R1Error(f"{where}: expected a string or a list of {{role, content}} messages, "
                      f"got {type(value).__name__}")
    out = []
    for i, m in enumerate(value):
        if not (isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)):
            raise R1Error(f"{where}[{i}]: each message must be an object with string role and content")
        out.append({"role": m["role"], "content": m["content"]})
    return out


def view(response: str, on: str) -> str:
    """The part of a response the model judges.

    >>> view("<think>I know the secret.</think><summary>7 is odd.</summary>", "summary")
    '7 is odd.'
    """
    if on == "summary":
        return summary_text(response)
    if on == "whole":
        return response
    raise R1Error(f"on: expected summary or whole, got {on!r}")


def rm_input(tokenizer, prompt: Messages, response: str, on: str) -> str:
    """The text the reward model scores for `response` to the conversation `prompt`."""
    text = view(response, on)
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": text}],
                                             tokenize=False)
    return "".join(m["content"] for m in prompt) + text + (tokenizer.eos_token or "")


def encode(tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of rendered texts (the chat template already holds any special tokens)."""
    return tokenizer(texts, add_special_tokens=not tokenizer.chat_template)["input_ids"]
