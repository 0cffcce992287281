"""The reward a trainer optimises: a weighted sum of registered rewards, with weights per prompt type.

Default weights: a reasoning prompt scores 0.7·accuracy + 0.3·format; a general prompt
0.5·helpfulness + 0.3·harmlessness + 0.2·readability; language consistency is added with its own weight
(0 unless asked for). These weights come from the R1 summary this project follows; the paper itself
adds its accuracy, format and language rewards without stating weights. Each component is a registered
reward (or "module:function"), so a model-based reward (helpfulness, harmlessness: a later issue) plugs
in exactly like a rule. Each record may carry a `prompt_type` ("reasoning" when absent). Components come
back too, so the trainer can log each one.

    combiner = RewardCombiner(RewardWeights(language=0.1))
    totals, components = combiner.score(completions, **record_fields)
    GRPOTrainer(reward_funcs=[combiner], ...)   # also a TRL reward: totals only
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator

from r1.errors import R1Error
from r1.rewards.registry import (RewardFn, get_reward, record_fields, register, safe_call,
                                 subset_kwargs)

PROMPT_TYPES = ("reasoning", "general")
DEFAULT_REWARDS = {"accuracy": "accuracy", "format": "format_r1_zero", "readability": "format_readable",
                   "language": "language_consistency"}
# How each scoring task's accuracy is computed; tiny-world families share one verifier entry point.
ACCURACY_BY_TASK = {"math": "math_accuracy", "gsm8k": "gsm8k_accuracy", "code": "code_accuracy",
                    "mbpp": "code_accuracy"}


class RewardWeights(BaseModel):
    """Weights of the reward components for each prompt type, and which reward computes each one."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    reasoning: dict[str, float] = Field(default_factory=lambda: {"accuracy": 0.7, "format": 0.3})
    """Component weights for reasoning prompts (`prompt_type` "reasoning" or absent)."""
    general: dict[str, float] = Field(
        default_factory=lambda: {"helpfulness": 0.5, "harmlessness": 0.3, "readability": 0.2})
    """Component weights for general prompts (`prompt_type` "general")."""
    language: float = 0.0
    """Weight of language consistency, added for every prompt type (the paper's R1 stage-2 uses it)."""
    monitor: list[str] = Field(default_factory=list)
    """Components scored and logged for every completion although they add nothing to the total."""
    rewards: dict[str, str | list[str]] = Field(default_factory=lambda: dict(DEFAULT_REWARDS))
    """Registered reward (or "module:function") per component, on top of the defaults (accuracy by
    task, format_r1_zero, format_readable for readability, language_consistency); a component listed
    nowhere is the reward of the same name (e.g. "helpfulness"). A trained reward model is named
    "rm:PATH[?on=summary|whole&...]" (r1.reward_models.reward). A list scores the component as the
    mean of its rewards (reward models: of their centred scores, before the sigmoid): an ensemble of
    reward models (e.g. trained with different seeds) is harder for RL to game than one (Coste et
    al., 2023), and in the tiny world ranks better than each of them."""

    @field_validator("rewards")
    @classmethod
    def _over_defaults(cls, rewards: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        return {**DEFAULT_REWARDS, **rewards}

    def weights_for(self, prompt_type: str) -> dict[str, float]:
        if prompt_type not in PROMPT_TYPES:
            raise R1Error(f"prompt_type {prompt_type!r} is not one of {', '.join(PROMPT_TYPES)}")
        weights = dict(getattr(self, prompt_type))
        if self.language:
            weights["language"] = weights.get("language", 0.0) + self.language
        return {name: w for name, w in weights.items() if w}


class RewardCombiner:
    """Scores completions with every component their prompt type needs and sums them with weights."""

    def __init__(self, weights: RewardWeights | None = None):
        self.weights = weights or RewardWeights()
        self.__name__ = "r1_reward"  # TRL logs a reward function under its __name__
        self._fns: dict[str, RewardFn] = {}

    def reward_fn(self, component: str) -> RewardFn:
        """The callable that computes `component` (an R1Error if no such reward exists)."""
        if component not in self._fns:
            spec = self.weights.rewards.get(component, component)
            self._fns[component] = get_reward(spec) if isinstance(spec, str) else ensemble_of(spec)
        return self._fns[component]

    def check(self, prompt_types: Sequence[str] = ("reasoning",)) -> None:
        """Resolve every component these prompt types need, so a missing reward fails before training."""
        for prompt_type in prompt_types:
            for component in [*self.weights.weights_for(prompt_type), *self.weights.monitor]:
                self.reward_fn(component)

    def score(self, completions: Sequence[Any], **fields: Any
              ) -> tuple[list[float], dict[str, list[float]]]:
        """(total per completion, {component: score per completion}); NaN where a component does not
        apply to a completion's prompt type (log them with a NaN-aware mean, as TRL does)."""
        n = len(completions)
        types = fields.get("prompt_type")
        types = [t or "reasoning" for t in types] if isinstance(types, (list, tuple)) and len(types) == n \
            else ["reasoning"] * n
        weights = {t: self.weights.weights_for(t) for t in dict.fromkeys(types)}  # first-seen order
        components: dict[str, list[float]] = {}
        totals = [0.0] * n
        for component in _ordered(weights, self.weights.monitor):
            index = [i for i in range(n)
                     if component in weights[types[i]] or component in self.weights.monitor]
            scores = safe_call(self.reward_fn(component), [completions[i] for i in index],
                               name=component, **subset_kwargs(fields, index, n))
            column = [math.nan] * n
            for i, score in zip(index, scores):
                column[i] = score
                if not math.isnan(score):
                    totals[i] += weights[types[i]].get(component, 0.0) * score
            components[component] = column
        return totals, components

    def __call__(self, completions: Sequence[Any], **fields: Any) -> list[float]:
        """TRL reward-function form: the totals only."""
        return self.score(completions, **fields)[0]


def ensemble_of(specs: list[str]) -> RewardFn:
    """A list of rewards as one: reward models (all `rm:`) average their scores before the sigmoid
    (r1.reward_models.reward.RewardModelEnsemble); any other list, the mean of the members' rewards."""
    if specs and all(s.startswith("rm:") for s in specs):
        from r1.reward_models.reward import reward_model

        return reward_model(specs)
    return ensemble([get_reward(s) for s in specs])


def ensemble(members: list[RewardFn]) -> RewardFn:
    """One reward: the mean of the members' scores for each completion (NaN if any member gives NaN)."""
    if not members:
        raise R1Error("reward: an ensemble needs at least one reward")

    def mean_of(completions: Sequence[Any], **fields: Any) -> list[float]:
        columns = [member(completions, **fields) for member in members]
        return [sum(scores) / len(scores) for scores in zip(*columns)]

    mean_of.__name__ = "ensemble(" + ", ".join(getattr(m, "__name__", "reward") for m in members) + ")"
    return mean_of


def _ordered(weights: dict[str, dict[str, float]], monitor: list[str]) -> list[str]:
    names: list[str] = []
    for by_type in weights.values():
        names += [name for name in by_type if name not in names]
    return names + [name for name in monitor if name not in names]


def combine(completions: Sequence[Any], weights: RewardWeights | None = None, **fields: Any
            ) -> tuple[list[float], dict[str, list[float]]]:
    """Weighted total per completion, and each component's scores (see `RewardCombiner.score`).

    >>> totals, parts = combine(["<think>7+5=12</think><answer>12</answer>", "12"],
    ...                         task=["arithmetic"] * 2, answer=["12", "12"])
    >>> [round(t, 2) for t in totals], parts["format"]
    ([1.0, 0.0], [1.0, 0.0])
    """
    return RewardCombiner(weights).score(completions, **fields)


@register("accuracy")
def task_accuracy(completions: Sequence[Any], task: Sequence[str] | None = None, **kwargs: Any
                  ) -> list[float]:
    """Accuracy by each record's `task`: math, gsm8k, code/mbpp, or a tiny-world family.

    A record without `task` is code if it has a `test_list`, else math.

    >>> task_accuracy([r"\\boxed{0.5}", "<answer>12</answer>"], task=["math", "arithmetic"],
    ...               answer=[r"\\frac{1}{2}", "12"])
    [1.0, 1.0]
    """
    from r1.tasks import FAMILIES

    n = len(completions)
    fields = record_fields(n, kwargs)
    tasks = list(task) if isinstance(task, (list, tuple)) else [None] * n
    routes: dict[str, list[int]] = {}
    for i, name in enumerate(tasks):
        if name is None:
            name = "code" if fields.get("test_list", [None] * n)[i] is not None else "math"
        reward = "tiny_accuracy" if name in FAMILIES else ACCURACY_BY_TASK.get(name)
        if reward is None:
            raise R1Error(f"accuracy: unknown task {name!r} (known: {', '.join(ACCURACY_BY_TASK)}, "
                          f"or a tiny family: {', '.join(FAMILIES)})")
        routes.setdefault(reward, []).append(i)
    scores = [0.0] * n
    full = {**kwargs, "task": tasks}
    for reward, index in routes.items():
        part = get_reward(reward)([completions[i] for i in index], **subset_kwargs(full, index, n))
        for i, score in zip(index, part):
            scores[i] = score
    return scores
