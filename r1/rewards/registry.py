"""Rewards by name. A reward is a plain function `(completions, **record_fields) -> list[float]`.

The signature is TRL's: `completions` is a list of strings or of chat messages (the last message's
content is scored), and every record field arrives as a keyword list aligned with `completions`
(`answer=[...]`, `task=[...]`); a reward takes what it needs and ignores the rest through `**kwargs`.
So a TRL reward plugs into r1 unchanged, and r1's rewards plug into TRL's GRPOTrainer.

A reward's own settings travel with its registry entry, not with a global config. One function
registers, as a decorator or as a plain call (a variant of a registered function):

    @register("format_r1_zero")
    def format_r1_zero(completions, prefilled=False, **kwargs): ...
    register("format_r1_zero_prefilled", format_r1_zero, prefilled=True)

A model-based reward (helpfulness, harmlessness) is registered the same way, or named as `rm:PATH`
(a reward model trained by `r1 train-rm`; see r1.reward_models.reward).
"""

from __future__ import annotations

import functools
import importlib
import logging
import math
import os
import sys
from typing import Any, Callable, Sequence

from r1.errors import R1Error

logger = logging.getLogger(__name__)

RewardFn = Callable[..., list[float]]
REWARDS: dict[str, RewardFn] = {}
_BUILTINS = ("r1.rewards.math", "r1.rewards.format", "r1.rewards.language", "r1.rewards.length",
             "r1.rewards.tiny", "r1.rewards.combine")


def register(name: str, fn: RewardFn | None = None, /, **settings: Any
             ) -> RewardFn | Callable[[RewardFn], RewardFn]:
    """Register a reward under `name`, with `settings` bound as default keyword arguments.

    `@register(name, **settings)` above a function registers it and leaves it unchanged;
    `register(name, fn, **settings)` registers `fn` (e.g. a variant of a registered reward, or a
    lambda) and returns the registry's entry. A name can be registered once; a second registration is
    a bug (two rewards would share a name).

    >>> @register("doc_length")
    ... def doc_length(completions, scale=1.0, **kwargs):
    ...     return [scale * len(text) for text in completion_texts(completions)]
    >>> _ = register("doc_length_x2", doc_length, scale=2.0)
    >>> get_reward("doc_length")(["ab", [{"role": "assistant", "content": "abc"}]]), doc_length(["ab"])
    ([2.0, 3.0], [2.0])
    >>> get_reward("doc_length_x2")(["ab"]), get_reward("doc_length_x2").__name__
    ([4.0], 'doc_length_x2')
    >>> _ = REWARDS.pop("doc_length"), REWARDS.pop("doc_length_x2")
    """
    if fn is None:
        def decorate(fn: RewardFn) -> RewardFn:
            register(name, fn, **settings)
            return fn

        return decorate
    if name in REWARDS:
        raise R1Error(f"reward {name!r} is already registered")
    entry = fn
    if settings:
        entry = functools.update_wrapper(functools.partial(fn, **settings), fn)
        entry.__name__ = name  # TRL logs a reward under its __name__; a variant gets its own
    REWARDS[name] = entry
    return entry


def _load_builtins() -> None:
    for module in _BUILTINS:
        importlib.import_module(module)
    if "code_accuracy" not in REWARDS:  # owned by r1.rewards.code; registered here if it does not
        try:
            code = importlib.import_module("r1.rewards.code")
        except ModuleNotFoundError as err:
            if err.name != "r1.rewards.code":
                logger.warning("code_accuracy unavailable: cannot import r1.rewards.code (%s)", err)
            return
        except Exception as err:  # noqa: BLE001 - a broken code reward must not take the others down
            logger.warning("code_accuracy unavailable: cannot import r1.rewards.code (%s)", err)
            return
        if "code_accuracy" not in REWARDS and hasattr(code, "code_accuracy"):
            register("code_accuracy", code.code_accuracy)


def list_rewards() -> list[str]:
    """Every registered reward name, built-ins included."""
    _load_builtins()
    return sorted(REWARDS)


def load_reward(spec: str) -> RewardFn:
    """A user's reward from `"package.module:function"`; a one-line R1Error when it is not there."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise R1Error(f"reward {spec!r}: expected 'module:function'")
    try:
        module = import_from_cwd(module_name)
    except ImportError as err:
        raise R1Error(f"reward {spec!r}: cannot import module {module_name!r} ({err}); it is looked up on "
                      f"the import path and in the working directory {os.getcwd()}: run r1 from the "
                      "directory that holds it, or add its directory to PYTHONPATH") from None
    fn = getattr(module, attr, None)
    if fn is None:
        raise R1Error(f"reward {spec!r}: module {module_name!r} has no attribute {attr!r}")
    if not callable(fn):
        raise R1Error(f"reward {spec!r}: {attr!r} is not callable")
    return fn


def import_from_cwd(module_name: str):
    """Import a module as `python -m` would: the working directory is searched too (after the import
    path), so a reward file beside the recipe needs no PYTHONPATH."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
        importlib.invalidate_caches()
    return importlib.import_module(module_name)


def get_reward(name: str) -> RewardFn:
    """A registered reward by name, a trained reward model by `"rm:PATH"` (r1.reward_models.reward),
    or a user's reward by `"module:function"`."""
    if name.startswith("rm:"):
        from r1.reward_models.reward import reward_model

        return reward_model(name)
    if ":" in name:
        return load_reward(name)
    if name not in REWARDS:
        _load_builtins()
    if name not in REWARDS:
        raise R1Error(f"unknown reward {name!r} (known: {', '.join(sorted(REWARDS))}; "
                      f"or give 'module:function')")
    return REWARDS[name]


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """Plain strings from TRL completions: strings stay, a chat turn list gives its last content.

    >>> completion_texts(["a", [{"role": "assistant", "content": "b"}]])
    ['a', 'b']
    """
    out = []
    for completion in completions:
        if isinstance(completion, str):
            out.append(completion)
        elif isinstance(completion, dict):
            out.append(str(completion.get("content", "")))
        elif completion:
            out.append(str(completion[-1].get("content", "")))
        else:
            out.append("")
    return out


def record_fields(n: int, kwargs: dict[str, Any]) -> dict[str, list]:
    """The keyword arguments that are per-completion lists (TRL also passes e.g. `trainer_state`)."""
    return {k: v for k, v in kwargs.items() if isinstance(v, (list, tuple)) and len(v) == n}


def records_from_kwargs(n: int, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Rebuild one record dict per completion from the aligned keyword lists.

    >>> records_from_kwargs(2, {"answer": ["1", "2"], "task": ["linear"] * 2, "trainer_state": None})
    [{'answer': '1', 'task': 'linear'}, {'answer': '2', 'task': 'linear'}]
    """
    fields = record_fields(n, kwargs)
    return [{k: v[i] for k, v in fields.items()} for i in range(n)]


def subset_kwargs(kwargs: dict[str, Any], index: Sequence[int], n: int) -> dict[str, Any]:
    """The keyword arguments for the completions at `index`: aligned lists are sliced, others kept."""
    return {k: [v[i] for i in index] if isinstance(v, (list, tuple)) and len(v) == n else v
            for k, v in kwargs.items()}


def _as_scores(values: Any, n: int) -> list[float]:
    if values is None or len(values) != n:
        got = "None" if values is None else f"{len(values)} scores"
        raise ValueError(f"returned {got} for {n} completions")
    return [math.nan if v is None else float(v) for v in values]


def safe_call(fn: RewardFn, completions: Sequence[Any], name: str | None = None,
              **kwargs: Any) -> list[float]:
    """Call a reward; if it raises on some items, log their record ids and score them 0. If it raises
    on every item of a batch of several, that is a broken reward or setting: an R1Error, not zeros.

    A batch that fails is retried one completion at a time, so only the failing items score 0.
    A `None` score (TRL's "not applicable") becomes NaN.

    >>> def broken(completions, **kwargs):
    ...     return [1.0 / len(text) for text in completions]
    >>> safe_call(broken, ["ab", ""], id=["a", "b"])
    [0.5, 0.0]
    """
    n = len(completions)
    label = name or getattr(fn, "__name__", repr(fn))
    try:
        return _as_scores(fn(completions, **kwargs), n)
    except Exception as err:  # noqa: BLE001 - a failure on some items must not stop training
        if n <= 1:
            ids = kwargs.get("id")
            record_id = ids[0] if isinstance(ids, (list, tuple)) and ids else ids
            logger.warning("reward %s failed on record %s: %s: %s", label, record_id or "?",
                           type(err).__name__, err)
            return [0.0] * n
        first = err
    scores, failed = [], 0
    for i in range(n):
        one = subset_kwargs(kwargs, [i], n)
        try:
            scores.append(_as_scores(fn(completions[i : i + 1], **one), 1)[0])
        except Exception as err:  # noqa: BLE001
            ids = one.get("id")
            logger.warning("reward %s failed on record %s: %s: %s", label,
                           (ids[0] if isinstance(ids, (list, tuple)) and ids else ids) or "?",
                           type(err).__name__, err)
            scores.append(0.0)
            failed += 1
    if failed == n:  # every item: a broken reward or setting, not a bad sample; never a silent 0
        raise R1Error(f"reward {label} failed on every one of {n} completions: "
                      f"{type(first).__name__}: {first}")
    return scores
