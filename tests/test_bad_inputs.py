"""Bad files, models and paths, command by command (issue #20): each is one line on stderr naming the
file, field or value, exit status 2, no traceback, and nothing written; a bug is its traceback and a line
asking to report it. Out-of-range values are in test_bad_values.py."""

import errno
import json
import shutil
from pathlib import Path

import pytest

from r1.stages import STAGES
from tests import test_cli
from tests.test_cli import assert_one_line_error

cli = test_cli.cli  # the CliRunner fixture of the CLI tests
GARBAGE = b"\xff\xfe\x00\x81binary\x00\x9c" * 20
COMMANDS = sorted(name for name, stage in STAGES.items() if stage.command)


def problems(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def required(command: str) -> list[str]:
    """A placeholder value for every required field of a stage's config but output_dir."""
    fields = STAGES[command].config_class().model_fields
    return [f"{name}=M" for name, f in fields.items() if f.is_required() and name != "output_dir"]


# the smallest run of each command that reads a model and data
SMALL = {"grpo": ["max_steps=1", "families=[arithmetic]"], "sft": ["max_steps=1", "families=[arithmetic]"],
         "rejection-sample": ["families=[arithmetic]"], "rm-data": []}


def eval_args(model, out: Path) -> list:
    return ["eval", "--model", model, "--k", "1", "--n", "2", "--max-new-tokens", "4", "--out", out]


# --- text that is not UTF-8 --------------------------------------------------------------------------

def test_recipe_that_is_not_utf8(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_bytes(b"output_dir: out\n" + GARBAGE)
    assert_one_line_error(cli("grpo", "-c", recipe), f"{recipe}:2", "not UTF-8")


@pytest.mark.parametrize("command", ["grpo", "sft", "rejection-sample"])
def test_training_data_that_is_not_utf8(cli, tmp_path, tiny_model_dir, command):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(json.dumps({"problem": "1+1", "answer": "2"}).encode() + b"\n" + GARBAGE)
    out = tmp_path / "out"
    task = [] if command == "sft" else ["task=math"]
    line = assert_one_line_error(cli(command, f"model={tiny_model_dir}", f"data={bad}", *task, f"output_dir={out}",
                                     *SMALL[command][:1]), f"{bad}:2", "not UTF-8")
    assert "data" in line


def test_eval_and_score_files_that_are_not_utf8(cli, tmp_path, tiny_model_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(GARBAGE)
    good = problems(tmp_path / "good.jsonl", [{"id": "1", "problem": "1+1", "answer": "2"}])
    completions = problems(tmp_path / "c.jsonl", [{"id": "1", "completion": "\\boxed{2}"}])
    out = tmp_path / "e"
    assert_one_line_error(cli(*eval_args(tiny_model_dir, out), "--data", bad, "--task", "math"),
                          f"{bad}:1", "not UTF-8")
    assert not (out / "samples.jsonl").exists()
    assert_one_line_error(cli("score", "--data", bad, "--completions", completions, "--task", "math"),
                          "data:", f"{bad}:1")
    assert_one_line_error(cli("score", "--data", good, "--completions", bad, "--task", "math"),
                          "completions:", f"{bad}:1")


def test_plot_of_a_log_that_is_not_utf8(cli, tmp_path):
    (tmp_path / "log.jsonl").write_bytes(GARBAGE)
    assert_one_line_error(cli("plot", tmp_path), "log.jsonl:1", "not UTF-8")
    assert not (tmp_path / "plots").exists()


# --- damaged and unfinished models -------------------------------------------------------------------

def damaged(tiny_model_dir, tmp_path: Path, how: str) -> Path:
    model = tmp_path / how / "final"
    shutil.copytree(tiny_model_dir, model)
    weights = model / "model.safetensors"
    if how == "empty":
        weights.write_bytes(b"")
    elif how == "truncated":
        weights.write_bytes(weights.read_bytes()[:-100])
    else:  # a stage's save that was killed: no marker beside the stage's config
        (model / "r1_final.json").unlink()
        (model.parent / "sft_config.yaml").write_text("output_dir: x\n")
    return model


def test_a_final_directory_another_tool_wrote_needs_no_marker(tiny_model_dir, tmp_path):
    from r1.errors import R1Error
    from r1.models.load import check_model_dir

    theirs = tmp_path / "trl-output" / "final"
    shutil.copytree(tiny_model_dir, theirs)
    (theirs / "r1_final.json").unlink()
    assert check_model_dir(theirs) == theirs  # no r1 stage wrote its parent
    (theirs.parent / "log.jsonl").write_text("")  # now it is an r1 run's, and unfinished
    with pytest.raises(R1Error, match="never finished"):
        check_model_dir(theirs)


@pytest.mark.parametrize("how, words", [("empty", ("model.safetensors", "damaged or truncated")),
                                        ("truncated", ("model.safetensors", "damaged or truncated")),
                                        ("unfinished", ("never finished", "r1_final.json"))])
@pytest.mark.parametrize("command", ["eval", "grpo", "sft", "rejection-sample", "rm-data"])
def test_damaged_or_unfinished_model(cli, tmp_path, tiny_model_dir, how, words, command):
    model, out = damaged(tiny_model_dir, tmp_path, how), tmp_path / "out"
    if command == "eval":
        result = cli(*eval_args(model, out), "--benchmark", "tiny:arithmetic")
    else:
        result = cli(command, f"model={model}", f"output_dir={out}", *SMALL[command])
    assert_one_line_error(result, "model:", str(model), *words)
    assert not (out / "samples.jsonl").exists() and not (out / "final").exists()


@pytest.mark.parametrize("command, field", [("train-rm", "model"), ("distill", "teacher"), ("distill", "student")])
def test_damaged_model_of_reward_model_training_and_distillation(cli, tmp_path, tiny_model_dir, command, field):
    model, out = damaged(tiny_model_dir, tmp_path, "truncated"), tmp_path / "out"
    pairs = problems(tmp_path / "pairs.jsonl", [{"chosen": "a", "rejected": "b"}])
    given = {"train-rm": {"model": model, "data": pairs},
             "distill": {"teacher": tiny_model_dir, "student": tiny_model_dir, field: model}}[command]
    result = cli(command, f"output_dir={out}", *(f"{key}={value}" for key, value in given.items()))
    assert_one_line_error(result, f"{field}:", str(model), "damaged or truncated")
    assert not (out / "final").exists()


def test_damaged_checkpoint_on_resume(cli, tmp_path, tiny_model_dir):
    out = tmp_path / "sft"
    args = ["sft", f"model={tiny_model_dir}", f"output_dir={out}", "families=[arithmetic]", "train_problems=16",
            "batch_size=4", "save_every=1"]
    first = cli(*args, "max_steps=1")
    assert first.exit_code == 0, first.output
    state = out / "checkpoint" / "trainer_state.pt"
    state.write_bytes(state.read_bytes()[:100])
    assert_one_line_error(cli(*args, "max_steps=2"), "resume:", str(state), "is damaged")


# --- output paths ------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("where", ["file", "under_file"])
def test_output_dir_that_cannot_be_a_directory(cli, tmp_path, command, where):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker if where == "file" else blocker / "run"
    line = assert_one_line_error(cli(command, f"output_dir={out}", *required(command)), "output_dir", str(blocker))
    assert "is a file" in line and blocker.read_text() == "x"


def test_eval_out_is_a_file(cli, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert_one_line_error(cli("eval", "--model", "M", "--benchmark", "gsm8k", "--out", blocker),
                          "output_dir", "is a file")


def test_a_refused_file_operation_is_one_line_and_a_bug_is_a_traceback(monkeypatch, capsys):
    import click
    import typer

    from r1 import cli as cli_module

    def full_disk():
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/samples.jsonl")

    def bug():
        raise ZeroDivisionError("an r1 bug")

    with pytest.raises((typer.Exit, click.exceptions.Exit)) as stop:
        cli_module._run(full_disk)
    assert stop.value.exit_code == 2
    assert capsys.readouterr().err.strip() == "error: /runs/x/samples.jsonl: no space left on the device"
    with pytest.raises((typer.Exit, click.exceptions.Exit)) as stop:
        cli_module._run(bug)
    err = capsys.readouterr().err
    assert stop.value.exit_code == 1
    assert "Traceback" in err and "ZeroDivisionError: an r1 bug" in err
    assert err.strip().splitlines()[-1].startswith("internal error: this is a bug in r1")


# --- data: empty, duplicate ids, missing answers, prompts longer than the model's context -------------

BAD_DATA = {
    "empty": ([], ("holds no records",)),
    "duplicate ids": ([{"id": "x", "problem": "1+1", "answer": "2"}, {"id": "x", "problem": "2+2", "answer": "4"}],
                      ("records 1 and 2 share the id 'x'",)),
    "no answer": ([{"id": "a", "problem": "1+1"}], ("record 1 (id 'a') has no 'answer'",)),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_eval_and_score_refuse_bad_problem_sets(cli, tmp_path, tiny_model_dir, case):
    rows, words = BAD_DATA[case]
    data = problems(tmp_path / "data.jsonl", rows)
    completions = problems(tmp_path / "c.jsonl", [{"id": r["id"], "completion": "2"} for r in rows[:1]])
    out = tmp_path / "e"
    assert_one_line_error(cli(*eval_args(tiny_model_dir, out), "--data", data, "--task", "math"),
                          "data:", str(data), *words)
    assert not out.exists()
    if rows:
        assert_one_line_error(cli("score", "--data", data, "--completions", completions, "--task", "math"),
                              "data:", *words)


@pytest.mark.parametrize("case", ["duplicate ids", "no answer"])
def test_rejection_sampling_refuses_bad_problem_sets(cli, tmp_path, tiny_model_dir, case):
    rows, words = BAD_DATA[case]
    data = problems(tmp_path / "data.jsonl", rows)
    assert_one_line_error(cli("rejection-sample", f"model={tiny_model_dir}", f"data={data}", "task=math",
                              f"output_dir={tmp_path / 'out'}"), str(data), *words)
    assert not (tmp_path / "out" / "samples.jsonl").exists()


def test_grpo_skips_records_without_an_answer_and_says_how_many(tmp_path):
    from r1.errors import R1Error
    from r1.train.data import keep_scorable

    rows = [{"problem": "1+1", "answer": "2"}, {"problem": "2+2"}, {"problem": "code", "task": "code",
                                                                     "test_list": ["assert True"]},
            {"problem": "hi", "prompt_type": "general"}]
    assert [r["problem"] for r in keep_scorable(rows, "d.jsonl")] == ["1+1", "code", "hi"]
    with pytest.raises(R1Error, match="none of its 1 records has an 'answer'"):
        keep_scorable([{"problem": "2+2"}], "d.jsonl")


def test_grpo_with_no_answers_at_all_fails_before_any_rollout(cli, tmp_path, tiny_model_dir):
    data = problems(tmp_path / "data.jsonl", [{"id": "a", "problem": "1+1"}])
    out = tmp_path / "g"
    assert_one_line_error(cli("grpo", f"model={tiny_model_dir}", f"data={data}", f"output_dir={out}", "max_steps=1"),
                          "data:", str(data), "none of its 1 records")
    assert not (out / "final").exists() and not (out / "log.jsonl").exists()


def test_eval_prompt_longer_than_the_context(cli, tmp_path, tiny_model_dir):
    data = problems(tmp_path / "long.jsonl", [{"id": "big", "problem": "1 + " * 2000, "answer": "3"}])
    out = tmp_path / "e"
    assert_one_line_error(cli(*eval_args(tiny_model_dir, out), "--data", data, "--task", "math"),
                          "record 'big'", "leaves no room in the model's context")
    assert not (out / "samples.jsonl").exists()
    fits = cli("eval", "--model", tiny_model_dir, "--benchmark", "tiny:arithmetic", "--n", "1", "--k", "1",
               "--max-new-tokens", "300", "--out", tmp_path / "fits")  # a cap past the context of 256
    assert fits.exit_code == 0, fits.output
    assert "1 of 1 prompts + max_new_tokens (300) exceed the model's context of 256" in " ".join(fits.stderr.split())


def test_plot_of_a_log_without_metrics(cli, tmp_path):
    (tmp_path / "log.jsonl").write_text(json.dumps({"step": 1}) + "\n")
    assert_one_line_error(cli("plot", tmp_path), "has no metrics to draw")
    assert not (tmp_path / "plots").exists()


# --- a resumed run with other settings -------------------------------------------------------------

def resumable_run(command: str, model: Path, out: Path) -> list[str]:
    args = [command, f"output_dir={out}", "save_every=1"]
    if command == "pretrain":
        return args + ["hidden_size=32", "num_layers=1", "num_heads=2", "intermediate_size=64", "block_size=64",
                       "batch_size=4", "warmup_steps=0"]
    if command == "sft":
        return args + [f"model={model}", "families=[arithmetic]", "train_problems=16", "batch_size=4"]
    return args + [f"model={model}", "prompts_per_step=2", "group_size=2", "max_new_tokens=8"]


@pytest.mark.parametrize("command", ["pretrain", "sft", "grpo"])
def test_resume_with_other_settings_names_the_field(cli, tmp_path, tiny_model_dir, command):
    out = tmp_path / "run"
    args = resumable_run(command, tiny_model_dir, out)
    first = cli(*args, "max_steps=1")
    assert first.exit_code == 0, first.output
    assert_one_line_error(cli(*args, "max_steps=2", "lr=0.5"), "resume:", "was started with lr=", "lr=0.5")
    assert_one_line_error(cli(*args, "max_steps=2", "resume=false"), "output_dir", "already holds")
    again = cli(*args, "max_steps=2")  # max_steps may change on resume
    assert again.exit_code == 0, again.output


def test_score_out_that_is_a_directory(cli, tmp_path):
    data = problems(tmp_path / "d.jsonl", [{"id": "1", "problem": "1+1", "answer": "2"}])
    completions = problems(tmp_path / "c.jsonl", [{"id": "1", "completion": "\\boxed{2}"}])
    (tmp_path / "out").mkdir()
    assert_one_line_error(cli("score", "--data", data, "--completions", completions, "--task", "math",
                              "--out", tmp_path / "out"), str(tmp_path / "out"), "is a directory")


def test_plot_draws_a_metric_that_stayed_at_zero(cli, tmp_path):
    (tmp_path / "log.jsonl").write_text("".join(json.dumps({"step": s, "accuracy": 0.0, "kl": 0.0}) + "\n"
                                                for s in (1, 2)))
    result = cli("plot", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["accuracy.png"]  # kl 0: no reference model
