"""Rejection sampling (DeepSeek-R1's stage-3 data): correct, filtered samples of a checkpoint as SFT data.

`r1.rejection.run.run(cfg)` runs the stage (not re-exported here, so the name `r1.rejection.run`
stays the module)."""

from r1.rejection.config import RejectionConfig

__all__ = ["RejectionConfig"]
