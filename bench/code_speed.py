"""How many programs per second code_accuracy scores (target: >= 20/s on 2 CPU cores).

    python bench/code_speed.py                # MBPP reference solutions, one sandbox per program
    python bench/code_speed.py --workers 4 --repeat 2

Each program is an MBPP (sanitized) reference solution in a ```python block, run with its record's
test_imports and test_list through `code_accuracy`, so the number includes everything a training
step pays: code extraction, process start, namespaces, limits, the tests and the cleanup. The CPU
time per program (this process plus every sandbox process) tells what an idle machine would give.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from r1.rewards.code import code_accuracy
from r1.rewards.sandbox import run_tests

TARGET = 20.0
MBPP = Path(__file__).resolve().parents[1] / "r1/data/benchmarks/mbpp_sanitized/test.jsonl"


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="sandboxes at a time")
    parser.add_argument("--repeat", type=int, default=1, help="times through the 257 records")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="wall-clock limit per program (mbpp-123's reference needs ~3 s of CPU)")
    args = parser.parse_args()

    records = [json.loads(line) for line in MBPP.read_text().splitlines() if line.strip()] * args.repeat
    completions = [f"```python\n{r['solution']}\n```" for r in records]
    isolation = run_tests("", ["assert True"]).isolation  # warm up; and say what was measured
    cpu, start = _cpu_seconds(), time.perf_counter()
    scores = code_accuracy(completions, [r["test_list"] for r in records],
                           [r["test_imports"] for r in records], workers=args.workers,
                           timeout_s=args.timeout)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    rate = len(records) / seconds
    print(f"{len(records)} programs in {seconds:.1f} s with {args.workers} workers "
          f"(isolation: {isolation}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    print(f"mean score {sum(scores) / len(scores):.3f} (reference solutions: should be 1.000)")
    print(f"CPU per program {1000 * cpu / len(records):.1f} ms "
          f"-> about {os.cpu_count() * len(records) / cpu:.0f} programs/s on idle cores")
    print(f"{rate:.1f} programs/s (target >= {TARGET:.0f})")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
