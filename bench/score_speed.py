"""How many completions per second the math reward scores (target: >= 500/s on 2 CPU cores).

    python bench/score_speed.py                 # MATH-500 reference solutions x 4, one process
    python bench/score_speed.py --processes 2   # the same over a pool of 2 worker processes

Three workloads, each from empty caches:
- reference: every reference solution of half of MATH-500, 4 times (what the target is about);
- wrong: each solution scored against the next record's answer, so every fast path that matches
  equal answers misses and most pairs go through math-verify (the worst case);
- gsm8k: GSM8K reference numbers as `\\boxed{N}`, with the GSM8K scorer.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from r1.eval.data import load_benchmark
from r1.rewards.math import _canonical, gsm8k_accuracy, math_accuracy, parse_math

TARGET = 500.0


def _score(args: tuple[str, list[str], list[str]]) -> list[float]:
    name, completions, answers = args
    fn = gsm8k_accuracy if name == "gsm8k" else math_accuracy
    return fn(completions, answer=answers)


def _clear_caches() -> None:
    parse_math.cache_clear()
    _canonical.cache_clear()


def measure(name: str, completions: list[str], answers: list[str], processes: int) -> tuple[float, float]:
    """(completions per second, mean score) for one workload."""
    _clear_caches()
    start = time.perf_counter()
    if processes <= 1:
        scores = _score((name, completions, answers))
    else:
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_clear_caches_remote, range(processes)))  # workers start before the clock
            start = time.perf_counter()
            size = -(-len(completions) // (4 * processes))  # 4 chunks per worker to balance the load
            chunks = [(name, completions[i : i + size], answers[i : i + size])
                      for i in range(0, len(completions), size)]
            scores = [s for part in pool.map(_score, chunks) for s in part]
    seconds = time.perf_counter() - start
    return len(completions) / seconds, sum(scores) / len(scores)


def _clear_caches_remote(_: int) -> None:
    _score(("math", [r"\boxed{1}"], ["1/2"]))  # import math-verify and sympy in the worker
    _clear_caches()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=1, help="worker processes (1: no pool)")
    parser.add_argument("--repeats", type=int, default=4, help="copies of each reference solution")
    args = parser.parse_args()
    math, _ = load_benchmark("math500")
    gsm8k, _ = load_benchmark("gsm8k")
    _score(("math", [r"\boxed{1}"], ["1/2"]))  # imports (sympy, antlr) are not scoring time
    solutions, answers = [r["solution"] for r in math], [r["answer"] for r in math]
    workloads = {
        "reference": ("math", solutions * args.repeats, answers * args.repeats),
        "wrong": ("math", solutions[1:] + solutions[:1], answers),
        "gsm8k": ("gsm8k", [f"\\boxed{{{r['answer']}}}" for r in gsm8k], [r["answer"] for r in gsm8k]),
    }
    print(f"{os.cpu_count()} CPU cores, {args.processes} process(es)")
    rates = {}
    for label, (name, completions, golds) in workloads.items():
        rates[label], mean = measure(name, completions, golds, args.processes)
        print(f"{label:>9}: {len(completions):5d} completions  {rates[label]:8.0f}/s  mean score {mean:.3f}")
    verdict = "meets" if rates["reference"] >= TARGET else "MISSES"
    print(f"math scoring: {rates['reference']:.0f} completions/s on reference solutions "
          f"({verdict} the {TARGET:.0f}/s target)")
    sys.exit(0 if rates["reference"] >= TARGET else 1)


if __name__ == "__main__":
    main()
