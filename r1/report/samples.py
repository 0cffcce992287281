"""The same held-out problems answered by each stage, side by side (the paper's "aha" table in small):
for a few problems per family, each stage's first sample, its answer and its non-target-language words
marked (r1.rewards.language's words, the ones the language-consistency reward counts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from r1.eval.data import done_samples, read_jsonl
from r1.report.collect import MAIN_TEMPERATURE, Run
from r1.rewards.extract import think_text
from r1.rewards.language import word_spans


@dataclass
class Snapshot:
    """One stage's evaluation at one temperature: the eval directory of each family."""

    stage: str
    temperature: str
    dirs: dict[str, Path]


@dataclass
class Problem:
    family: str
    record: dict[str, Any]
    """The problems.jsonl record: id, problem, answer, ..."""
    samples: list[tuple[Snapshot, dict[str, Any]]]
    """Each stage's first sample for it (a samples.jsonl row), in stage order."""


def snapshots(run: Run) -> list[Snapshot]:
    """Per stage its evaluation at 0.6 (the paper's temperature) when it has one, else at its first."""
    out = []
    for stage in run.stages:
        evals = [r for r in run.evals if r["stage"] == stage.name]
        if not evals:
            continue
        temperatures = [r["T"] for r in evals]
        t = MAIN_TEMPERATURE if MAIN_TEMPERATURE in temperatures else temperatures[0]
        out.append(Snapshot(stage.name, t, {r["family"]: r["dir"] for r in evals if r["T"] == t}))
    return out


def pick_problems(shots: list[Snapshot], per_family: int = 2) -> list[Problem]:
    """`per_family` problems of each family that every stage evaluated on it answered; those whose first
    samples' correctness differs between stages first (where training changed something), then in
    order."""
    problems = []
    families = list(dict.fromkeys(f for shot in shots for f in shot.dirs))
    for family in families:
        having = [shot for shot in shots if family in shot.dirs]
        firsts = [_first_samples(shot.dirs[family]) for shot in having]
        problems_file = having[0].dirs[family] / "problems.jsonl"
        records = [r for r in (read_jsonl(problems_file, "report") if problems_file.is_file() else [])
                   if _in_family(r, family, having[0]) and all(str(r["id"]) in f for f in firsts)]
        changed = [r for r in records if len({bool(f[str(r["id"])].get("correct")) for f in firsts}) > 1]
        chosen = (changed + [r for r in records if r not in changed])[:per_family]
        problems += [Problem(family, r, [(shot, f[str(r["id"])]) for shot, f in zip(having, firsts)])
                     for r in chosen]
    return problems


def _in_family(record: dict[str, Any], family: str, shot: Snapshot) -> bool:
    """Whether a problem is of `family`: only asked when several families share one eval directory."""
    shared = sum(d == shot.dirs[family] for d in shot.dirs.values()) > 1
    return not shared or record.get("task") == family


def _first_samples(eval_dir: Path) -> dict[str, dict[str, Any]]:
    """Problem id -> its sample with the lowest sample number (a torn last line of a stopped eval ignored)."""
    first: dict[str, dict[str, Any]] = {}
    for (key, sample), row in done_samples(eval_dir / "samples.jsonl").items():
        if key not in first or sample < first[key]["sample"]:
            first[key] = row
    return first


def segments(completion: str, answer: str | None, target: str = "en") -> list[tuple[str, str]]:
    """`completion` cut into (text, mark) pieces, mark "answer" for the extracted answer (its last
    occurrence), "lang" for the reasoning's words not in `target` (those the language-consistency reward
    counts against it), "" for the rest; the answer wins where they meet.

    >>> segments("7加5=12 so <answer>12</answer>", "12")
    [('7', ''), ('加', 'lang'), ('5=12 so <answer>', ''), ('12', 'answer'), ('</answer>', '')]
    """
    marks = [""] * len(completion)
    reasoning = think_text(completion)  # a substring of the completion: found where it starts
    offset = completion.find(reasoning)
    for start, end, script in word_spans(reasoning):
        if script != target:
            marks[offset + start:offset + end] = ["lang"] * (end - start)
    at = completion.rfind(answer) if answer else -1
    if at >= 0:
        marks[at:at + len(answer)] = ["answer"] * len(answer)
    pieces: list[tuple[str, str]] = []
    for char, mark in zip(completion, marks):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + char, mark)
        else:
            pieces.append((char, mark))
    return pieces
