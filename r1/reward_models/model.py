"""The reward model: a causal LM with a one-output score head (AutoModelForSequenceClassification),
read at the last real token of each sequence, loaded for training or scoring, and run in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification

from r1.errors import R1Error
from r1.models.load import check_model_dir
from r1.train.checkpoint import final_info

INFO_KEY = "reward_model"
"""Key of the r1_final.json marker that records objective, on and center of a trained reward model."""


def load_for_training(path: str | Path, pad_id: int, device) -> Any:
    """A reward model from a causal LM directory (a fresh head) or a reward model (its own head)."""
    p = check_model_dir(path)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(p, num_labels=1, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise R1Error(f"model: cannot load {p} with a one-score head: {str(err).splitlines()[0]}") from None
    model.config.pad_token_id = pad_id  # the head reads the last non-pad token; batches need to know it
    return model.to(device).train()


def load_for_scoring(path: str | Path, device) -> Any:
    """A trained reward model in eval mode; a head with other than one output is refused."""
    p = check_model_dir(path, "rm")
    try:
        model = AutoModelForSequenceClassification.from_pretrained(p, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise R1Error(f"rm: cannot load {p} as a sequence classifier: {str(err).splitlines()[0]}") from None
    if model.config.num_labels != 1:
        raise R1Error(f"rm: {p} has a head with {model.config.num_labels} outputs; a reward model "
                      "outputs exactly one score (num_labels=1)")
    if model.config.pad_token_id is None:
        raise R1Error(f"rm: {p} has no pad_token_id in its config, so a batch cannot be scored")
    return model.to(device).eval()


def reward_model_info(path: str | Path) -> dict[str, Any]:
    """What `r1 train-rm` recorded beside the model (objective, on, center); {} for another RM."""
    return final_info(check_model_dir(path, "rm")).get(INFO_KEY, {})


def pad_batch(ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input_ids [b, T] and attention_mask [b, T]."""
    width = max(len(x) for x in ids)
    input_ids = torch.tensor([x + [pad_id] * (width - len(x)) for x in ids])
    mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
    return input_ids, mask


def forward_scores(model, ids: list[list[int]], pad_id: int, device) -> torch.Tensor:
    """One score per sequence [b] (the head's output at the last non-pad token)."""
    input_ids, mask = pad_batch(ids, pad_id)
    logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
    return logits[:, 0].float()  # [b, 1] -> [b]


@torch.no_grad()
def score_ids(model, ids: list[list[int]], pad_id: int, device, batch_size: int) -> torch.Tensor:
    """Scores [n] of many sequences, batch_size at a time, longest first (less padding)."""
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    scores = torch.empty(len(ids))
    for start in range(0, len(ids), batch_size):
        index = order[start:start + batch_size]
        scores[index] = forward_scores(model, [ids[i] for i in index], pad_id, device).cpu()
    return scores
