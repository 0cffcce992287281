"""The stage table: one row per stage, pass@1 and cons@k for each (temperature, family) in columns, and
at one temperature the length, format and language shares over all families."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from r1.report.collect import MAIN_TEMPERATURE, Run

STYLE_COLUMNS = (("mean_tokens", "mean tokens"), ("truncated", "truncated"),
                 ("format_r1_zero", "R1-Zero format"), ("format_readable", "readable format"),
                 ("mixed_language", "mixed language"))
"""Per-sample measures the summaries average; the table shows them over all families of a stage."""


@dataclass
class StageTable:
    columns: list[tuple[str, str]]
    """(temperature, family) of each pass@1/cons@k column, temperatures in ascending order."""
    temperature: str | None
    """The temperature of the style columns: 0.6 when measured, else the lowest."""
    rows: list[dict[str, Any]]
    """Per stage: name, kind, note, cells {(T, family): metrics}, style {key: value or None}."""


def stage_table(run: Run) -> StageTable:
    temperatures = sorted({r["T"] for r in run.evals}, key=_number)
    families = list(dict.fromkeys(r["family"] for r in run.evals))
    columns = [(t, f) for t in temperatures for f in families
               if any(r["T"] == t and r["family"] == f for r in run.evals)]
    main = MAIN_TEMPERATURE if MAIN_TEMPERATURE in temperatures else (temperatures[0] if temperatures else None)
    rows = []
    for stage in run.stages:
        evals = [r for r in run.evals if r["stage"] == stage.name]
        at_main = [r for r in evals if r["T"] == main]
        rows.append({"name": stage.name, "kind": stage.kind, "note": stage.note,
                     "cells": {(r["T"], r["family"]): r for r in evals},
                     "style": {key: weighted_mean(at_main, key) for key, _ in STYLE_COLUMNS}})
    return StageTable(columns, main, rows)


def weighted_mean(rows: list[dict[str, Any]], key: str) -> float | None:
    """Mean of a per-sample measure over several families' rows, each weighted by its samples (n·k);
    None when no row has it (summaries written before r1 recorded it).

    >>> weighted_mean([{"n": 100, "k": 8, "pass@1": 0.5}, {"n": 50, "k": 8, "pass@1": 0.2}], "pass@1")
    0.4
    """
    pairs = [(r["n"] * r["k"], r[key]) for r in rows if r.get(key) is not None]
    total = sum(w for w, _ in pairs)
    return sum(w * v for w, v in pairs) / total if total else None


def _number(temperature: str) -> float:
    try:
        return float(temperature)
    except ValueError:
        return float("inf")
