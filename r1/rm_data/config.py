"""RMDataConfig: every knob of the reward-model data stage, each documented once here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from r1.errors import R1Error
from r1.eval.run import SamplingConfig
from r1.tasks.writer import FACTS, NUMBER_TWINS, WriterSettings
from r1.train.config import Count, PositiveInt

SAMPLING_FIELDS = ("model", "prompts", "train_prompts", "test_prompts", "kinds", "k", "temperature", "top_p",
                   "max_new_tokens", "template", "suffix", "response_prefix", "stop", "batch_size", "engine",
                   "seed")
"""What decides the model's samples (a resumed run must agree on them); the writer, margin and the
balance may change and resample nothing."""


class RMDataConfig(SamplingConfig):
    """Sampling (`k`, `temperature`, `suffix`, ...) is r1 eval's; the defaults here suit general prompts
    (no boxed-answer instruction, generation ends after the summary)."""

    model: str | None = None
    """Local Hugging Face model directory whose samples are candidates (e.g. the stage-3 SFT model);
    None: only written responses."""
    k: PositiveInt = 4
    """Samples per prompt from `model`."""
    max_new_tokens: PositiveInt = 256
    """Longest sampled completion."""
    suffix: str = ""
    """Appended to each prompt (general prompts need no instruction)."""
    stop: list[str] = ["</summary>"]
    """Generation also ends after these strings."""
    prompts: str | None = None
    """A JSONL file of general prompt records {id, prompt, kind, fields} (`r1 tasks general-prompts`);
    each goes to the held-out files when its prompt is in the test split. None: draw the tiny world's."""
    train_prompts: PositiveInt = 300
    """Train-split prompts drawn (without `prompts`)."""
    test_prompts: Count = 60
    """Test-split prompts drawn for the held-out files (without `prompts`)."""
    kinds: list[str] | None = None
    """Kinds of prompt drawn (see r1.tasks.general_prompts.KINDS); None: all."""
    writer_per_prompt: Count = 4
    """Written responses of mixed quality added per prompt (r1.tasks.writer), so the data exists even
    when the model is weak; 0: the model's samples only."""
    writer: WriterSettings = Field(default_factory=WriterSettings)
    """The quality mix of the written responses."""
    twins_per_prompt: Count = 0
    """Contrast pairs added per TRAIN prompt: a written reply and its twin that differs in one thing (a
    fact made false, the number the facts are about, the thing a refusal names; r1.tasks.writer.
    twin_replies), ordered by the oracle and kept past `margin`. They teach a reward model to check
    each fact against the prompt instead of counting sentences; the held-out pairs get none."""
    twin_kinds: list[Literal[NUMBER_TWINS]] = Field(default_factory=lambda: list(NUMBER_TWINS), min_length=1)
    """What a number prompt's twin changes (r1.tasks.writer.TWINS), drawn evenly; a secret prompt's twin
    always changes the thing its refusal names."""
    claim_twins_per_prompt: Count = 0
    """Single-claim contrast pairs added per TRAIN prompt about a number: a reply of one true claim
    against the same claim made false (r1.tasks.writer.claim_twin). The oracle prefers the true one
    by 1/3, so these are kept whatever `margin` (it screens noisy samples; these are exact). Without
    many of them a small helpfulness model learns what good replies look like, not whether a fact
    holds (bench/rm_claim_probe.py, docs/reward-models.md)."""
    world_claims: dict[Literal[FACTS], PositiveInt] = Field(default_factory=dict)
    """Single-claim pairs (as claim_twins_per_prompt writes them) about EVERY number of the tiny world
    (2-999) rather than a drawn prompt's: on each train-split prompt that asks about the number (its
    three wordings, and one with a secret aside), this many per fact named (even, div3, div5, prime,
    digit_sum, square); {}: none. The drawn train prompts name ~200 numbers, so a held-out prompt's
    number is mostly new and facts that take memory or two steps of arithmetic (divisible by 3, prime)
    stay near chance; these make the world's facts known, as a real reward model knows facts from
    pretraining. Test-split prompts get none, so held-out pairs stay unseen. Measured: they teach the
    claims alone (divisible by 3: 48% -> 80%) but not replies that hold several, and held-out pair
    accuracy fell (91.4% -> 88.1%; docs/reward-models.md), so the tiny recipe leaves them off."""
    margin: Annotated[float, Field(gt=0, le=1)] = 0.2
    """A pair needs helpfulness scores at least this far apart (closer ones are ties, dropped)."""
    max_pairs_per_prompt: PositiveInt | None = 8
    """Keep at most this many pairs per prompt, a seeded draw (None: every pair)."""
    harmless_per_harmful: Annotated[float, Field(gt=0)] | None = 1.0
    """Pointwise balance: all harmful responses and this many harmless ones per harmful one, a seeded
    draw (None: every response)."""
    resume: bool = True
    """Reuse the samples an earlier run left in output_dir/samples.jsonl (the same sampling settings);
    false refuses to touch them."""

    def check(self) -> None:
        """Refuse settings that cannot run, with one clear line (an R1Error)."""
        problems = [
            (not self.model and self.writer_per_prompt < 1,
             "no responses to label: give model, or writer_per_prompt >= 1"),
        ]
        for bad, message in problems:
            if bad:
                raise R1Error(message)
