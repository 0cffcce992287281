"""RejectionConfig: every knob of rejection sampling (R1's stage-3 data), each documented once here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from r1.errors import R1Error
from r1.eval.data import shipped_task
from r1.eval.run import SamplingConfig
from r1.eval.scoring import TASKS
from r1.rejection.filters import FilterSettings
from r1.rejection.judge import JudgeSettings
from r1.train.config import Difficulty, PositiveInt

SAMPLING_FIELDS = ("model", "data", "data_split", "task", "fields", "families", "difficulty", "train_problems", "n",
                   "k", "temperature", "top_p", "max_new_tokens", "template", "suffix", "response_prefix",
                   "stop", "batch_size", "engine", "seed")
"""What decides the samples (a resumed run must agree on them); filters, cap and mix may change."""


class RejectionConfig(SamplingConfig):
    """Sampling (`model`, `k`, `temperature`, `suffix`, ...) is r1 eval's, with its defaults. The user
    message (problem and suffix) becomes each output record's prompt and the response_prefix the start
    of its response, so `r1 sft` with the same template trains on exactly what was sampled."""

    data: str | None = None
    """A JSONL file (or datasets dir) of records with `problem` and what their verifier needs; needs
    `task`. Without it, the tiny-world `families` give the prompts (train split)."""
    data_split: str = "train"
    """The split of `data` to sample, when it has splits (a DatasetDict directory, hf:NAME)."""
    task: str | None = None
    """How `data` is scored: math, gsm8k, code, tiny (each record's family) by rules, as `r1 eval`
    scores; or judge, the generative judge (`judge`), for answers rules cannot check. With data=gsm8k
    (a shipped benchmark: its train split) None means the benchmark's scorer."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Columns of `data` under r1's names, e.g. {problem: question, answer: final_answer}."""
    families: list[str] = Field(default_factory=lambda: ["arithmetic"])
    """Tiny-world task families whose train split gives the prompts (when `data` is not set)."""
    difficulty: Difficulty | None = None
    """Difficulty of the tiny-world prompts; None uses each family's default."""
    train_problems: PositiveInt = 100
    """Problems drawn per tiny-world family (with `families`)."""
    n: PositiveInt | None = None
    """With `data`: only its first n records (None: all of them)."""
    filters: FilterSettings = Field(default_factory=FilterSettings)
    """Which correct responses are dropped, each filter switchable (see r1.rejection.filters)."""
    max_per_prompt: PositiveInt | None = None
    """Keep at most this many responses per prompt, after the filters (None: no cap)."""
    non_reasoning: str | None = None
    """A JSONL file of SFT records without reasoning (writing, factual QA, ...), {prompt, response} or
    {messages}, mixed into the output."""
    non_reasoning_share: Annotated[float, Field(ge=0, lt=1)] = 0.25
    """Share of the output's records drawn from `non_reasoning` (DeepSeek-R1: ~200k of ~800k)."""
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    """The generative judge (an OpenAI-compatible endpoint), used with task=judge."""
    resume: bool = True
    """Reuse the samples an interrupted (or earlier) run left in output_dir/samples.jsonl, and
    re-filter them (changed filters, cap or mix resample nothing); false refuses to touch them."""

    @property
    def scoring_task(self) -> str:
        """How samples are checked: `task`, or tiny (each record's family) for the tiny-world prompts."""
        if not self.data:
            return "tiny"
        return self.task or shipped_task(self.data)

    def check(self) -> None:
        """Refuse settings that cannot run, with one clear line (an R1Error)."""
        problems = [
            (self.data is not None and self.scoring_task not in (*TASKS, "judge"),
             f"task: with data, task must be one of {', '.join((*TASKS, 'judge'))} (got {self.task!r})"),
            (self.data is None and self.task not in (None, "tiny"),
             f"task: {self.task!r} needs data; the tiny-world families are scored by their verifiers"),
            (not self.data and not self.families, "no prompts: give families or data"),
        ]
        for bad, message in problems:
            if bad:
                raise R1Error(message)
        if self.scoring_task == "judge":
            self.judge.check()
