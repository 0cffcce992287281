"""The reward model: a causal LM with a one-output score head (AutoModelForSequenceClassification),
loaded for training or scoring, and run in batches.

The head gives a score at every token; `pool` says which make the sequence's score: `last`, the last
real token's (Hugging Face's own pooling, what the saved model returns when loaded elsewhere), or
`sum`, every real token's added up. A sum suits a judge that adds up per-sentence verdicts (the tiny
world's oracle: +1/3 per true fact, -0.35 per false one, -0.15 per filler sentence): each sentence's
tokens can score it where it stands instead of one last token summing them all. Tokens of the shared
prompt add the same to both responses of a pair, so they cancel in a preference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification

from r1.errors import R1Error
from r1.models.load import check_model_dir
from r1.train.checkpoint import final_info

INFO_KEY = "reward_model"
"""Key of the r1_final.json marker that records objective, on, pool and center of a trained reward model."""
POOLS = ("last", "sum")


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


def score_center(info: dict[str, Any]) -> float:
    """The score a Bradley-Terry model's `rm:` reward subtracts (its mean held-out score, recorded at
    training); 0 for a pointwise model, whose score is already a logit."""
    return float(info.get("center", 0.0)) if info.get("objective", "pairwise") == "pairwise" else 0.0


def pad_batch(ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input_ids [b, T] and attention_mask [b, T]."""
    width = max(len(x) for x in ids)
    input_ids = torch.tensor([x + [pad_id] * (width - len(x)) for x in ids])
    mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
    return input_ids, mask


def score_head(model) -> torch.nn.Module:
    """The one-output linear head of a sequence classifier (`score` in Hugging Face's models)."""
    head = getattr(getattr(model, "module", model), "score", None)
    if not isinstance(head, torch.nn.Module):
        raise R1Error(f"pool: {type(model).__name__} has no `score` head to read at every token; use pool=last")
    return head


def forward_scores(model, ids: list[list[int]], pad_id: int, device, pool: str = "last") -> torch.Tensor:
    """One score per sequence [b]: the head's output at the last non-pad token, or summed over the
    non-pad tokens (see the module docstring)."""
    if pool == "sum":
        return forward_token_scores(model, ids, pad_id, device)[0].sum(-1)  # [b, T] -> [b]
    input_ids, mask = pad_batch(ids, pad_id)
    mask = mask.to(device)
    logits = model(input_ids=input_ids.to(device), attention_mask=mask, use_cache=False).logits
    return logits[:, 0].float()  # [b, 1] -> [b]


def forward_token_scores(model, ids: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's score at every token [b, T] (0 at padding) and the attention mask [b, T]."""
    input_ids, mask = pad_batch(ids, pad_id)
    mask = mask.to(device)
    per_token = {}
    # the model's own forward (so data parallelism still syncs); a hook keeps the head's per-token output
    hook = score_head(model).register_forward_hook(lambda module, args, out: per_token.update(out=out))
    try:
        model(input_ids=input_ids.to(device), attention_mask=mask, use_cache=False)
    finally:
        hook.remove()
    return per_token["out"][..., 0].float() * mask, mask  # [b, T, 1] -> [b, T]


@torch.no_grad()
def score_ids(model, ids: list[list[int]], pad_id: int, device, batch_size: int, pool: str = "last"
              ) -> torch.Tensor:
    """Scores [n] of many sequences, batch_size at a time, longest first (less padding)."""
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    scores = torch.empty(len(ids))
    for start in range(0, len(ids), batch_size):
        index = order[start:start + batch_size]
        scores[index] = forward_scores(model, [ids[i] for i in index], pad_id, device, pool).cpu()
    return scores


def score_examples(model, examples: list, pad_id: int, device, batch_size: int, pool: str = "last"
                   ) -> torch.Tensor:
    """Scores [n, k] of n examples of k sequences each (pairwise: chosen, rejected; pointwise: one)."""
    flat = score_ids(model, [ids for e in examples for ids in e.ids], pad_id, device, batch_size, pool)
    return flat.view(len(examples), len(examples[0].ids))
