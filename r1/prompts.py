"""Turning a problem into the text a model continues: chat template, the R1-Zero template, or plain."""

from __future__ import annotations

from typing import Literal

from transformers import PreTrainedTokenizerBase

from r1.errors import R1Error

Template = Literal["chat", "r1_zero", "plain"]

# The R1-Zero template of the DeepSeek-R1 paper (Table 1), for base models without a chat template.
R1_ZERO = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user "
    "with the answer. The reasoning process and answer are enclosed within <think> </think> and "
    "<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> "
    "<answer> answer here </answer>. User: {prompt} Assistant:"
)
# The paper's evaluation instruction for math benchmarks.
BOXED_SUFFIX = "Please reason step by step, and put your final answer within \\boxed{}."


def user_message(problem: str, suffix: str = "") -> str:
    """What the user says: the problem, and the instruction `suffix` on its own line."""
    if not isinstance(problem, str):
        raise R1Error("data: this stage needs each prompt as text; chat-message prompts are rendered by "
                      "r1 grpo (template=chat)")
    return f"{problem}\n{suffix}" if suffix else problem


def build_prompt(tokenizer: PreTrainedTokenizerBase, problem: str | list[dict[str, str]],
                 template: Template = "chat", suffix: str = "", response_prefix: str = "") -> str:
    """The prompt text for one problem; `response_prefix` (e.g. "<think>\\n") forces how the reply starts.

    A problem given as chat messages (TRL's conversational prompt) goes through the chat template whole,
    with `suffix` after the last message's text."""
    if isinstance(problem, list):
        if template != "chat":
            raise R1Error(f"template: a prompt given as chat messages needs template=chat (got {template})")
        *before, last = problem
        messages = [*before, {**last, "content": user_message(last["content"], suffix)}]
        return chat_text(tokenizer, messages) + response_prefix
    user = user_message(problem, suffix)
    if template == "chat":
        text = chat_text(tokenizer, [{"role": "user", "content": user}])
    elif template == "r1_zero":
        # the paper's "User: prompt. Assistant:", without a second period after a prompt that ends in one
        text = R1_ZERO.format(prompt=user if user.rstrip().endswith((".", "?", "!")) else user.rstrip() + ".")
    elif template == "plain":
        text = user
    else:
        raise R1Error(f"template: unknown template {template!r} (known: chat, r1_zero, plain)")
    return text + response_prefix


def chat_text(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]]) -> str:
    """The tokenizer's chat template over `messages`, opened for the assistant's reply."""
    if not tokenizer.chat_template:
        raise R1Error("template: 'chat' needs a tokenizer with a chat template; use r1_zero or plain")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
