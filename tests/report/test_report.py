"""`r1 report`: what it reads from a pipeline, a GRPO run (files written in the
formats `r1 eval`, the trainers and the pipeline write), the page it makes of them, and one-line errors
for a directory that is not a run. The page in a real browser: test_browser.py."""

import doctest
import json
import os
import re

import pytest
from typer.testing import CliRunner

from r1.cli import app
from r1.report import collect, write_report
from r1.report.samples import pick_problems, segments, snapshots
from r1.report.table import stage_table

PROBLEMS = [{"id": f"arithmetic-test-{i}", "task": "arithmetic", "problem": f"Compute {i}+1.", "answer": str(i + 1)}
            for i in range(3)]


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def write_eval(eval_dir, temperature, correct, completion="<think>x</think><answer>{}</answer>", pass1=0.5,
               mixed=0.0, n=3, k=2, family="arithmetic"):
    """An `r1 eval` directory: problems, k samples per problem (sample 0 right iff correct[i]), summary."""
    write_jsonl(eval_dir / "problems.jsonl", PROBLEMS[:n])
    write_jsonl(eval_dir / "samples.jsonl", [
        {"id": p["id"], "sample": j, "completion": completion.format(p["answer"] if ok else "0"),
         "answer": p["answer"] if ok else "0", "correct": ok and j == 0, "tokens": 9, "finished": True,
         "mixed_language": "加" in completion}
        for p, ok in zip(PROBLEMS[:n], correct) for j in reversed(range(k))])  # sample 0 written last
    metrics = {"n": n, "k": k, "pass@1": pass1, f"cons@{k}": pass1, f"pass@{k}": pass1, "mean_tokens": 9.0,
               "truncated": 0.0, "format_r1_zero": 1.0, "format_readable": 0.0, "mixed_language": mixed}
    (eval_dir / "summary.json").write_text(json.dumps({**metrics, "task": "tiny", "by_family": {family: metrics}}))
    (eval_dir / "eval_source.json").write_text(json.dumps({"temperature": float(temperature)}))


def write_marker(stage_dir, kind, finished=True, when=None):
    stage_dir.mkdir(parents=True, exist_ok=True)
    (stage_dir / "r1_stage.json").write_text(json.dumps({"kind": kind, "finished": finished}))
    if when is not None:
        os.utime(stage_dir / "r1_stage.json", (when, when))


def write_log(run_dir, steps=4, kl=0.01):
    write_jsonl(run_dir / "log.jsonl", [{"step": s, "reward": s / 10, "reward/accuracy": s / 10,
                                         "reward/format": 1.0, "accuracy": s / 10, "completion_len_mean": 10 + s,
                                         "kl": kl * s} for s in range(1, steps + 1)])


@pytest.fixture
def pipeline_dir(tmp_path):
    """base (model) -> data (3 records) -> rl (grpo, log + evals at 0.6 and 1) -> rm (reward model)."""
    run = tmp_path / "run"
    write_marker(run / "base", "model", when=1000)
    write_eval(run / "base" / "eval" / "T0.6" / "tiny_arithmetic", 0.6, [False, False, True], pass1=0.25)
    write_eval(run / "base" / "eval" / "T1" / "tiny_arithmetic", 1.0, [False, False, False], pass1=0.125)
    write_marker(run / "data", "cold-start-data", when=2000)
    write_jsonl(run / "data" / "data.jsonl", [{"prompt": "p", "response": "r"}] * 3)
    write_marker(run / "rl", "grpo", when=3000)
    write_log(run / "rl")
    write_eval(run / "rl" / "eval" / "T0.6" / "tiny_arithmetic", 0.6, [True, False, True], pass1=0.75,
               completion="<think>7加5 <script>alert(1)</script></think><answer>{}</answer>", mixed=1.0)
    write_marker(run / "rm", "train-rm", when=4000)
    (run / "rm" / "eval.json").write_text(json.dumps({"objective": "pairwise", "on": "summary",
                                                      "pair_accuracy": 0.955}))
    write_marker(run / "rl.stale", "grpo", when=5000)  # an older copy set aside: not a stage
    return run


def test_a_pipeline_is_read_stage_by_stage_in_the_order_they_finished(pipeline_dir):
    run = collect(pipeline_dir)
    assert run.what == "pipeline"
    assert [(s.name, s.kind, s.note) for s in run.stages] == [
        ("base", "model", ""), ("data", "cold-start-data", "3 records"), ("rl", "grpo", ""),
        ("rm", "train-rm", "held-out pair accuracy 95.5%")]
    assert [(r["stage"], r["T"], r["family"], r["pass@1"]) for r in run.evals] == [
        ("base", "0.6", "arithmetic", 0.25), ("base", "1", "arithmetic", 0.125), ("rl", "0.6", "arithmetic", 0.75)]
    assert run.curves == [("rl", pipeline_dir / "rl")] and run.reward_models[0]["pair_accuracy"] == 0.955
    order = ["rm", "rl", "base"]  # the recipe's order, as r1 pipeline gives it; stages not in it left out
    assert [s.name for s in collect(pipeline_dir, order).stages] == order


def test_the_stage_table_has_a_column_per_temperature_and_family_and_weighs_families_by_samples(pipeline_dir):
    write_eval(pipeline_dir / "base" / "eval" / "T0.6" / "tiny_linear", 0.6, [True], pass1=1.0, mixed=1.0, n=1,
               family="linear")
    table = stage_table(collect(pipeline_dir))
    assert table.columns == [("0.6", "arithmetic"), ("0.6", "linear"), ("1", "arithmetic")]
    assert table.temperature == "0.6"
    base, data, rl, _ = table.rows
    assert base["cells"][("1", "arithmetic")]["pass@1"] == 0.125 and ("1", "arithmetic") not in rl["cells"]
    # base at 0.6: arithmetic 3 problems x 2 samples with no mixed language, linear 1 x 2 all mixed
    assert base["style"]["mixed_language"] == pytest.approx(2 / 8)
    assert data["cells"] == {} and data["style"]["mean_tokens"] is None


def test_samples_show_the_same_problems_for_every_stage_changed_ones_first(pipeline_dir):
    shots = snapshots(collect(pipeline_dir))
    assert [(s.stage, s.temperature) for s in shots] == [("base", "0.6"), ("rl", "0.6")]
    problems = pick_problems(shots, per_family=2)
    # problem 0: base wrong, rl right (changed); problem 2 right in both; problem 1 wrong in both
    assert [p.record["id"] for p in problems] == ["arithmetic-test-0", "arithmetic-test-1"]
    assert [(shot.stage, sample["sample"], sample["correct"]) for shot, sample in problems[0].samples] == [
        ("base", 0, False), ("rl", 0, True)]


def test_segments_mark_the_answer_and_the_words_outside_the_target_language():
    import r1.report.samples as samples
    import r1.report.table as table

    for module in (samples, table):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
    assert segments("<think>十位 carry</think><answer>12</answer>", "12", target="zh") == [
        ("<think>十位 ", ""), ("carry", "lang"), ("</think><answer>", ""), ("12", "answer"), ("</answer>", "")]
    assert segments("no answer", None) == [("no answer", "")]


def test_the_page_is_self_contained_and_escapes_every_text(pipeline_dir, tmp_path):
    path = write_report(pipeline_dir, tmp_path / "out" / "page.html")
    page = path.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    sources = re.findall(r"""(?:src|href)=['"]([^'"]*)""", page)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)  # 4 curves
    assert re.search(r"<mark class=lang>加</mark>", page) and "<mark class=answer>1</mark>" in page
    stage_rows = re.search(r"<table id=stages>.*?</table>", page, re.S).group()
    assert stage_rows.count("<tr>") == 1 + 4  # the header and one row per stage
    assert "held-out pair accuracy" in page and "Curves: rl" in page
    data_only = tmp_path / "data_only"  # a pipeline that evaluated nothing: a table of stages, no numbers
    write_marker(data_only / "data", "cold-start-data")
    page = write_report(data_only).read_text(encoding="utf-8")
    assert "None" not in page and "<h2 id=samples>" not in page and page.count("<tr>") == 1 + 1


def test_a_grpo_run_has_a_row_per_evaluation(tmp_path):
    grpo = tmp_path / "zero"
    (grpo).mkdir()
    (grpo / "grpo_config.yaml").write_text("model: base\n")
    write_log(grpo, kl=0.0)
    for step, right in ((0, [False] * 3), (10, [True] * 3)):
        write_eval(grpo / "eval" / f"step_{step:06d}" / "tiny_arithmetic", 1.0, right)
    write_eval(grpo / "eval" / "T0.6" / "tiny_arithmetic", 0.6, [True] * 3)
    run = collect(grpo)
    assert (run.what, [s.name for s in run.stages]) == ("GRPO run", ["step 0", "step 10", "final"])
    assert [(s.stage, s.temperature) for s in snapshots(run)] == [("step 0", "1"), ("step 10", "1"), ("final", "0.6")]
    page = write_report(grpo).read_text(encoding="utf-8")
    assert (grpo / "report.html").is_file() and page.count("<img") == 3  # beta=0: no KL curve


def test_a_directory_that_is_no_run_is_a_one_line_error(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "log.jsonl").write_text("")  # a log without a GRPO config is not a GRPO run
    for where, expected in ((tmp_path / "notes", r"is not a run directory: expected <stage>/r1_stage\.json"),
                            (tmp_path / "missing", "is not a directory")):
        result = CliRunner().invoke(app, ["report", str(where)])
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert re.match(rf"error: report: {re.escape(str(where))} {expected}", result.stderr)
    write_marker(tmp_path / "run" / "odd", "distil")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "run")])
    assert result.exit_code == 2 and "odd/r1_stage.json: unknown stage kind 'distil'" in result.stderr


def test_the_cli_writes_where_it_is_told(pipeline_dir, tmp_path):
    result = CliRunner().invoke(app, ["report", str(pipeline_dir), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {tmp_path / 'r.html'}" and (tmp_path / "r.html").stat().st_size > 1000
