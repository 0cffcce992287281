"""User-facing errors: the CLI prints them as one line and exits with status 2."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class R1Error(Exception):
    """Bad input from the user (a file, a field, a path). The message names what is wrong."""


def named(stage: str) -> Callable[[F], F]:
    """Decorator: every R1Error the function raises starts with `stage: `, so the line names the stage."""
    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except R1Error as err:
                raise R1Error(f"{stage}: {err}") from None
        return run  # type: ignore[return-value]
    return wrap
