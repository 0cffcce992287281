"""DistillConfig: a teacher, a student, the prompts, and the two stages distillation is made of
(rejection-sample on the teacher, then sft of the student), each set by a mapping of its own fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from r1.config import StageConfig, build_config, refuse_owned
from r1.train.config import Difficulty, PositiveInt

PROMPT_FIELDS = ("data", "data_split", "task", "fields", "families", "difficulty", "train_problems", "n", "k")
"""Fields distill hands to rejection-sample as they are (documented there: `r1 rejection-sample --help`)."""
TRACES = "traces"
"""The teacher's samples and traces go to output_dir/traces/ (a rejection-sample output_dir)."""


class DistillConfig(StageConfig):
    teacher: str
    """The model whose reasoning is distilled (e.g. an RL checkpoint): a local HF directory or a stage's
    output_dir (its final/). It samples the traces."""
    student: str
    """The model fine-tuned on the traces: a pretrained model directory or a pretrain run's output_dir.
    Its tokenizer must be the teacher's (the same token ids, special tokens, eos and pad)."""
    data: str | None = None
    """Prompts as rejection-sample's `data`; without it, the tiny-world `families` give them."""
    data_split: str = "train"
    """As rejection-sample's `data_split`."""
    task: str | None = None
    """How `data` is scored, as rejection-sample's `task` (traces keep the correct samples only)."""
    fields: dict[str, str] = Field(default_factory=dict)
    """As rejection-sample's `fields`."""
    families: list[str] = Field(default_factory=lambda: ["arithmetic"])
    """As rejection-sample's `families` (used without `data`)."""
    difficulty: Difficulty | None = None
    """As rejection-sample's `difficulty`."""
    train_problems: PositiveInt = 100
    """As rejection-sample's `train_problems`: prompts per tiny-world family."""
    n: PositiveInt | None = None
    """As rejection-sample's `n`: only the first n records of `data`."""
    k: PositiveInt = 4
    """Teacher samples per prompt; the correct ones, filtered (and capped by sample.max_per_prompt),
    are the student's training records."""
    sample: dict[str, Any] = Field(default_factory=dict)
    """Other fields of the teacher's rejection-sample run (`r1 rejection-sample --help`): temperature,
    top_p, max_new_tokens, template, suffix, response_prefix, stop, batch_size, engine, filters,
    max_per_prompt, non_reasoning, judge, ... (model, output_dir and the fields above are distill's)."""
    sft: dict[str, Any] = Field(default_factory=dict)
    """Fields of the student's SFT (`r1 sft --help`): epochs or max_steps, lr, batch_size, max_seq_len,
    lora, eval_benchmarks, ... (model, data and output_dir are distill's). template defaults to the
    sampling template and suffix to "" (each trace's prompt already ends with the sampling suffix)."""

    def traces_config(self):
        """The teacher's rejection-sample config (output_dir/traces), validated and checked."""
        from r1.rejection.config import RejectionConfig

        refuse_owned("sample", self.sample, ("model", "output_dir", *PROMPT_FIELDS),
                     "distill sets this field of the sample stage; set it with distill's own field (teacher for model)")
        fields = {"model": self.teacher, "output_dir": str(Path(self.output_dir) / TRACES), "seed": self.seed,
                  **{name: getattr(self, name) for name in PROMPT_FIELDS}, **self.sample}
        return build_config(RejectionConfig, fields, "sample")

    def student_config(self):
        """The student's SFT config (output_dir: its final/ is the distilled student), validated and checked."""
        from r1.sft.config import SFTConfig

        refuse_owned("sft", self.sft, ("model", "data", "output_dir"),
                     "distill sets this field of the sft stage; distill sets it (student for model)")
        fields = {"seed": self.seed, "template": self.traces_config().template, "suffix": "", **self.sft,
                  "model": self.student, "data": str(Path(self.output_dir) / TRACES / "data.jsonl"),
                  "output_dir": self.output_dir}
        return build_config(SFTConfig, fields, "sft")

    def check(self) -> None:
        """Refuse settings that cannot run, with one clear line (an R1Error): both stages' configs are
        built here, so a bad key in `sample` or `sft` fails before the teacher samples anything."""
        self.traces_config()
        self.student_config()
