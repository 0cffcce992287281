"""R1-Zero learns: from the default tiny base model, 20 seeded GRPO steps of recipes/tiny/zero.yaml raise
held-out arithmetic pass@1 by at least 25 points and make the completions much longer (it reasons more).

Building the base model takes ~10 minutes on 2 cores, so the test runs apart (`pytest -q -m learning`);
R1_TEST_BASE_MODEL=DIR reuses one built by `r1 pretrain` with its default settings (e.g. runs/demo/base,
as CI does after `r1 demo`).
"""

import os
import time
from pathlib import Path

import pytest
import torch

from r1.config import first_change, read_yaml
from r1.grpo.config import GRPOConfig
from r1.train.telemetry import read_log
from r1.grpo.trainer import train
from r1.models.pretrain import PretrainConfig, is_pretrained, pretrain

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "zero.yaml"
STEPS = 20
BENCHMARK = "tiny:arithmetic"


@pytest.fixture(scope="module")
def base_model_dir(tmp_path_factory) -> Path:
    """The default tiny base model: R1_TEST_BASE_MODEL when set, else pretrained here (~10 minutes)."""
    if reuse := os.environ.get("R1_TEST_BASE_MODEL"):
        assert is_pretrained(reuse), f"R1_TEST_BASE_MODEL={reuse} is not a finished `r1 pretrain` output"
        default = PretrainConfig(output_dir=reuse).model_dump()
        other = first_change(read_yaml(Path(reuse) / "pretrain_config.yaml"), default,
                             [key for key in default if key != "output_dir"])
        assert other is None, f"R1_TEST_BASE_MODEL={reuse} was pretrained with another {other} than the default"
        return Path(reuse)
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)  # the suite pins one thread; this is its one long job
    try:
        return Path(pretrain(PretrainConfig(output_dir=str(tmp_path_factory.mktemp("default-base")))))
    finally:
        torch.set_num_threads(threads)


@pytest.mark.learning
def test_r1_zero_raises_held_out_pass_at_1_and_lengthens_reasoning(base_model_dir, tmp_path):
    recipe = {**read_yaml(RECIPE), "model": str(base_model_dir), "output_dir": str(tmp_path / "zero"),
              "max_steps": STEPS, "eval_every": STEPS, "save_every": 0}
    cfg = GRPOConfig(**recipe)
    # the held-out set the recipe scores: 100 problems x 4 samples at T=1.0, no boxed-answer suffix
    assert (cfg.benchmarks, cfg.eval_problems, cfg.eval_k, cfg.temperature, cfg.suffix, cfg.max_new_tokens
            ) == ([BENCHMARK], 100, 4, 1.0, "", 64)

    tick = time.time()
    train(cfg)  # logs the held-out eval of the base model as step 0, and of the policy at the end
    seconds = time.time() - tick
    rows = read_log(tmp_path / "zero" / "log.jsonl")
    first, last = rows[0], rows[-1]
    assert first["step"] == 0 and last["step"] == STEPS
    base = {"pass@1": first[f"eval/{BENCHMARK}/pass@1"], "mean_tokens": first[f"eval/{BENCHMARK}/mean_tokens"]}
    final = {"pass@1": last[f"eval/{BENCHMARK}/pass@1"], "mean_tokens": last[f"eval/{BENCHMARK}/mean_tokens"]}
    numbers = (f"pass@1 {base['pass@1']:.3f} -> {final['pass@1']:.3f}, mean tokens {base['mean_tokens']:.1f}"
               f" -> {final['mean_tokens']:.1f}, {STEPS} GRPO steps (with both evals) in {seconds:.0f} s")
    print(numbers)
    assert final["pass@1"] - base["pass@1"] >= 0.25, numbers
    assert final["mean_tokens"] >= 1.8 * base["mean_tokens"], numbers
