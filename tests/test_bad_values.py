"""Out-of-range settings fail when the recipe and overrides are loaded: exit status 2, one line on stderr
naming the key, and nothing written (issue #20: no traceback, no silently different run)."""

from pathlib import Path

import pytest

from tests import test_cli
from tests.test_cli import assert_one_line_error

cli = test_cli.cli  # the CliRunner fixture of the CLI tests
EVAL_RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "tiny" / "eval.yaml"

EVAL_CASES = [
    ("k=0", ("'k' = 0", "greater than or equal to 1")),
    ("temperature=-1", ("'temperature' = -1", "greater than or equal to 0")),
    ("top_p=2", ("'top_p' = 2", "less than or equal to 1")),
    ("top_p=0", ("'top_p' = 0", "greater than 0")),
    ("n=0", ("'n' = 0", "greater than or equal to 1")),
    ("max_new_tokens=0", ("'max_new_tokens' = 0", "greater than or equal to 1")),
    ("batch_size=0", ("'batch_size' = 0", "greater than or equal to 1")),
]

STAGE_CASES = [
    ("grpo", "eval_k=0", ("'eval_k' = 0",)),
    ("grpo", "eval_problems=0", ("'eval_problems' = 0",)),
    ("grpo", "temperature=0", ("'temperature' = 0",)),
    ("grpo", "top_p=1.5", ("'top_p' = 1.5",)),
    ("grpo", "max_new_tokens=0", ("'max_new_tokens' = 0",)),
    ("grpo", "eval_temperature=-0.5", ("'eval_temperature' = -0.5",)),
    ("grpo", "eval_every=-1", ("'eval_every' = -1",)),
    ("grpo", "difficulty=0", ("'difficulty' = 0",)),
    ("grpo", "save_every=-1", ("'save_every' = -1",)),
    ("sft", "eval_k=0", ("'eval_k' = 0",)),
    ("sft", "eval_problems=0", ("'eval_problems' = 0",)),
    ("sft", "eval_max_new_tokens=0", ("'eval_max_new_tokens' = 0",)),
    ("sft", "difficulty=-1", ("'difficulty' = -1",)),
    ("sft", "save_every=-1", ("'save_every' = -1",)),
    ("rejection-sample", "n=0", ("'n' = 0",)),
    ("rejection-sample", "k=0", ("'k' = 0",)),
    ("rejection-sample", "temperature=-1", ("'temperature' = -1",)),
    ("rejection-sample", "difficulty=0", ("'difficulty' = 0",)),
    ("distill", "n=0", ("'n' = 0",)),
    ("distill", "difficulty=0", ("'difficulty' = 0",)),
    ("rm-data", "k=0", ("'k' = 0",)),
    ("rm-data", "max_new_tokens=0", ("'max_new_tokens' = 0",)),
    ("pretrain", "max_steps=0", ("'max_steps' = 0",)),
    ("pretrain", "batch_size=0", ("'batch_size' = 0",)),
    ("pretrain", "save_every=-1", ("'save_every' = -1",)),
    ("pretrain", "difficulty=0", ("'difficulty' = 0",)),
    ("pretrain", "num_heads=5", ("num_heads", "must divide")),
    ("grpo", "group_size=1", ("'group_size' = 1", "greater than or equal to 2")),
    ("grpo", "prompts_per_step=0", ("'prompts_per_step' = 0",)),
    ("grpo", "mu=0", ("'mu' = 0",)),
    ("grpo", "beta=-0.1", ("'beta' = -0.1",)),
    ("grpo", "delta=1", ("'delta' = 1", "greater than 1")),
    ("grpo", "grad_accum=0", ("'grad_accum' = 0",)),
    ("grpo", "top_entropy_quantile=2", ("'top_entropy_quantile' = 2",)),
    ("grpo", "vllm_gpu_memory_utilization=0", ("'vllm_gpu_memory_utilization' = 0",)),
    ("grpo", "train_problems=0", ("'train_problems' = 0",)),
    ("grpo", "lora.r=0", ("'lora.r' = 0",)),
    ("sft", "lora.dropout=1", ("'lora.dropout' = 1", "less than 1")),
    ("rejection-sample", "max_per_prompt=0", ("'max_per_prompt' = 0",)),
    ("rejection-sample", "non_reasoning_share=1", ("'non_reasoning_share' = 1", "less than 1")),
    ("rejection-sample", "filters.near_duplicate=0", ("'filters.near_duplicate' = 0",)),
    ("rejection-sample", "judge.timeout=0", ("'judge.timeout' = 0",)),
    ("rejection-sample", "train_problems=0", ("'train_problems' = 0",)),
    ("distill", "train_problems=0", ("'train_problems' = 0",)),
    ("rm-data", "margin=0", ("'margin' = 0", "greater than 0")),
    ("rm-data", "twins_per_prompt=-1", ("'twins_per_prompt' = -1",)),
    ("rm-data", "twin_kinds=[]", ("'twin_kinds' = []", "at least 1 item")),
    ("rm-data", "twin_kinds=[thing]", ("'twin_kinds.0' = 'thing'", "'fewer'")),
    ("rm-data", "max_pairs_per_prompt=0", ("'max_pairs_per_prompt' = 0",)),
    ("rm-data", "harmless_per_harmful=0", ("'harmless_per_harmful' = 0",)),
    ("train-rm", "epochs=0", ("'epochs' = 0",)),
    ("train-rm", "lr=0", ("'lr' = 0",)),
    ("train-rm", "margin=-1", ("'margin' = -1",)),
]

REQUIRED = {"grpo": ["model=M"], "sft": ["model=M"], "rejection-sample": ["model=M"], "rm-data": [],
            "train-rm": ["model=M", "data=D"],
            "distill": ["teacher=T", "student=S"], "pretrain": []}


@pytest.mark.parametrize("override, words", EVAL_CASES)
def test_eval_refuses_bad_sampling_values(cli, tmp_path, override, words):
    out = tmp_path / "out"
    result = cli("eval", "-c", EVAL_RECIPE, "model=M", f"output_dir={out}", override)
    assert_one_line_error(result, "command line", *words)
    assert not out.exists()


@pytest.mark.parametrize("command, override, words", STAGE_CASES)
def test_stage_refuses_bad_values(cli, tmp_path, command, override, words):
    out = tmp_path / "out"
    result = cli(command, f"output_dir={out}", *REQUIRED[command], override)
    assert_one_line_error(result, *words)
    assert not out.exists()


def test_bad_value_in_a_recipe_names_the_file(cli, tmp_path):
    recipe = tmp_path / "eval.yaml"
    recipe.write_text(f"output_dir: {tmp_path / 'out'}\nmodel: M\nbenchmark: tiny:arithmetic\ntop_p: 0\n")
    assert_one_line_error(cli("eval", "-c", recipe), str(recipe), "'top_p' = 0")
    assert not (tmp_path / "out").exists()


def test_greedy_temperature_is_accepted(cli, tmp_path):
    """temperature=0 means greedy, not an error: the eval gets past loading and stops at the missing model."""
    result = cli("eval", "-c", EVAL_RECIPE, "model=M", f"output_dir={tmp_path / 'out'}", "temperature=0")
    assert_one_line_error(result, "model: M does not exist")


@pytest.mark.parametrize("args, words", [
    (["tasks", "export", "--family", "arithmetic", "--split", "train", "--n", "3", "--difficulty", "0"],
     ["difficulty must be >= 1", "got 0"]),
    (["tasks", "export", "--family", "linear", "--split", "test", "--n", "3", "--difficulty", "-1"],
     ["difficulty must be >= 1", "got -1"]),
    (["tasks", "cold-start", "--n", "3", "--difficulty", "0"], ["difficulty must be >= 1", "got 0"]),
])
def test_task_generators_refuse_difficulty_below_one(cli, tmp_path, args, words):
    out = tmp_path / "problems.jsonl"
    assert_one_line_error(cli(*args, "--out", out), *words)
    assert not out.exists()


@pytest.mark.parametrize("level", ["0", "-1", "x"])
def test_tiny_benchmark_refuses_difficulty_below_one(level):
    from r1.errors import R1Error
    from r1.eval.data import load_benchmark

    with pytest.raises(R1Error, match="difficulty after @ must be a whole number >= 1"):
        load_benchmark(f"tiny:arithmetic@{level}", n=3)


def test_pipeline_only_stage_refuses_difficulty_zero():
    """cold-start-data has no command of its own (pipelines run it): its config refuses at load time."""
    from r1.config import load_config
    from r1.errors import R1Error
    from r1.tasks.stages import ColdStartDataConfig

    expected = r"command line: key 'difficulty' = 0: Input should be greater than or equal to 1"
    with pytest.raises(R1Error, match=expected):
        load_config(ColdStartDataConfig, None, ["difficulty=0"], output_dir="out")
