"""Fields every training stage has: the optimizer, its schedule, checkpoints, precision.

Ranges are checked when the config is loaded (pydantic constraints), so a bad value fails in the first
second with one line naming the key. A stage redeclares a field only to change its default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from r1.config import StageConfig

PositiveInt = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Temperature = Annotated[float, Field(ge=0)]
"""A sampling temperature: 0 is greedy."""
TopP = Annotated[float, Field(gt=0, le=1)]
"""A nucleus-sampling threshold: the smallest set of tokens whose probability reaches it."""
Difficulty = Annotated[int, Field(ge=1)]
"""A tiny-world difficulty (1 = easiest)."""


class TrainConfig(StageConfig):
    max_steps: Count = 200
    """Optimizer steps (GRPO: rollout batches) in all."""
    lr: Rate = 1e-4
    """Peak learning rate."""
    lr_schedule: Literal["constant", "cosine"] = "constant"
    """constant after warmup, or cosine decay that reaches lr * min_lr_ratio at the last step."""
    warmup_steps: Count = 0
    """Linear warmup, in optimizer steps."""
    min_lr_ratio: Share = 0.1
    """Where the cosine ends, as a share of lr."""
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    """AdamW weight decay."""
    adam_betas: tuple[Share, Share] = (0.9, 0.999)
    """AdamW's beta1 and beta2."""
    max_grad_norm: Rate = 1.0
    """Gradients are clipped to this global norm."""
    precision: Literal["auto", "fp32", "bf16"] = "fp32"
    """Autocast dtype of the forward (auto: bf16 where the hardware has it)."""
    save_every: Count = 50
    """Write output_dir/checkpoint every this many steps (0: only at the end), replaced whole at every
    save; its size is printed after the first save."""
    save_total_limit: PositiveInt = 1
    """Checkpoints kept (TRL's save_total_limit): the latest, output_dir/checkpoint (what a resume reads),
    and up to N-1 earlier ones as output_dir/checkpoint-<step>, each costing the same disk again."""
    resume: bool = True
    """Continue from output_dir/checkpoint when it exists; false refuses to touch an existing run."""
