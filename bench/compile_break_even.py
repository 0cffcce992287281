"""After how many GRPO steps does `compile=true` pay for its compile? Measured on this machine's CPU.

    pip install -e ".[bench]"
    python bench/compile_break_even.py                   # the tiny config of bench/grpo_vs_trl.py, 1 thread
    python bench/compile_break_even.py --threads 2 --steps 20

Three r1 runs of the same GRPO steps (bench/grpo_vs_trl.py's world: the tiny pretraining-shape Llama,
8 prompts x 8 completions x 64 tokens), each in its own process:
1. eager (`compile=false`);
2. compiled with an empty inductor cache (a fresh machine, or a first run: the C++ kernels are built);
3. compiled again with the cache the second run filled (later runs on the same machine).
A run's first `--warmup` steps hold the compile; its later steps are the steady step time. The extra
time of a compiled run's first steps over the eager run's, divided by what each later step saves, is
the number of steps after which compiling has paid for itself (cold: built from scratch; warm: from
the cache). The last line is `break-even steps: cold N, warm M`. `compile: auto` (r1.grpo.config) turns
compile on for runs at least as long as the cold figure measured on the slower of this project's CPUs.

Wall time, not CPU time: inductor compiles its kernels in child processes, whose CPU time the parent
does not see. On a shared machine both the compile and the steps slow down, so run it on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from grpo_common import add_common_args, machine, run_worker, versions
from grpo_vs_trl import build_world
from grpo_workers import worker_r1

HERE = Path(__file__).resolve()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, prompts=8, group=8, steps=10, warmup=2, part_reps=1, threads=1, compile=False)
    return p.parse_args(argv)


def break_even(eager: dict, compiled: dict) -> float:
    """Steps after which the compiled run has caught up with the eager one (inf: it never does)."""
    extra = sum(compiled["warmup_s"]) - sum(eager["warmup_s"])
    saved = eager["median_s"] - compiled["median_s"]
    return extra / saved if saved > 0 else float("inf")


def run(args: argparse.Namespace, work: Path) -> list[str]:
    import json

    (work / "world.json").write_text(json.dumps(build_world(args, work)))
    common = ["--threads", str(args.threads), "--steps", str(args.steps), "--warmup", str(args.warmup),
              "--prompts", str(args.prompts), "--group", str(args.group), "--new-tokens", str(args.new_tokens)]
    cache = work / "inductor-cache"  # empty for the cold run, filled by it for the warm one
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache)
    res = {}
    for name, extra in (("eager", ["--no-compile"]), ("cold", ["--compile"]), ("warm", ["--compile"])):
        res[name] = run_worker(HERE, "r1", common + extra, work, args.threads)
    stack = ", ".join(f"{name} {version}" for name, version in versions().items())
    lines = [f"machine: {machine()}; {stack}; {args.threads} thread(s); load average at the end "
             f"{os.getloadavg()[0]:.1f}"]
    for name, r in res.items():
        lines.append(f"{name}: first {args.warmup} steps {' '.join(f'{s:.1f}' for s in r['warmup_s'])} s, then "
                     f"{r['median_s']:.3f} s/step median over {args.steps}")
    cold, warm = break_even(res["eager"], res["cold"]), break_even(res["eager"], res["warm"])
    lines.append(f"each compiled step saves {res['eager']['median_s'] - res['cold']['median_s']:.3f} s "
                 f"({res['cold']['median_s'] / res['eager']['median_s']:.2f}x the eager step)")
    lines.append(f"break-even steps: cold {cold:.0f}, warm {warm:.0f}")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        import json

        work = Path(args.workdir)
        (work / "r1.json").write_text(json.dumps(worker_r1(args, work)))
        return
    with tempfile.TemporaryDirectory(prefix="r1-compile-") as scratch:
        work = Path(args.workdir) if args.workdir else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        print("\n".join(run(args, work)))


if __name__ == "__main__":
    main()
