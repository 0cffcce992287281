"""SFTConfig: every knob of a supervised fine-tuning run, each documented once where it is declared."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from r1.train.config import Count, Difficulty, PositiveInt, Rate, Temperature, TrainConfig
from r1.errors import R1Error
from r1.models.lora import LoraSettings
from r1.prompts import Template


class SFTConfig(TrainConfig):
    model: str
    """Local Hugging Face directory of the model to fine-tune."""
    data: str | list[str] | None = None
    """A JSONL file or datasets dir of records {prompt, response} or {messages: [...]}, optional system;
    or a list of them, trained on together (e.g. reasoning and non-reasoning sets)."""
    data_split: str = "train"
    """The split of `data` to train on, when it is a datasets directory holding several."""
    families: list[str] = Field(default_factory=list)
    """Without `data`: tiny-world families whose 'train' problems become step-by-step solutions
    in the R1 format, <think>steps</think><answer>answer</answer>."""
    difficulty: Difficulty | None = None
    """Difficulty of the tiny-world problems; None uses each family's default."""
    train_problems: PositiveInt = 2000
    """Records drawn per family (with `families`)."""
    template: Template = "chat"
    """How a prompt is rendered, as GRPO and eval render it: chat (the tokenizer's template),
    r1_zero (the paper's plain-text template) or plain."""
    suffix: str = ""
    """Appended to each user prompt, as GRPO's and eval's `suffix`."""
    max_seq_len: Annotated[int, Field(ge=2)] = 1024
    """Longest prompt + response + eos, in tokens."""
    train_on: Literal["all_turns", "last_turn"] = "all_turns"
    """Which assistant replies of a multi-turn `messages` record have loss: every one, each with its eos
    (all_turns, as TRL), or only the last (last_turn; earlier replies are then context). Prompts,
    system and user turns never have loss. Needs template=chat for several turns."""
    overlong: Literal["refuse", "drop"] = "refuse"
    """A record longer than max_seq_len stops the run before training (refuse) or is left out (drop);
    it is never truncated, which would teach the model to stop mid-answer."""
    batch_size: PositiveInt = 16
    """Records per optimizer step, over all processes together."""
    grad_accum: PositiveInt = 1
    """Micro-batches per process per optimizer step (same gradient, less memory)."""
    epochs: Rate = 1.0
    """Passes over the data (with max_steps = 0)."""
    max_steps: Count = 0
    """Optimizer steps in all; 0 derives them from epochs."""
    sort_by_length: bool = False
    """Sort each step's records by length before splitting them into micro-batches (less padding)."""
    lr_schedule: Literal["constant", "cosine"] = "cosine"
    """constant after warmup, or cosine decay that reaches lr * min_lr_ratio at the last step."""
    lora: LoraSettings = Field(default_factory=LoraSettings)
    """LoRA adapters instead of full fine-tuning; output_dir/final is then the merged full model."""
    save_every: Count = 100
    """Write output_dir/checkpoint every this many steps (0: only at the end)."""
    eval_benchmarks: list[str] = Field(default_factory=list)
    """Held-out benchmarks scored at the end (e.g. tiny:arithmetic); empty: no eval."""
    eval_problems: PositiveInt = 100
    """Held-out problems per benchmark."""
    eval_k: PositiveInt = 4
    """Samples per held-out problem."""
    eval_temperature: Temperature = 1.0
    """Eval sampling temperature (0: greedy)."""
    eval_max_new_tokens: PositiveInt = 256
    """Longest eval completion."""
    stop: list[str] = Field(default_factory=lambda: ["</answer>"])
    """Eval generation also ends after these strings."""

    def check(self) -> None:
        """Refuse settings that cannot train, with one clear line (an R1Error)."""
        problems = [
            (not self.data and not self.families, "no training data: give data (a JSONL file or datasets "
                                                  "dir) or families (tiny-world tasks)"),
        ]
        for bad, message in problems:
            if bad:
                raise R1Error(message)
