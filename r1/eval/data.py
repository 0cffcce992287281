"""Where evaluation problems come from: shipped benchmarks, tiny-world tasks, a JSONL file, or `datasets`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from r1.errors import R1Error
from r1.files import text_lines

# name -> (file inside r1/data/benchmarks, scoring task)
BENCHMARKS = {
    "gsm8k": ("gsm8k/test.jsonl", "gsm8k"),
    "math500": ("math500/test.jsonl", "math"),
    "aime24": ("aime24/test.jsonl", "math"),
    "mbpp": ("mbpp_sanitized/test.jsonl", "code"),
}
# name -> file of its train split, for the benchmarks that ship one: training reads it, never the test file
TRAIN_FILES = {"gsm8k": "gsm8k/train.jsonl"}


def read_jsonl(path: str | Path, field: str = "data") -> list[dict[str, Any]]:
    return [record for _, record in read_jsonl_lines(path, field)]


def read_jsonl_lines(path: str | Path, field: str = "data") -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-empty line; a bad line is a one-line error naming it."""
    p = Path(path)
    if not p.is_file():
        raise R1Error(f"{field}: {p} not found")
    records = []
    for line_no, line in enumerate(text_lines(p, field), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise R1Error(f"{p}:{line_no}: not valid JSON") from None
        if not isinstance(record, dict):
            raise R1Error(f"{p}:{line_no}: each line must be a JSON object")
        records.append((line_no, record))
    return records


def shipped_task(data: str) -> str | None:
    """The scorer of the shipped benchmark `data` names (e.g. gsm8k); None for a file or directory."""
    return BENCHMARKS[data][1] if data in BENCHMARKS and not Path(data).exists() else None


def done_samples(path: Path) -> dict[tuple[str, int], dict]:
    """Samples already written by an earlier, interrupted run (a torn last line is ignored)."""
    done: dict[tuple[str, int], dict] = {}
    if path.is_file():
        for line in text_lines(path):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[(str(row["id"]), row["sample"])] = row
    return done


def benchmark_path(name: str, split: str = "test") -> Path:
    """The shipped file of a benchmark's split (test, or train where TRAIN_FILES has one)."""
    if split == "test":
        file = BENCHMARKS[name][0]
    elif split == "train" and name in TRAIN_FILES:
        file = TRAIN_FILES[name]
    else:
        shipped = ", ".join(["test", *(["train"] if name in TRAIN_FILES else [])])
        raise R1Error(f"data: the shipped benchmark {name} has no {split!r} split (it has {shipped}); "
                      "give your own file for training")
    return Path(str(resources.files("r1") / "data" / "benchmarks" / file))


def load_benchmark(name: str, n: int | None = None, seed: int = 0) -> tuple[list[dict], str]:
    """Records and scoring task for a shipped benchmark or `tiny:<family>[@difficulty]` (held-out split)."""
    if name.startswith("tiny:"):
        from r1.tasks import generate

        family, _, level = name.split(":", 1)[1].partition("@")
        if level and (not level.isdigit() or int(level) < 1):
            raise R1Error(f"benchmark: {name!r}: the difficulty after @ must be a whole number >= 1")
        return generate(family, "test", n or 200, seed=seed, difficulty=int(level) if level else None), "tiny"
    if name not in BENCHMARKS:
        known = ", ".join([*BENCHMARKS, "tiny:<family>[@difficulty]"])
        raise R1Error(f"benchmark: unknown benchmark {name!r} (known: {known})")
    records = read_jsonl(benchmark_path(name), "benchmark")
    return records[:n] if n else records, BENCHMARKS[name][1]


def load_data(source: str, *, split: str, n: int | None = None, need_problem: bool = True) -> list[dict[str, Any]]:
    """A JSONL file, a directory saved by `datasets.save_to_disk`, or `hf:NAME[:split]` (needs a hub).

    `split` picks the split of a DatasetDict or a hub dataset (training: train, evaluation: test);
    a split named in `hf:NAME:split` wins. Every record must have `problem` unless need_problem is
    false (general prompts may give `prompt` instead).
    """
    if source.startswith("hf:"):
        import datasets

        name, _, named = source[3:].partition(":")
        try:
            records = [dict(r) for r in datasets.load_dataset(name, split=named or split)]
        except Exception as err:  # the hub is often unreachable; say so in one line
            raise R1Error(f"data: cannot load {name!r} through datasets: {str(err).splitlines()[0]}") from None
    elif Path(source).is_dir():
        records = load_saved(Path(source), split)
    else:
        records = read_jsonl(source)
    for i, record in enumerate(records):
        record.setdefault("id", str(i))
        if need_problem and "problem" not in record:
            raise R1Error(f"data: {source}: record {record['id']} has no 'problem' field")
    return records[:n] if n else records


def reference_field(task: str | None, record: dict[str, Any]) -> str:
    """The field a record is scored against: code's test_list, every other task's answer."""
    code = task in ("code", "mbpp") or task is None and "test_list" in record
    return "test_list" if code else "answer"


def has_reference(record: dict[str, Any], task: str | None = None) -> bool:
    """Whether a record holds what it is scored against (`task` None: its own task)."""
    return record.get(reference_field(task or record.get("task"), record)) is not None


def check_scorable(records: list[dict[str, Any]], source: str, task: str | None = None) -> None:
    """Records to score by id (eval, score, rejection sampling): some, each id once (samples are keyed
    by id, so a repeated one would overwrite another problem's), each with what it is scored against.
    `task` None: each record's own task."""
    if not records:
        raise R1Error(f"data: {source} holds no records")
    seen: dict[str, int] = {}
    for number, record in enumerate(records, 1):
        key = str(record["id"])
        if key in seen:
            raise R1Error(f"data: {source}: records {seen[key]} and {number} share the id {key!r}; each "
                          "problem needs its own id (samples are keyed by it)")
        seen[key] = number
        if not has_reference(record, task):
            field = reference_field(task or record.get("task"), record)
            raise R1Error(f"data: {source}: record {number} (id {key!r}) has no {field!r} to score against")


def load_saved(path: Path, split: str) -> list[dict[str, Any]]:
    """Records of a directory saved by `datasets`: a Dataset, or the `split` of a DatasetDict."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError:
        raise R1Error(f"data: {path} is a directory but not one saved by datasets") from None
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise R1Error(f"data: {path} has no {split!r} split (it has {', '.join(loaded)}); "
                          "choose one with data_split")
        loaded = loaded[split]
    return [dict(r) for r in loaded]
