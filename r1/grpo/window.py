"""The context window of a GRPO run: how many new tokens a completion may have at each step.

R1 trains with one fixed window; the frameworks that exist today (TRL, verl, OpenRLHF, AReaL,
prime-rl) change it only by relaunching with a new config. Here it is a schedule inside the run
(`GRPOConfig.context_schedule`):

    fixed      max_new_tokens at every step (R1, and the default);
    staged     from given steps on, given windows (DeepScaleR's 8K -> 16K -> 24K), max_new_tokens before
               the first stage;
    adaptive   start at max_new_tokens; after `patience` steps in a row whose share of truncated
               completions was above `truncated_threshold`, multiply the window by `grow_factor`,
               up to `cap`.

The window of the next step is a pure function of the schedule, the window (and streak) of this step
and this step's truncated share (`next_window`); the trainer keeps it in its checkpoint, so a resumed
adaptive run continues with the window it had reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from r1.train.config import PositiveInt


class ContextSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    kind: Literal["fixed", "staged", "adaptive"] = "fixed"
    """fixed (max_new_tokens throughout), staged (`stages`) or adaptive (grow on truncation, up to `cap`)."""
    stages: list[tuple[PositiveInt, PositiveInt]] = Field(default_factory=list)
    """staged: [[step, max_new_tokens], ...] in increasing steps; from each step on, completions get that
    many new tokens (before the first stage: max_new_tokens). E.g. [[500, 16384], [800, 24576]]."""
    truncated_threshold: Annotated[float, Field(ge=0, lt=1)] = 0.1
    """adaptive: a step whose share of truncated completions (truncated_frac) is above this counts
    toward growing the window."""
    patience: PositiveInt = 1
    """adaptive: grow after this many such steps in a row (the count restarts after each growth)."""
    grow_factor: Annotated[float, Field(gt=1)] = 2.0
    """adaptive: the window is multiplied by this (rounded up) when it grows."""
    cap: PositiveInt | None = None
    """adaptive: the largest window it may grow to (>= max_new_tokens; required)."""

    @model_validator(mode="after")
    def _complete(self) -> "ContextSchedule":
        steps = [step for step, _ in self.stages]
        if self.kind == "staged" and not steps:
            raise ValueError("kind=staged needs stages: [[step, max_new_tokens], ...]")
        if any(b <= a for a, b in zip(steps, steps[1:])):
            raise ValueError(f"stages: steps must increase, got {steps}")
        if self.kind == "adaptive" and self.cap is None:
            raise ValueError("kind=adaptive needs cap, the largest window it may grow to")
        return self


@dataclass(frozen=True)
class Window:
    """The window of a step, and (adaptive) how many steps in a row were above the threshold before it."""

    tokens: int
    streak: int = 0


def window_at(schedule: ContextSchedule, initial: int, step: int) -> Window:
    """The window a run starts `step` with when nothing was learnt from truncation (fresh runs: step 1).

    >>> window_at(ContextSchedule(kind="staged", stages=[[3, 16], [5, 24]]), 8, 4)
    Window(tokens=16, streak=0)
    """
    tokens = initial
    if schedule.kind == "staged":
        tokens = next((w for s, w in reversed(schedule.stages) if s <= step), initial)
    return Window(tokens)


def next_window(schedule: ContextSchedule, initial: int, window: Window, step: int,
                truncated_frac: float) -> Window:
    """The window of step `step + 1`, given step `step`'s window and share of truncated completions.

    >>> grow = ContextSchedule(kind="adaptive", truncated_threshold=0.25, patience=2, cap=50)
    >>> w = next_window(grow, 16, Window(16), 1, 0.5); w
    Window(tokens=16, streak=1)
    >>> next_window(grow, 16, w, 2, 0.5)
    Window(tokens=32, streak=0)
    """
    if schedule.kind != "adaptive":
        return window_at(schedule, initial, step + 1)
    streak = window.streak + 1 if truncated_frac > schedule.truncated_threshold else 0
    if streak < schedule.patience or window.tokens >= schedule.cap:
        return Window(window.tokens, streak)
    return Window(min(schedule.cap, math.ceil(window.tokens * schedule.grow_factor)), 0)


def largest_window(schedule: ContextSchedule, initial: int) -> int:
    """The longest window the schedule can reach: what the model's context and vLLM must hold."""
    if schedule.kind == "adaptive":
        return max(initial, schedule.cap)
    return max([initial] + [w for _, w in schedule.stages if schedule.kind == "staged"])
