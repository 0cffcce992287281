"""RewardModelConfig: every knob of a reward-model run (`r1 train-rm`), each documented once."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from r1.errors import R1Error
from r1.train.config import Count, PositiveInt, TrainConfig

Objective = Literal["pairwise", "pointwise"]
View = Literal["summary", "whole"]


class RewardModelConfig(TrainConfig):
    model: str
    """Local Hugging Face directory of the causal LM to start from (e.g. the SFT model); a score head
    with one output is put on it (AutoModelForSequenceClassification, num_labels=1)."""
    data: str
    """JSONL file or datasets dir. pairwise: TRL preference records {prompt, chosen, rejected} (text or
    chat messages; prompt optional, optional margin); pointwise: {prompt, completion, label} with
    label true for a good (e.g. harmless) response, optional harm_in."""
    data_split: str = "train"
    """The split of `data` to train on, when it is a datasets directory holding several."""
    eval_data: str | None = None
    """Held-out records in the same format (JSONL or datasets dir, split `eval_split`); without it
    `eval_fraction` of `data` is held out."""
    eval_split: str = "test"
    """The split of `eval_data`, when it is a datasets directory."""
    eval_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.1
    """Share of `data` held out for eval.json when no eval_data is given (seeded draw)."""
    objective: Objective = "pairwise"
    """pairwise: Bradley-Terry, loss -log sigmoid(r_chosen - r_rejected - margin); pointwise: binary
    cross-entropy of the single score against the label."""
    on: View = "summary"
    """What the model reads of a response: summary (the <summary> part only, R1's helpfulness model)
    or whole (reasoning included, R1's harmlessness model); training and scoring read the same."""
    pool: Literal["last", "sum"] = "last"
    """Which of the head's per-token scores make a response's score: last (the last token's, as Hugging
    Face's sequence classifier) or sum (every token's; suits a judge that adds up per-sentence verdicts);
    recorded with the model, so the `rm:` reward pools the same way."""
    token_l2: Annotated[float, Field(ge=0)] = 0.0
    """Pool sum: add this times the mean squared per-token score (over real tokens) to the loss. A
    preference only fixes differences of summed scores, so without it each sentence may carry a large
    score of its own that moves with the number it names and swamps the small difference one false fact
    makes; the penalty keeps scores near zero wherever nothing is judged. Measured (docs/reward-models.md):
    +3.0 points of held-out pair accuracy on one seed's data, -1.5 on another's, so the recipes leave it off."""
    margin: Annotated[float, Field(ge=0)] = 0.0
    """Pairwise: a margin every pair must clear, added to a record's own `margin` field (TRL's)."""
    max_seq_len: PositiveInt = 1024
    """Longest rendered prompt + response, in tokens."""
    overlong: Literal["refuse", "drop"] = "refuse"
    """A record longer than max_seq_len stops the run (refuse) or is left out (drop), never truncated."""
    batch_size: PositiveInt = 16
    """Records (pairs, or labelled responses) per optimizer step, over all processes together."""
    grad_accum: PositiveInt = 1
    """Micro-batches per process per optimizer step (same gradient, less memory)."""
    group_by_length: bool = False
    """Draw each step's records among records of similar length (r1.train.data.length_grouped): less
    padding, so faster steps where lengths vary; the draw order changes, and with it the model
    (measured: docs/reward-models.md)."""
    lean: bool = True
    """Train Llama-family models (Llama, Qwen2, Mistral) on r1's lean forward (r1.reward_models.lean):
    a pair's shared beginning runs once and the batch runs in chunks of similar length; the same
    scores, 2.2x faster training on the tiny recipe (docs/reward-models.md). Other models, and wrapped ones
    (DDP/FSDP/peft), take the model's own forward; false: always the model's own."""
    epochs: Annotated[float, Field(gt=0)] = 1.0
    """Passes over the data (with max_steps = 0)."""
    max_steps: Count = 0
    """Optimizer steps in all; 0 derives them from epochs."""
    lr: Annotated[float, Field(gt=0)] = 1e-4
    """Peak learning rate."""
    save_every: Count = 100
    """Write output_dir/checkpoint every this many steps (0: only at the end)."""
    eval_every: Count = 0
    """Also score the held-out records every this many steps (0: only at the end)."""
    eval_batch_size: PositiveInt = 32
    """Responses per forward when scoring held-out records."""

    def check(self) -> None:
        """Refuse settings that cannot train, with one clear line (an R1Error)."""
        problems = [
            (self.batch_size < self.grad_accum,
             f"batch_size ({self.batch_size}) must be at least grad_accum ({self.grad_accum})"),
            (self.token_l2 > 0 and self.pool != "sum",
             f"token_l2 ({self.token_l2}) weighs per-token scores, which only pool=sum adds up (pool is {self.pool})"),
        ]
        for bad, message in problems:
            if bad:
                raise R1Error(message)
