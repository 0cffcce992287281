"""`run_eval` end to end on the session's tiny model, with resume; and on a scripted engine for the metrics."""

import json
import re
import shutil

import pytest
import torch

import r1.eval.run as run_module
from r1.errors import R1Error
from r1.eval.metrics import pass_at_k
from r1.eval.run import EvalConfig, load_records, run_eval
from r1.models.corpus import render_chat
from r1.prompts import BOXED_SUFFIX, build_prompt
from r1.rewards.extract import extract_answer
from r1.rollout import Rollout
from r1.tasks import generate, verify
from r1.tasks.expr import evaluate

FIELDS = {"id", "sample", "prompt", "completion", "answer", "correct", "tokens", "finished", "format_r1_zero",
          "format_readable", "mixed_language"}
N, K = 5, 3


def config(out, model_dir, **extra):
    # batch_size 6 // k 3 = 2 problems per generate call: chunks [0, 1], [2, 3], [4].
    base = dict(model=str(model_dir), benchmark="tiny:arithmetic", n=N, k=K, temperature=1.0, top_p=1.0,
                max_new_tokens=24, suffix="", batch_size=6, output_dir=str(out), seed=3)
    return EvalConfig(**{**base, **extra})


def read_rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def keyed(rows):
    return {(str(r["id"]), r["sample"]): r for r in rows}


@pytest.fixture(scope="module")
def uninterrupted(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-whole")
    summary = run_eval(config(out, tiny_model_dir))  # loads the model from its directory
    return out, summary


def test_samples_file(uninterrupted, tiny_tokenizer):
    out, _ = uninterrupted
    rows = read_rows(out / "samples.jsonl")
    records = generate("arithmetic", "test", N, seed=3)
    assert len(rows) == N * K
    assert sorted(keyed(rows)) == sorted((r["id"], j) for r in records for j in range(K))
    by_id = {r["id"]: r for r in records}
    for row in rows:
        assert set(row) == FIELDS
        record = by_id[row["id"]]
        assert row["prompt"] == build_prompt(tiny_tokenizer, record["problem"], "chat", "")  # as sampled
        assert row["answer"] == extract_answer(row["completion"])
        assert row["correct"] == verify(record, row["answer"])
        assert row["tokens"] == len(tiny_tokenizer.encode(row["completion"], add_special_tokens=False))
        assert 0 < row["tokens"] <= 24
        assert isinstance(row["finished"], bool)
        assert row["finished"] == (row["completion"].endswith("</answer>") or row["tokens"] < 24)
    assert len({row["completion"] for row in rows}) > N  # k samples, not k copies
    assert (out / "eval_config.yaml").is_file() and (out / "summary.md").is_file()


def test_summary_matches_the_samples(uninterrupted):
    out, summary = uninterrupted
    rows = read_rows(out / "samples.jsonl")
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["n"] == N and summary["k"] == K
    assert summary["pass@1"] == pytest.approx(sum(r["correct"] for r in rows) / len(rows))
    per_problem = {}
    for row in rows:
        per_problem.setdefault(row["id"], []).append(row["correct"])
    assert summary[f"pass@{K}"] == pytest.approx(sum(any(c) for c in per_problem.values()) / N)
    assert summary["mean_tokens"] == pytest.approx(sum(r["tokens"] for r in rows) / len(rows))
    assert summary["by_family"]["arithmetic"]["pass@1"] == summary["pass@1"]


def test_resume_generates_only_what_is_missing(uninterrupted, tiny_model_dir, tmp_path, count_generate):
    whole, summary = uninterrupted
    lines = (whole / "samples.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    # Drop the last 4 rows: all of chunk [4] and one sample of problem 3 (chunk [2, 3]).
    (tmp_path / "samples.jsonl").write_text("".join(lines[:-4]), encoding="utf-8")
    shutil.copy(whole / "eval_source.json", tmp_path)  # what the interrupted run recorded
    resumed = run_eval(config(tmp_path, tiny_model_dir))
    records = generate("arithmetic", "test", N, seed=3)
    assert count_generate == [[render_chat(r["problem"]) for r in records[2:4]],
                              [render_chat(records[4]["problem"])]]
    rows = read_rows(tmp_path / "samples.jsonl")
    assert rows[: len(lines) - 4] == read_rows(whole / "samples.jsonl")[:-4]  # untouched rows kept as they were
    assert len(rows) == N * K
    assert keyed(rows) == keyed(read_rows(whole / "samples.jsonl"))  # the same samples are drawn again
    assert resumed == summary


def test_resume_after_a_torn_line(uninterrupted, tiny_model_dir, tmp_path, count_generate):
    """A kill mid-write leaves half a line; the resumed file must still be valid JSONL."""
    whole, summary = uninterrupted
    text = (whole / "samples.jsonl").read_text(encoding="utf-8")
    (tmp_path / "samples.jsonl").write_text(text[: len(text) - 30], encoding="utf-8")
    shutil.copy(whole / "eval_source.json", tmp_path)  # what the interrupted run recorded
    resumed = run_eval(config(tmp_path, tiny_model_dir))
    assert len(count_generate) == 1
    rows = read_rows(tmp_path / "samples.jsonl")  # raises if a line is broken
    assert keyed(rows) == keyed(read_rows(whole / "samples.jsonl"))
    assert resumed == summary


def test_last_row_without_newline_is_kept(uninterrupted, tiny_model_dir, tmp_path, count_generate):
    whole, summary = uninterrupted
    text = (whole / "samples.jsonl").read_text(encoding="utf-8")
    (tmp_path / "samples.jsonl").write_text(text.rstrip("\n"), encoding="utf-8")
    shutil.copy(whole / "eval_source.json", tmp_path)  # what the interrupted run recorded
    assert run_eval(config(tmp_path, tiny_model_dir)) == summary
    assert count_generate == []
    assert (tmp_path / "samples.jsonl").read_text(encoding="utf-8") == text


def test_finished_eval_generates_nothing(uninterrupted, tiny_model_dir, tmp_path, count_generate):
    whole, summary = uninterrupted
    shutil.copy(whole / "samples.jsonl", tmp_path / "samples.jsonl")
    shutil.copy(whole / "eval_source.json", tmp_path)
    before = (tmp_path / "samples.jsonl").read_text()
    assert run_eval(config(tmp_path, tiny_model_dir)) == summary
    assert count_generate == [] and (tmp_path / "samples.jsonl").read_text() == before


def scripted_right(prompt, k):
    return sum(map(ord, prompt)) % (k + 1)


class ScriptedEngine:
    """Answers "Compute a+b." right in the first `right(prompt, k)` of its k samples; the rest off by one."""

    prompts: list[str] = []
    context_length = None

    def __init__(self, model, tokenizer, batch_size):
        pass

    def generate(self, prompts, params):
        ScriptedEngine.prompts += prompts
        out = []
        for i, prompt in enumerate(prompts):
            truth = int(evaluate(re.search(r"Compute ([\d+*-]+)\.", prompt)[1])[0])
            right = scripted_right(prompt, params.n)
            out.append([Rollout(i, j, f"<think></think><answer>{truth if j < right else truth + 1}</answer>",
                                [0] * (5 + j), finished=j != 1) for j in range(params.n)])
        return out


def test_metrics_on_a_scripted_engine(tmp_path, monkeypatch, tiny_tokenizer):
    monkeypatch.setattr(run_module, "HFEngine", ScriptedEngine)
    ScriptedEngine.prompts = []
    k = 4
    summary = run_eval(config(tmp_path, "unused", n=12, k=k, suffix=BOXED_SUFFIX), model=object(),
                       tokenizer=tiny_tokenizer)
    records = generate("arithmetic", "test", 12, seed=3)
    prompts = [render_chat(f"{r['problem']}\n{BOXED_SUFFIX}") for r in records]
    assert ScriptedEngine.prompts == prompts
    right = [scripted_right(p, k) for p in prompts]
    assert 0 < sum(right) < 12 * k and len(set(right)) > 1  # a mix, so the metrics can be wrong
    assert summary["pass@1"] == pytest.approx(sum(right) / (12 * k))
    assert summary[f"pass@{k}"] == pytest.approx(sum(pass_at_k(k, c, k) for c in right) / 12)
    assert summary["mean_tokens"] == pytest.approx(5 + (k - 1) / 2)
    assert summary["truncated"] == pytest.approx(1 / k)
    rows = read_rows(tmp_path / "samples.jsonl")
    assert sum(r["correct"] for r in rows) == sum(right)


def test_load_records_errors(tmp_path):
    with pytest.raises(R1Error, match="either benchmark or data"):
        load_records(EvalConfig(model="m", benchmark="gsm8k", data="x.jsonl", output_dir="o"))
    with pytest.raises(R1Error, match="nothing to evaluate"):
        load_records(EvalConfig(model="m", output_dir="o"))
    with pytest.raises(R1Error, match="task"):
        load_records(EvalConfig(model="m", data="x.jsonl", output_dir="o"))


def test_missing_model_is_a_one_line_error(tmp_path):
    with pytest.raises(R1Error) as err:
        run_eval(config(tmp_path / "out", tmp_path / "no-model"))
    assert str(tmp_path / "no-model") in str(err.value) and "\n" not in str(err.value)


def test_r1_score_on_saved_samples_reproduces_the_eval(uninterrupted):
    """`r1 score` on an eval's problems.jsonl + samples.jsonl gives exactly the eval's numbers."""
    from r1.eval.score import score_files

    out, summary = uninterrupted
    rescored = score_files(str(out / "problems.jsonl"), str(out / "samples.jsonl"), "tiny")
    for key in ("n", "k", "pass@1", f"cons@{K}", f"pass@{K}"):
        assert rescored[key] == summary[key], key
    assert rescored["missing_samples"] == 0


def test_resume_only_a_matching_eval(tiny_model_dir, tmp_path):
    """Before, an eval into an existing output_dir reused the old samples whatever produced them."""
    from r1.errors import R1Error

    out = tmp_path / "e"
    run_eval(config(out, tiny_model_dir))
    with pytest.raises(R1Error, match=r"another evaluation \(max_new_tokens was 24, now 31\)"):
        run_eval(config(out, tiny_model_dir, max_new_tokens=31))
    other = tmp_path / "other-model"
    shutil.copytree(tiny_model_dir, other)
    with (other / "model.safetensors").open("r+b") as f:  # the same files, other weights
        f.seek(-8, 2)
        f.write(b"\x01" * 8)
    with pytest.raises(R1Error, match="the model's weights differ"):
        run_eval(config(out, tiny_model_dir).model_copy(update={"model": str(other)}))
    run_eval(config(out, tiny_model_dir, n=N - 1))  # fewer problems: the same question, reused
    fresh = run_eval(config(out, tiny_model_dir, max_new_tokens=31, resume=False))
    rows = read_rows(out / "samples.jsonl")
    assert fresh["k"] == K and len(rows) == N * K and max(r["tokens"] for r in rows) <= 31


def test_precision_and_device_are_honoured(tiny_model_dir, tmp_path, monkeypatch):
    """bf16 weights sample when asked for (the CPU's autocast-free path); a GPU asked for where none is
    visible is one line; an eval recorded before these fields existed still resumes without sampling."""
    from r1.rollout import HFEngine

    seen = []
    original = HFEngine.generate

    def recording(self, prompts, params):
        seen.append((self.model.dtype, self.model.device.type))
        return original(self, prompts, params)

    monkeypatch.setattr(HFEngine, "generate", recording)
    run_eval(config(tmp_path / "bf16", tiny_model_dir, n=2, precision="bf16"))
    run_eval(config(tmp_path / "auto", tiny_model_dir, n=2, device="cpu"))
    assert {s for s in seen[:1]} == {(torch.bfloat16, "cpu")} and set(seen[1:]) == {(torch.float32, "cpu")}
    source = json.loads((tmp_path / "auto" / "eval_source.json").read_text())
    assert (source["precision"], source["device"]) == ("auto", "cpu")
    older = {k: v for k, v in source.items() if k not in ("precision", "device")}
    (tmp_path / "auto" / "eval_source.json").write_text(json.dumps({**older, "device": "auto"}))
    seen.clear()
    run_eval(config(tmp_path / "auto", tiny_model_dir, n=2, device="auto"))
    assert seen == []  # resumed the finished samples
    if not torch.cuda.is_available():
        with pytest.raises(R1Error, match="no GPU is visible"):
            run_eval(config(tmp_path / "gpu", tiny_model_dir, n=2, device="cuda"))
        assert not (tmp_path / "gpu").exists()


def test_eval_reads_other_column_names_and_trls_prompt(tmp_path):
    mine, trl = tmp_path / "mine.jsonl", tmp_path / "trl.jsonl"
    mine.write_text(json.dumps({"id": "a", "question": "What is 2+2?", "final": "4"}) + "\n")
    trl.write_text(json.dumps({"id": "b", "prompt": [{"role": "user", "content": "3+3?"}], "final": "6"}) + "\n")
    records, task = load_records(EvalConfig(model="m", data=str(mine), task="gsm8k", output_dir="o",
                                            fields={"problem": "question", "answer": "final"}))
    assert task == "gsm8k" and (records[0]["problem"], records[0]["answer"]) == ("What is 2+2?", "4")
    records, _ = load_records(EvalConfig(model="m", data=str(trl), task="gsm8k", output_dir="o",
                                         fields={"answer": "final"}))
    assert records[0]["problem"] == [{"role": "user", "content": "3+3?"}] and records[0]["answer"] == "6"
    with pytest.raises(R1Error, match="record a has no column 'missing' \\(for problem\\)"):
        load_records(EvalConfig(model="m", data=str(mine), task="gsm8k", output_dir="o",
                                fields={"problem": "missing"}))
