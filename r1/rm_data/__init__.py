"""`r1 rm-data`: reward-model training data from general prompts, labelled by the hidden oracle."""

from r1.rm_data.config import RMDataConfig

__all__ = ["RMDataConfig"]
