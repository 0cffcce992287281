"""`r1 rejection-sample` end to end on the session's tiny model: the right samples kept, the stats,
a file `r1 sft` reads, the non-reasoning mix, resume without resampling, refusals, an empty result,
an interrupted write; and with the generative judge on a real HTTP server on 127.0.0.1.

The rule-scored run is made exact: at T=0 every sample of a prompt is the model's greedy response,
and each record's reference answer is that response's answer (even records) or that plus one (odd
records), so the real gsm8k verifier must accept exactly the even records' samples."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import r1.rejection.run as run_module
from r1.cli import app
from r1.config import load_config
from r1.errors import R1Error
from r1.eval.scoring import extracted
from r1.models.corpus import render_chat
from r1.pipeline import load_pipeline
from r1.prompts import build_prompt
from r1.rejection import RejectionConfig
from r1.rejection.run import run
from r1.rewards.language import is_mixed_language
from r1.rejection.judge import prediction_of
from r1.rewards.extract import think_text
from r1.rollout import HFEngine, SamplingParams
from r1.sft.config import SFTConfig
from r1.sft.data import load_examples
from r1.tasks import generate
from r1.tasks.general import non_reasoning_records
from tests.rejection.servers import canned_judge, refused_url
from tests.test_cli import assert_one_line_error

K, MAX_NEW = 4, 40
RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "rejection.yaml"
NON_REASONING = non_reasoning_records(5, split="train", seed=0)  # `r1 tasks non-reasoning`


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def greedy(tiny_model, tiny_tokenizer, tmp_path_factory):
    """(data file, greedy response per record, which records must be kept): see the module docstring."""
    records = generate("arithmetic", "train", 6, seed=5)
    engine = HFEngine(tiny_model, tiny_tokenizer)
    params = SamplingParams(n=K, temperature=0, max_new_tokens=MAX_NEW, stop=["</answer>"])
    data, responses, right = [], [], []
    for i, record in enumerate(records):
        # one prompt per call, as the run samples with batch_size=K
        rollouts = engine.generate([build_prompt(tiny_tokenizer, record["problem"])], params)[0]
        assert len({r.text for r in rollouts}) == 1 and rollouts[0].finished, "greedy samples should agree"
        answer = extracted("gsm8k", rollouts[0].text)
        reference = answer if i % 2 == 0 else str(Decimal(answer or "0") + 1)
        data.append({"id": record["id"], "problem": record["problem"], "answer": reference})
        responses.append(rollouts[0].text)
        right.append(i % 2 == 0 and answer is not None)
    assert any(right), "the tiny model gave no numeric greedy answer at all"
    path = write_jsonl(tmp_path_factory.mktemp("greedy") / "problems.jsonl", data)
    return path, responses, right


def greedy_config(greedy, out: Path, **extra) -> RejectionConfig:
    base = dict(data=str(greedy[0]), task="gsm8k", k=K, temperature=0.0, max_new_tokens=MAX_NEW,
                suffix="", batch_size=K, output_dir=str(out))
    return RejectionConfig(**{**base, **extra})


@pytest.fixture(scope="module")
def finished(greedy, tiny_model_dir, tmp_path_factory):
    """A finished rule-scored run with the non-reasoning mix, share 0.5."""
    out = tmp_path_factory.mktemp("rejection")
    pool = write_jsonl(out.parent / "non_reasoning.jsonl", NON_REASONING)
    cfg = greedy_config(greedy, out, model=str(tiny_model_dir), non_reasoning=str(pool),
                        non_reasoning_share=0.5)
    return cfg, run(cfg)


def copy_of(finished, tmp_path: Path, **extra) -> RejectionConfig:
    cfg, data = finished
    shutil.copytree(data.parent, tmp_path / "run")
    return RejectionConfig(**{**cfg.model_dump(), "output_dir": str(tmp_path / "run"), **extra})


def test_keeps_exactly_the_correct_samples_once_each(greedy, finished):
    _, responses, right = greedy
    cfg, data = finished
    kept = sum(right)
    stats = json.loads((data.parent / "stats.json").read_text())
    assert stats == {"prompts": 6, "samples": 6 * K, "correct": kept * K, "incorrect": (6 - kept) * K,
                     "judged": 0, "unparseable": 0,
                     "removed": {"unfinished": 0, "mixed_language": 0, "code_blocks": 0,
                                 "exact_duplicates": kept * (K - 1)},
                     "kept": kept, "prompts_kept": kept, "non_reasoning": kept, "records": 2 * kept}
    rows = read_jsonl(data)
    problems = read_jsonl(Path(cfg.data))
    reasoning = [r for r in rows if r["source"] == "reasoning"]
    assert [(r["id"], r["prompt"], r["response"]) for r in reasoning] == [
        (f"{p['id']}/0", p["problem"], response) for p, response, ok in zip(problems, responses, right) if ok]
    mixed = [r for r in rows if r["source"] == "non_reasoning"]
    by_id = {r["id"]: r for r in NON_REASONING}
    assert len(mixed) == kept and all({**by_id[r["id"]], "source": "non_reasoning"} == r for r in mixed)
    assert len({r["id"] for r in mixed}) == kept  # drawn without replacement


def test_r1_sft_reads_the_output(finished, tiny_tokenizer, tmp_path):
    cfg, data = finished
    rows = read_jsonl(data)
    sft = SFTConfig(model=cfg.model, data=str(data), output_dir=str(tmp_path), template=cfg.template)
    examples = load_examples(sft, tiny_tokenizer)
    assert len(examples) == len(rows)
    for row, example in zip(rows, examples):
        prompt = tiny_tokenizer.encode(render_chat(row["prompt"]), add_special_tokens=False)
        assert example.prompt_ids == prompt
        response = tiny_tokenizer.encode(row["response"], add_special_tokens=False)
        assert example.response_ids == response + [tiny_tokenizer.eos_token_id]


def test_rerun_with_other_filters_resamples_nothing(finished, tmp_path, count_generate, greedy):
    cfg = copy_of(finished, tmp_path, filters={"exact_duplicates": False}, max_per_prompt=3,
                  non_reasoning=None)
    run(cfg)
    assert count_generate == []
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    kept = sum(greedy[2])
    assert stats["kept"] == 3 * kept and stats["removed"]["max_per_prompt"] == kept * (K - 3)
    assert "exact_duplicates" not in stats["removed"] and stats["non_reasoning"] == 0


def test_a_resumed_run_samples_only_what_is_missing(finished, tmp_path, count_generate):
    cfg = copy_of(finished, tmp_path)
    samples = Path(cfg.output_dir) / "samples.jsonl"
    lines = samples.read_text().splitlines(keepends=True)
    samples.write_text("".join(lines[: 2 * K]) + lines[2 * K][:15])  # two prompts done, a torn third
    assert run(cfg).read_text() == finished[1].read_text()
    problems = read_jsonl(Path(cfg.data))[2:]  # the third prompt's samples were torn: redrawn
    assert count_generate == [[render_chat(p["problem"])] for p in problems]  # one a call: batch_size = k


def test_changed_sampling_settings_are_refused(finished, tmp_path):
    with pytest.raises(R1Error) as err:
        run(copy_of(finished, tmp_path, temperature=0.5))
    assert str(err.value) == (f"rejection-sample: {tmp_path / 'run'} holds samples drawn with "
                              "temperature=0.0, not 0.5; use another output_dir (or delete samples.jsonl)")
    with pytest.raises(R1Error, match="resume=false refuses to touch them"):
        run(copy_of(finished, tmp_path / "again", resume=False))


def test_an_empty_result_is_one_line_and_leaves_no_output(finished, tmp_path):
    cfg = copy_of(finished, tmp_path, filters={"max_response_tokens": 1})
    out = Path(cfg.output_dir)
    assert (out / "data.jsonl").is_file() and (out / "stats.json").is_file()  # the earlier run's
    with pytest.raises(R1Error) as err:
        run(cfg)
    message = str(err.value)
    assert message.startswith("rejection-sample: no sample survived, so there is no SFT data: ")
    assert "\n" not in message and f"{6 * K} samples of 6 prompts" in message and "0 kept" in message
    assert not (out / "data.jsonl").exists() and not (out / "stats.json").exists()
    assert (out / "samples.jsonl").is_file()  # the samples stay for the next try


def test_an_interrupted_write_leaves_no_data_file(finished, tmp_path, monkeypatch, count_generate):
    cfg = copy_of(finished, tmp_path)
    out = Path(cfg.output_dir)
    real_replace = run_module.os.replace

    def killed_at_data(src, dst):
        if Path(dst).name == "data.jsonl":
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(run_module.os, "replace", killed_at_data)
    with pytest.raises(KeyboardInterrupt):
        run(cfg)
    assert not (out / "data.jsonl").exists()  # (data.jsonl.tmp may stay: nothing reads it)
    monkeypatch.setattr(run_module.os, "replace", real_replace)
    assert run(cfg).read_text() == finished[1].read_text() and count_generate == []


def test_too_few_non_reasoning_records_is_one_line(finished, tmp_path):
    too_few = r"^rejection-sample: non_reasoning: .* has 5 records, but a share of 0.9 beside \d+ reasoning"
    with pytest.raises(R1Error, match=too_few):
        run(copy_of(finished, tmp_path, non_reasoning_share=0.9))
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "hi"}])
    with pytest.raises(R1Error, match=r"non_reasoning: .*bad.jsonl:1: missing field 'response'"):
        run(copy_of(finished, tmp_path / "b", non_reasoning=str(bad)))


def test_judge_run_against_a_real_http_server(tiny_model_dir, tmp_path):
    """task=judge: every sample goes to the endpoint; verdicts by the rule below, some unparseable."""
    records = [{"id": r["id"], "problem": r["problem"], "answer": r["answer"]}
               for r in generate("arithmetic", "train", 5, seed=9)]
    data = write_jsonl(tmp_path / "open.jsonl", records)

    def verdict(request):  # a deterministic judge: by the length of what it grades
        n = len(request["body"]["messages"][0]["content"].split("|A=")[1])
        return 200, ["VERDICT: CORRECT", "VERDICT: INCORRECT", "it looks fine"][n % 3]

    cfg = RejectionConfig(model=str(tiny_model_dir), data=str(data), task="judge", k=K, temperature=1.0,
                          top_p=1.0, max_new_tokens=30, suffix="", output_dir=str(tmp_path / "run"),
                          filters={"unfinished": False, "exact_duplicates": False},
                          judge={"base_url": refused_url(), "model": "j", "retries": 1, "backoff": 0.05,
                                 "prompt": "{problem}|{reference}|A={prediction}", "timeout": 5})
    with pytest.raises(R1Error) as err:
        run(cfg)
    endpoint = f"{cfg.judge.base_url}/chat/completions"
    assert str(err.value) == f"rejection-sample: judge {endpoint}: connection refused (2 tries)"
    assert not (tmp_path / "run" / "data.jsonl").exists()
    with canned_judge(verdict) as (url, seen):
        live = {**cfg.model_dump(), "judge": {**cfg.judge.model_dump(), "base_url": url}}
        data_file = run(RejectionConfig(**live))
    rows = read_jsonl(tmp_path / "run" / "samples.jsonl")
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    assert len(seen) == len(rows) == stats["samples"] == stats["judged"] == 5 * K  # resumed: nothing twice
    expected = [[True, False, None][len(prediction_of(r["completion"])) % 3] for r in rows]
    assert [r["correct"] for r in rows] == expected
    assert all(expected.count(v) for v in (True, False, None))  # all three kinds of verdict came back
    assert [r["answer"] for r in rows] == [prediction_of(r["completion"]) for r in rows]
    assert (stats["correct"], stats["incorrect"], stats["unparseable"]) == (
        expected.count(True), expected.count(False), expected.count(None))
    mixed = sum(is_mixed_language(think_text(r["completion"])) for r in rows if r["correct"])
    assert stats["removed"]["mixed_language"] == mixed
    assert stats["kept"] + sum(stats["removed"].values()) == stats["correct"]
    assert stats["kept"] == stats["records"] == len(read_jsonl(data_file))


def test_recipe_and_command_line(tiny_model_dir, tmp_path):
    recipe = load_config(RejectionConfig, RECIPE)
    assert recipe.filters.near_duplicate == 0.9 and recipe.max_per_prompt == 2 and recipe.k == 8
    result = CliRunner().invoke(app, ["rejection-sample", "-c", str(RECIPE), f"model={tiny_model_dir}",
                                      f"output_dir={tmp_path / 'out'}", "train_problems=2", "k=2",
                                      "max_new_tokens=16", "filters.max_response_tokens=1",
                                      "non_reasoning=null"])
    assert_error_line(result, "rejection-sample: no sample survived", "12 samples of 6 prompts")
    assert not (tmp_path / "out" / "data.jsonl").exists()
    result = CliRunner().invoke(app, ["rejection-sample", "-c", str(RECIPE), "filters.typo=1"])
    assert_one_line_error(result, "unknown key 'filters.typo'")


def assert_error_line(result, *needles):
    """Exit status 2 and, after the progress bar, one error line on stderr."""
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and all(needle in last for needle in needles), last


def test_a_pipeline_stage_reads_an_earlier_model_and_hands_its_data_on(tiny_model_dir, tmp_path):
    out, problems = tmp_path / "p", write_jsonl(tmp_path / "open.jsonl", [{"problem": "Hi?", "answer": "Hi"}])
    stages = [{"name": "rl", "kind": "grpo", "settings": {"model": str(tiny_model_dir), "max_steps": 1}},
              {"name": "data", "kind": "rejection-sample",
               "settings": {"model": "rl", "non_reasoning": None}},
              {"name": "sft", "kind": "sft", "settings": {"model": str(tiny_model_dir), "data": "data"}}]
    recipe = tmp_path / "pipeline.yaml"
    recipe.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    plan = load_pipeline(recipe)
    assert plan.find("data").config.model == str(out / "rl" / "final")
    assert plan.find("sft").config.data == str(out / "data" / "data.jsonl")
    stages[1]["settings"].update(data=str(problems), task="judge")  # no judge.base_url: refused up front
    recipe.write_text(yaml.safe_dump({"output_dir": str(out), "stages": stages}))
    with pytest.raises(R1Error, match=r"stage 'data'.*task=judge needs judge.base_url"):
        load_pipeline(recipe)
    assert not out.exists()
