"""Supervised fine-tuning (cold start, rejection-sampling SFT, distillation): loss on responses only."""

from r1.sft.config import SFTConfig
from r1.sft.trainer import train

__all__ = ["SFTConfig", "train"]
