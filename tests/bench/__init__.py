"""Smoke runs of the scripts in bench/."""

import importlib.util
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"

needs_trl = pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                               reason="TRL is not installed (pip install -e '.[dev]' or '.[bench]')")
"""Mark of the benchmarks against TRL."""


def run_bench(script: str, args: list[str], tmp_path: Path, timeout: int = 180) -> tuple[list[str], dict]:
    """Run bench/<script> with `args` (and a scratch workdir and --json under tmp_path); it must exit 0.
    Returns its stdout lines and the JSON it wrote."""
    import json
    import subprocess
    import sys

    out_json = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(BENCH_DIR / script), *args, "--workdir", str(tmp_path / "work"),
                           "--json", str(out_json)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout.strip().splitlines(), json.loads(out_json.read_text())
