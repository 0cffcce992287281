"""`r1 distill` end to end on the session's tiny model as the teacher and a smaller, untrained student
with its tokenizer: the traces are the teacher's correct samples, the student learns them, both sides'
compute is the formula of r1.train.flops; a resumed run reuses the traces and resumes the SFT;
tokenizers that differ (vocabulary, ids, eos) and bad keys are refused in one line before any work.

The teacher's traces are made exact as in tests/rejection/test_run.py: at T=0 every sample of a prompt
is the teacher's greedy response, and each record's reference answer is that response's answer, so every
sample is correct and exact-duplicate filtering keeps one trace per prompt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer
from typer.testing import CliRunner

import r1.sft.trainer as sft_trainer
from r1.cli import app
from r1.config import load_config
from r1.distill import DistillConfig
from r1.distill.run import run
from r1.errors import R1Error
from r1.eval.scoring import extracted
from r1.models.load import load_model
from r1.models.pretrain import PretrainConfig, build_model
from r1.models.tokenizer import train_char_tokenizer
from r1.prompts import build_prompt
from r1.rollout import HFEngine, SamplingParams
from r1.tasks import generate
from r1.train.telemetry import read_log
from tests.killing import interrupt_at
from tests.test_cli import assert_one_line_error

K, MAX_NEW, STEPS, PROMPTS = 3, 60, 30, 4
RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "distill.yaml"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def prompts(tiny_model, tiny_tokenizer, tmp_path_factory):
    """(data file, the teacher's greedy response per record): see the module docstring."""
    engine = HFEngine(tiny_model, tiny_tokenizer)
    params = SamplingParams(n=K, temperature=0, max_new_tokens=MAX_NEW, stop=["</answer>"])
    data, responses = [], []
    for record in generate("arithmetic", "train", 8, seed=11):
        # one prompt per call, as the run samples with batch_size=K
        rollout = engine.generate([build_prompt(tiny_tokenizer, record["problem"])], params)[0][0]
        answer = extracted("gsm8k", rollout.text)
        if rollout.finished and answer is not None and len(data) < PROMPTS:
            data.append({"id": record["id"], "problem": record["problem"], "answer": answer})
            responses.append(rollout.text)
    assert len(data) == PROMPTS, "the tiny teacher gave too few finished numeric greedy answers"
    path = tmp_path_factory.mktemp("prompts") / "problems.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in data))
    return path, responses


@pytest.fixture(scope="module")
def student_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A smaller, untrained Llama with the teacher's tokenizer (as a pretrain-quarter run would have)."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    size = PretrainConfig(output_dir="unused", hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64,
                          block_size=128)
    torch.manual_seed(0)
    model = build_model(size, len(tokenizer), tokenizer.pad_token_id, tokenizer.eos_token_id)
    out = tmp_path_factory.mktemp("student")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def config(teacher, student, prompts, out, **extra) -> DistillConfig:
    fields = dict(teacher=str(teacher), student=str(student), data=str(prompts[0]), task="gsm8k", k=K,
                  output_dir=str(out),
                  sample={"temperature": 0.0, "max_new_tokens": MAX_NEW, "suffix": "", "batch_size": K,
                          "filters": {"mixed_language": False}},
                  sft={"batch_size": PROMPTS, "max_steps": STEPS, "lr": 1e-2, "lr_schedule": "constant",
                       "save_every": 10})
    return DistillConfig(**{**fields, **extra})


def prompt_tokens(tokenizer, problem: str) -> int:
    return len(tokenizer.encode(build_prompt(tokenizer, problem), add_special_tokens=False))


@pytest.fixture(scope="module")
def distilled(tiny_model_dir, student_dir, prompts, tmp_path_factory):
    out = tmp_path_factory.mktemp("distill") / "run"
    return out, run(config(tiny_model_dir, student_dir, prompts, out))


def test_the_student_learns_the_teachers_correct_traces(distilled, prompts, tiny_tokenizer):
    out, final = distilled
    assert final == out / "final" and (final / "model.safetensors").is_file()
    traces = read_jsonl(out / "traces" / "data.jsonl")
    assert [t["response"] for t in traces] == prompts[1]  # one trace per prompt: its greedy response
    rows = read_log(out / "log.jsonl")
    assert [row["step"] for row in rows] == list(range(1, STEPS + 1))
    # every step trains on every trace once (batch_size = traces): prompt + response + eos tokens
    tokens = sum(prompt_tokens(tiny_tokenizer, t["prompt"]) + len(tiny_tokenizer.encode(t["response"])) + 1
                 for t in traces)
    assert {row["tokens"] for row in rows} == {tokens}
    assert rows[0]["loss"] > 4.0 and rows[-1]["loss"] < 1.0, (rows[0]["loss"], rows[-1]["loss"])


def test_compute_of_both_sides_is_the_formula(distilled, prompts, student_dir, tiny_model_dir, tiny_tokenizer):
    out, final = distilled
    summary = json.loads((out / "distill.json").read_text())
    n_teacher = sum(p.numel() for p in load_model(tiny_model_dir).parameters())
    n_student = sum(p.numel() for p in load_model(student_dir).parameters())
    assert n_student < n_teacher / 4
    problems = {str(r["id"]): r["problem"] for r in read_jsonl(prompts[0])}
    samples = read_jsonl(out / "traces" / "samples.jsonl")
    assert len(samples) == K * len(problems) == summary["teacher_samples"]
    sampled = sum(prompt_tokens(tiny_tokenizer, problems[str(s["id"])]) + s["tokens"] for s in samples)
    assert (summary["teacher_parameters"], summary["teacher_tokens"]) == (n_teacher, sampled)
    assert summary["teacher_flops"] == 2 * n_teacher * sampled
    trained = sum(row["tokens"] for row in read_log(out / "log.jsonl"))
    done = json.loads((final / "r1_final.json").read_text())
    assert done["flops"] == summary["student_flops"] == 6 * n_student * trained
    assert summary["student_parameters"] == n_student and summary["traces"]["records"] == len(problems)


def test_a_resumed_run_reuses_the_traces_and_resumes_the_student(tiny_model_dir, student_dir, prompts, distilled,
                                                                   tmp_path, monkeypatch, count_generate):
    out = tmp_path / "run"
    shutil.copytree(distilled[0] / "traces", out / "traces")  # finished traces, as a killed run leaves them
    interrupt_at(monkeypatch, sft_trainer, "sft_step", 15)
    with pytest.raises(KeyboardInterrupt):
        run(config(tiny_model_dir, student_dir, prompts, out))
    assert count_generate == []  # the traces were reused: the teacher sampled nothing
    monkeypatch.undo()
    with pytest.raises(R1Error, match=r"distill: the student in .* has trained on traces made with k=3, not 2"):
        run(config(tiny_model_dir, student_dir, prompts, out, k=2))
    final = run(config(tiny_model_dir, student_dir, prompts, out))  # from the checkpoint at step 10
    assert count_generate == []
    assert [row["step"] for row in read_log(out / "log.jsonl")] == list(range(1, STEPS + 1))
    straight = load_model(distilled[1]).state_dict()
    resumed = load_model(final).state_dict()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def tokenizer_variant(student_dir: Path, where: Path, change) -> Path:
    """A copy of the student whose tokenizer `change(tokenizer directory)` altered."""
    shutil.copytree(student_dir, where)
    change(where)
    return where


def other_vocabulary(where: Path) -> None:
    train_char_tokenizer(["Compute 1+2."]).save_pretrained(where)


def swapped_ids(where: Path) -> None:
    spec = json.loads((where / "tokenizer.json").read_text())
    vocab = spec["model"]["vocab"]
    vocab["1"], vocab["2"] = vocab["2"], vocab["1"]
    (where / "tokenizer.json").write_text(json.dumps(spec))


def other_eos(where: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(where)
    tokenizer.eos_token = "<|reserved_0|>"
    tokenizer.save_pretrained(where)


@pytest.mark.parametrize("change, difference", [
    (other_vocabulary, "vocabularies of 134 and "),
    (swapped_ids, "2 tokens have other ids (e.g. '1': "),
    (other_eos, "eos_token '<|end|>' vs '<|reserved_0|>'"),
])
def test_tokenizers_that_differ_are_refused_before_any_work(tiny_model_dir, student_dir, prompts, tmp_path,
                                                            change, difference):
    student = tokenizer_variant(student_dir, tmp_path / "student", change)
    out = tmp_path / "run"
    with pytest.raises(R1Error) as err:
        run(config(tiny_model_dir, student, prompts, out))
    assert str(err.value).startswith(f"distill: the teacher's tokenizer ({tiny_model_dir}) and the student's "
                                     f"({student}) differ: {difference}")
    assert "\n" not in str(err.value) and not out.exists()


def test_the_cli_refuses_bad_input_in_one_line(tiny_model_dir, student_dir, prompts, tmp_path):
    runner = CliRunner()
    base = ["distill", f"teacher={tiny_model_dir}", f"student={student_dir}", f"data={prompts[0]}", "task=gsm8k",
            f"output_dir={tmp_path / 'run'}"]
    assert_one_line_error(runner.invoke(app, [*base, "sample.temperture=1"]),
                          "distill: sample: unknown key 'temperture' for RejectionConfig")
    assert_one_line_error(runner.invoke(app, [*base, "sft.model=x"]), "sft.model: distill sets this field")
    assert_one_line_error(runner.invoke(app, [*base, "sample.k=2"]), "sample.k: distill sets this field")
    assert_one_line_error(runner.invoke(app, [*base, "sft.lr=-1"]), "sft: key 'lr' = -1")
    other = tokenizer_variant(student_dir, tmp_path / "other", other_eos)
    line = assert_one_line_error(runner.invoke(app, [*base[:2], f"student={other}", *base[3:]]),
                                 str(tiny_model_dir), str(other), "eos_token")
    assert line.startswith("error: distill: the teacher's tokenizer") and not (tmp_path / "run").exists()


def test_recipe_loads_and_a_pipeline_names_earlier_stages(tiny_model_dir, student_dir, tmp_path):
    from r1.pipeline import load_pipeline

    recipe = load_config(DistillConfig, RECIPE)
    recipe.check()
    assert recipe.student_config().template == recipe.traces_config().template
    assert recipe.student_config().suffix == "" and recipe.traces_config().model == recipe.teacher
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(json.dumps({"output_dir": str(tmp_path / "runs"), "stages": [
        {"name": "teacher", "kind": "model", "settings": {"model": str(tiny_model_dir)}},
        {"name": "small", "kind": "model", "settings": {"model": str(student_dir)}},
        {"name": "distill", "kind": "distill", "recipe": str(RECIPE),
         "settings": {"teacher": "teacher", "student": "small"}},
        {"name": "rl", "kind": "grpo", "settings": {"model": "small", "match_flops_of": "distill"}}]}))
    plan = load_pipeline(pipeline)
    distill = plan.find("distill").config
    assert (distill.teacher, distill.student) == (str(tmp_path / "runs" / "teacher" / "final"),
                                                  str(tmp_path / "runs" / "small" / "final"))
    assert plan.find("rl").config.match_flops_of == str(tmp_path / "runs" / "distill" / "final")
