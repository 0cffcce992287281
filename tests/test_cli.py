"""The `r1` command line: subcommands, one-line errors with exit status 2, overrides."""

import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from r1.cli import app
from r1.tasks import FAMILIES, split_of, verify


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


def assert_one_line_error(result, *needles):
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert str(needle) in lines[0], (needle, lines[0])
    return lines[0]


def test_help_lists_the_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("demo", "pretrain", "eval", "tasks"):
        assert command in result.output
    assert cli().exit_code in (0, 2) and "pretrain" in cli().output  # no arguments: help


@pytest.mark.parametrize("command", ["pretrain", "eval", "demo"])
def test_unknown_key_in_recipe(cli, tmp_path, command):
    recipe = tmp_path / "bad.yaml"
    extra = {"eval": "model: m\n", "demo": "stages: []\n"}.get(command, "")
    recipe.write_text(f"output_dir: out\n{extra}bogus_key: 3\n")
    assert_one_line_error(cli(command, "-c", recipe), recipe, "bogus_key")
    assert not (tmp_path / "out").exists()


def test_wrong_type_in_recipe(cli, tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("output_dir: out\nmax_steps: many\n")
    assert_one_line_error(cli("pretrain", "-c", recipe), recipe, "max_steps", "many")


def test_missing_required_key(cli, tmp_path):
    recipe = tmp_path / "eval.yaml"
    recipe.write_text("output_dir: out\nbenchmark: tiny:linear\n")
    assert_one_line_error(cli("eval", "-c", recipe), recipe, "model")


def test_missing_recipe_file(cli, tmp_path):
    assert_one_line_error(cli("pretrain", "-c", tmp_path / "nope.yaml"), tmp_path / "nope.yaml", "not found")


def test_invalid_yaml(cli, tmp_path):
    recipe = tmp_path / "broken.yaml"
    recipe.write_text("output_dir: out\nfamilies: {arithmetic: 1\n")
    assert_one_line_error(cli("pretrain", "-c", recipe), recipe, "YAML")


def test_bad_override(cli, tmp_path):
    recipe = tmp_path / "ok.yaml"
    recipe.write_text("output_dir: out\n")
    assert_one_line_error(cli("pretrain", "-c", recipe, "max_steps=many"), "command line", "max_steps")
    assert_one_line_error(cli("pretrain", "-c", recipe, "notapair"), "notapair")


def test_demo_checks_its_overrides(cli, tmp_path):
    assert_one_line_error(cli("demo", f"output_dir={tmp_path / 'demo'}", "base.bogus=1"), "base", "bogus")
    assert_one_line_error(cli("demo", f"output_dir={tmp_path / 'demo'}", "nostage.max_steps=1"), "nostage")


def test_demo_checks_every_stage_before_any_work(cli, tmp_path):
    # each value passes validation; together GRPOConfig.check() refuses them, before pretraining starts
    assert_one_line_error(cli("demo", f"output_dir={tmp_path / 'demo'}", "zero.loss_type=cispo", "zero.delta=2"),
                          "zero", "loss_type=cispo has none")
    assert_one_line_error(cli("demo", f"output_dir={tmp_path / 'demo'}", "base.num_heads=5"), "num_heads")
    assert not (tmp_path / "demo").exists()


def test_demo_of_a_missing_recipe(cli, tmp_path):
    assert_one_line_error(cli("demo", "-c", tmp_path / "nope.yaml"), tmp_path / "nope.yaml")


def test_eval_of_a_missing_model(cli, tmp_path):
    assert_one_line_error(cli("eval", "--model", tmp_path / "no-model", "--benchmark", "tiny:linear", "--n", 2,
                              "--k", 1, "--out", tmp_path / "out"), tmp_path / "no-model")


def test_eval_overrides_beat_the_recipe(cli, tmp_path, tiny_model_dir):
    recipe = tmp_path / "eval.yaml"
    recipe.write_text(f"output_dir: {tmp_path / 'from-recipe'}\nmodel: {tiny_model_dir}\nbenchmark: tiny:linear\n"
                      "n: 9\nk: 5\ntemperature: 1.0\nsuffix: ''\nmax_new_tokens: 12\n")
    result = cli("eval", "-c", recipe, "k=2", "--n", 3, "--out", tmp_path / "from-flag")
    assert result.exit_code == 0, result.output
    assert "pass@2" in result.stdout and "linear" in result.stdout
    rows = [json.loads(line) for line in (tmp_path / "from-flag" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 3 * 2 and {r["sample"] for r in rows} == {0, 1}
    assert not (tmp_path / "from-recipe").exists()


def test_tasks_export(cli, tmp_path):
    out = tmp_path / "sub" / "tasks.jsonl"
    result = cli("tasks", "export", "--family", "all", "--split", "test", "--n", 9, "--out", out)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 9 and len({r["id"] for r in records}) == 9
    assert {r["task"] for r in records} == set(FAMILIES)
    for record in records:
        assert {"id", "task", "problem", "answer", "solution"} <= set(record)
        assert split_of(record["problem"]) == "test" and verify(record, record["answer"])


def test_tasks_export_difficulty_and_seed(cli, tmp_path):
    def export(name, *extra):
        cli("tasks", "export", "--family", "countdown", "--split", "train", "--n", 4, "--out", tmp_path / name, *extra)
        return [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]

    hard = export("a.jsonl", "--difficulty", 3, "--seed", 1)
    assert all(len(r["numbers"]) == 5 and r["difficulty"] == 3 for r in hard)
    assert export("b.jsonl", "--difficulty", 3, "--seed", 1) == hard
    assert export("c.jsonl", "--difficulty", 3, "--seed", 2) != hard


@pytest.mark.parametrize("args, needle", [(["--family", "bogus", "--split", "test"], "bogus"),
                                          (["--family", "linear", "--split", "valid"], "valid")])
def test_tasks_export_bad_arguments(cli, tmp_path, args, needle):
    result = cli("tasks", "export", *args, "--n", 3, "--out", tmp_path / "x.jsonl")
    assert_one_line_error(result, needle)
    assert not (tmp_path / "x.jsonl").exists()


def test_tasks_cold_start_and_non_reasoning_files_are_sft_data_as_they_are(cli, tmp_path, tiny_tokenizer):
    from r1.sft import SFTConfig
    from r1.sft.data import load_examples

    cold, general = tmp_path / "sub" / "cold.jsonl", tmp_path / "general.jsonl"
    result = cli("tasks", "cold-start", "--n", 12, "--out", cold, "--seed", 2,
                 "--families", "linear,countdown")
    assert result.exit_code == 0, result.output
    assert cli("tasks", "non-reasoning", "--n", 10, "--out", general, "--split", "test").exit_code == 0
    records = [json.loads(line) for line in cold.read_text(encoding="utf-8").splitlines()]
    assert [r["task"] for r in records] == ["linear"] * 6 + ["countdown"] * 6
    assert all(split_of(r["prompt"]) == "train" and r["id"].endswith(f"-2-{i % 6:05d}")
               for i, r in enumerate(records))
    for path, n in ((cold, 12), (general, 10)):
        cfg = SFTConfig(output_dir=str(tmp_path / "out"), model="unused", data=str(path), max_seq_len=512)
        examples = load_examples(cfg, tiny_tokenizer)
        assert len(examples) == n and all(tiny_tokenizer.unk_token_id not in e.response_ids for e in examples)


@pytest.mark.parametrize("args, needle", [
    (["cold-start", "--families", "arithmetic,bogus"], "bogus"), (["cold-start", "--n", 0], "n:"),
    (["non-reasoning", "--split", "valid"], "valid"), (["non-reasoning", "--kinds", "poetry"], "poetry")])
def test_tasks_sft_data_bad_arguments(cli, tmp_path, args, needle):
    n = [] if "--n" in args else ["--n", 3]
    assert_one_line_error(cli("tasks", *args, *n, "--out", tmp_path / "x.jsonl"), needle)
    assert not (tmp_path / "x.jsonl").exists()


def test_tasks_list(cli):
    result = cli("tasks", "list")
    assert result.exit_code == 0
    assert [line.split("\t")[0] for line in result.stdout.strip().splitlines()] == list(FAMILIES)


def test_demo_runs_a_pipeline_and_checks_the_papers_findings(cli, tmp_path, tiny_model_dir):
    recipe = tmp_path / "paper.yaml"
    zero = ("{model: base, families: [arithmetic], max_steps: 2, prompts_per_step: 2, group_size: 2, "
            "max_new_tokens: 12, eval_every: 0, save_every: 0, stop: [</answer>], suffix: ''")
    recipe.write_text(f"""output_dir: {tmp_path / 'demo'}
eval: {{benchmarks: [tiny:arithmetic, tiny:linear], n: 2, k: 4, temperatures: [0.6], max_new_tokens: 12}}
stages:
  - {{name: base, kind: model, settings: {{model: {tiny_model_dir}}}}}
  - {{name: zero, kind: grpo, settings: {zero}}}}}
  - {{name: zero_language, kind: grpo, settings: {zero}, reward: {{language: 0.2}}}}}}
""")
    result = cli("demo", "-c", recipe)
    assert result.exit_code == 0, result.output
    out = tmp_path / "demo"
    paper = (out / "paper.md").read_text().splitlines()
    header = next(line for line in paper if line.startswith("| stage"))
    assert "arithmetic pass@1" in header and "linear cons@4" in header
    rows = [line.split(" | ")[0].strip("| ") for line in paper if line.startswith("| ")]
    assert rows[1:4] == ["base", "zero", "zero_language"]
    claims = [line for line in paper if line.startswith("| R1-Zero learns") or line.startswith("| The language")]
    assert len(claims) == 2 and all(line.endswith(("| yes |", "| no |")) for line in claims)
    assert "<table id=stages>" in (out / "report.html").read_text(encoding="utf-8")  # the pipeline's report


@pytest.mark.skipif(shutil.which("r1") is None, reason="the r1 console script is not installed")
def test_console_script_error_has_no_traceback(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("output_dir: out\nbogus_key: 1\n")
    proc = subprocess.run([shutil.which("r1"), "pretrain", "-c", str(recipe)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(recipe) in lines[0] and "bogus_key" in lines[0]


def test_module_entry_point_help():
    proc = subprocess.run([sys.executable, "-m", "r1.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "pretrain" in proc.stdout


@pytest.mark.parametrize("command", ["pretrain", "sft", "grpo"])
def test_stage_help_lists_every_config_key_with_its_help(command):
    from r1.stages import STAGES

    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    cls = STAGES[command].config_class()
    for name, field in cls.model_fields.items():
        if name in ("lora", "reward", "context_schedule"):
            continue  # nested: listed as lora.r, reward.reasoning, ...
        assert f" {name} (" in result.output, name
    if "lora" in cls.model_fields:
        assert "lora.r (default 16)" in result.output
    if "context_schedule" in cls.model_fields:
        assert "context_schedule.kind (default 'fixed')" in result.output
