"""Smoke run of bench/grpo_vs_trl.py: two steps of TRL and of r1 on a toy batch; the output parses and
ends with the ratio line. No speed is asserted (speed is measured by hand: bench/RESULTS.md).
--no-compile: compiling would take minutes here; r1's compiled path is tested in
tests/models/test_compile.py."""

from __future__ import annotations

import re

from tests.bench import needs_trl, run_bench

pytestmark = needs_trl


def test_two_step_smoke_run_prints_every_figure_and_the_ratio_last(tmp_path):
    lines, data = run_bench("grpo_vs_trl.py", ["--prompts", "2", "--group", "2", "--new-tokens", "8", "--steps",
                                               "2", "--warmup", "0", "--part-reps", "1", "--threads", "1",
                                               "--no-compile"], tmp_path)
    assert re.fullmatch(r"ratio TRL/r1: \d+\.\d\d", lines[-1]), lines[-1]
    assert float(lines[-1].split(":")[1]) > 0
    text = "\n".join(lines)
    for label in ("TRL GRPOTrainer", "r1 grpo_step"):
        line = next(line for line in lines if line.startswith(label))
        assert float(re.search(r"([\d.]+) s/step median", line).group(1)) > 0
        # eos is unreachable, so every completion is exactly --new-tokens long: 2 x 2 x 8 tokens
        assert int(re.search(r"(\d+) completion tokens/step", line).group(1)) >= 30
    assert re.search(r"r1 step / sum of parts alone: \d+\.\d\d", text)
    assert re.search(r"r1 rollout tokens/s / plain generate tokens/s: \d+\.\d\d", text)
    assert data["results"]["trl"]["tokens_per_step"] == 32  # TRL keeps every sampled token
    assert len(data["results"]["r1"]["step_s"]) == 2
    parts = data["results"]["parts"]["parts"]
    assert set(parts) == {"generate", "reward", "reference", "fwd_bwd", "optimizer"}
    assert all(v > 0 for v in parts.values())
    assert data["lines"][-1] == lines[-1]
