"""A model the recipe did not train (the base model, a downloaded checkpoint) as a pipeline stage, so
the pipeline evaluates it beside the stages that did and later stages can name it."""

from __future__ import annotations

from pathlib import Path

from r1.config import StageConfig
from r1.errors import R1Error
from r1.models.load import check_model_dir


class ExistingModelConfig(StageConfig):
    model: str
    """A local Hugging Face model directory (or a stage's output_dir), used as it is."""


def use_model(cfg: ExistingModelConfig) -> Path:
    """output_dir/final: a link to the model (no copy of the weights)."""
    source = check_model_dir(cfg.model).resolve()
    link = Path(cfg.output_dir) / "final"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        raise R1Error(f"model: {link} exists and is not a link; remove it or pick another output_dir")
    link.symlink_to(source, target_is_directory=True)
    return link
