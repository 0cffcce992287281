"""Distillation (DeepSeek-R1 section 4.1): SFT of a small student on a big teacher's correct traces.

`r1.distill.run.run(cfg)` runs the stage (not re-exported here, so the name `r1.distill.run` stays the
module)."""

from r1.distill.config import DistillConfig

__all__ = ["DistillConfig"]
