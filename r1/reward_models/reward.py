"""A trained reward model as a reward: `rm:PATH`, named in a recipe wherever a reward is.

    reward:
      rewards: {helpfulness: "rm:runs/r1/reward_models/helpful", harmlessness: "rm:runs/r1/harmless?on=whole"}

PATH is a reward-model directory (or a stage's output_dir, meaning its final/). Settings follow a `?`,
`&`-separated:
  on=summary|whole   what the model reads (default: what `r1 train-rm` recorded; required for an RM
                     trained elsewhere);
  transform=sigmoid|raw   sigmoid (default) maps the score into (0, 1), so component weights such as
                     0.5 helpfulness + 0.3 harmlessness + 0.2 readability mean what they say: a
                     pointwise model gives P(good); a Bradley-Terry score (whose offset is arbitrary)
                     is first centred on the mean held-out score recorded at training, so 0.5 is a
                     typical response. raw: the head's score as it is;
  batch_size=N       responses per forward (default 32);
  device=cpu|cuda:0  where it runs (default: this process's device, the policy's).

The reward has the standard signature `(completions, **record_fields) -> list[float]` and needs each
completion's prompt: TRL passes it as `prompts`; r1's GRPO passes record fields, of which it reads
`prompt`, else `problem` (a string or chat messages). The model is loaded once per path and device and
scores with gradients off, in eval mode; a completion longer than the model's context keeps its end.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from r1.errors import R1Error
from r1.models.load import check_model_dir, load_tokenizer
from r1.reward_models.model import load_for_scoring, reward_model_info, score_center, score_ids
from r1.reward_models.render import as_messages, encode, rm_input
from r1.rewards.registry import completion_texts

PREFIX = "rm:"
ENSEMBLE_FILE = "ensemble.json"
"""In a directory, the models of an ensemble: {"members": [subdirectory, ...]}."""
PROMPT_FIELDS = ("prompts", "prompt", "problem")
"""Where a completion's prompt is looked for, in this order (TRL's argument, then record fields)."""
_LOADED: dict[tuple[str, str], tuple[Any, Any]] = {}  # (path, device) -> (model, tokenizer), loaded once


@dataclass(frozen=True)
class RewardModelSpec:
    path: Path
    on: str
    transform: str = "sigmoid"
    batch_size: int = 32
    device: str | None = None
    center: float = 0.0
    pool: str = "last"


def parse_spec(spec: str) -> RewardModelSpec:
    """`rm:PATH?key=value&...` -> its settings, `on` and the centre filled in from the model's record.

    A missing path, an unknown key or value, or no `on` anywhere is a one-line R1Error."""
    where = f"reward {spec!r}"
    path_text, _, query = spec.removeprefix(PREFIX).partition("?")
    if not path_text:
        raise R1Error(f"{where}: expected rm:PATH to a reward-model directory")
    path = check_model_dir(path_text, where)
    info = reward_model_info(path)
    settings: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        key, sep, value = pair.partition("=")
        if not sep or key not in ("on", "transform", "batch_size", "device"):
            raise R1Error(f"{where}: unknown setting {pair!r} (known: on, transform, batch_size, device)")
        settings[key] = value
    on = settings.get("on", info.get("on"))
    if on not in ("summary", "whole"):
        raise R1Error(f"{where}: on must be summary or whole, got {on!r}" if on else
                      f"{where}: {path} records no `on` (not trained by r1 train-rm); add ?on=summary or "
                      "?on=whole")
    transform = settings.get("transform", "sigmoid")
    if transform not in ("sigmoid", "raw"):
        raise R1Error(f"{where}: transform must be sigmoid or raw, got {transform!r}")
    batch = settings.get("batch_size", "32")
    if not batch.isdigit() or int(batch) < 1:
        raise R1Error(f"{where}: batch_size must be a positive integer, got {batch!r}")
    return RewardModelSpec(path, on, transform, int(batch), settings.get("device"), score_center(info),
                           info.get("pool", "last"))


def _device(spec: RewardModelSpec) -> torch.device:
    if spec.device:
        return torch.device(spec.device)
    from accelerate import PartialState

    return PartialState().device  # this process's device: where the policy trains


def _loaded(spec: RewardModelSpec, device: torch.device) -> tuple[Any, Any]:
    key = (str(spec.path.resolve()), str(device))
    if key not in _LOADED:
        _LOADED[key] = (load_for_scoring(spec.path, device), load_tokenizer(spec.path, "rm"))
    return _LOADED[key]


def _prompts(n: int, fields: dict[str, Any]) -> list[Any]:
    for name in PROMPT_FIELDS:
        value = fields.get(name)
        if isinstance(value, (list, tuple)) and len(value) == n:
            return list(value)
    raise ValueError(f"a reward model needs each completion's prompt: none of the fields "
                     f"{', '.join(PROMPT_FIELDS)} came with the {n} completions")


class RewardModelReward:
    """The reward function of one `rm:` spec (the model is shared by every spec naming its path)."""

    def __init__(self, spec: str):
        self.spec = parse_spec(spec)
        self.device = _device(self.spec)
        self.model, self.tokenizer = _loaded(self.spec, self.device)
        self.__name__ = spec  # TRL logs a reward under its __name__

    def scores(self, completions: Sequence[Any], **fields: Any) -> torch.Tensor:
        """The head's raw score [n] of each completion to its prompt."""
        texts = completion_texts(completions)
        prompts = _prompts(len(texts), fields)
        rendered = [rm_input(self.tokenizer, as_messages(p, "prompt"), t, self.spec.on)
                    for p, t in zip(prompts, texts)]
        limit = getattr(self.model.config, "max_position_embeddings", None) or 1 << 30
        ids = [x[-limit:] for x in encode(self.tokenizer, rendered)]  # the end holds the summary
        return score_ids(self.model, ids, self.model.config.pad_token_id, self.device, self.spec.batch_size,
                         self.spec.pool)

    def __call__(self, completions: Sequence[Any], **fields: Any) -> list[float]:
        raw = self.scores(completions, **fields).tolist()
        if self.spec.transform == "raw":
            return raw
        return [_sigmoid(s - self.spec.center) for s in raw]


class RewardModelEnsemble:
    """Several `rm:` models as one reward: the mean of their centred scores, then the transform.

    Averaging before the sigmoid matters: Bradley-Terry scores sit far from their centre (tens of
    units in the tiny world), where each sigmoid is 0 or 1, so a mean of sigmoids ties pairs that the
    mean score ranks (three helpfulness models: 88.4% held-out pair accuracy against 93.4%,
    docs/reward-models.md). transform=raw returns the mean centred score.
    """

    def __init__(self, specs: Sequence[str]):
        if not specs:
            raise R1Error("reward: an ensemble needs at least one reward model")
        self.members = [RewardModelReward(spec) for spec in specs]
        transforms = {m.spec.transform for m in self.members}
        if len(transforms) > 1:
            raise R1Error(f"reward {list(specs)}: an ensemble's models need one transform, got "
                          f"{', '.join(sorted(transforms))}")
        self.transform = transforms.pop()
        self.__name__ = "ensemble(" + ", ".join(specs) + ")"

    def scores(self, completions: Sequence[Any], **fields: Any) -> torch.Tensor:
        """The mean over the models of each completion's score minus that model's centre: [n]."""
        return torch.stack([m.scores(completions, **fields) - m.spec.center for m in self.members]).mean(0)

    def __call__(self, completions: Sequence[Any], **fields: Any) -> list[float]:
        mean = self.scores(completions, **fields).tolist()
        return mean if self.transform == "raw" else [_sigmoid(s) for s in mean]


def reward_model(spec: str | Sequence[str]):
    """The reward of one `rm:` spec, or of a list of them (an ensemble); a directory holding
    ENSEMBLE_FILE (the reward-models stage's `members`) stands for the models it lists."""
    if isinstance(spec, str):
        if _expand(spec) == [spec]:
            return RewardModelReward(spec)
        spec = [spec]
    return RewardModelEnsemble([member for one in spec for member in _expand(one)])


def _expand(spec: str) -> list[str]:
    """An ensemble directory's spec -> one spec per model it lists (the same settings); else [spec]."""
    path_text, sep, query = spec.removeprefix(PREFIX).partition("?")
    listing = Path(path_text) / ENSEMBLE_FILE
    if not path_text or not listing.is_file():
        return [spec]
    try:
        members = json.loads(listing.read_text())["members"]
    except (ValueError, KeyError, TypeError):
        raise R1Error(f"reward {spec!r}: {listing} is not a list of models ({{\"members\": [...]}})") from None
    return [f"{PREFIX}{Path(path_text) / m}{sep}{query}" for m in members]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
