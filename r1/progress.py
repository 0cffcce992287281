"""One look for every long loop: a rich progress bar with ETA and a free-text status field."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

console = Console(stderr=True)


def progress_bar(show: bool = True) -> Progress:
    """Use as `with progress_bar() as bar: task = bar.add_task("pretrain", total=N, status="")`;
    show=False for processes other than the main one, so a multi-process run draws one bar."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"), console=console, disable=not show,
    )
