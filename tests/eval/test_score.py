"""`r1 score`: scoring completion files against data files, through the CLI and the library."""

import json

import pytest
from typer.testing import CliRunner

from r1.cli import app
from r1.errors import R1Error
from r1.eval.data import benchmark_path, read_jsonl
from r1.eval.score import score_files


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def last_json_line(output):
    return json.loads(output.strip().splitlines()[-1])


def test_gsm8k_references_score_one_and_shifted_score_near_zero(tmp_path):
    data = str(benchmark_path("gsm8k"))
    records = read_jsonl(data)[:200]
    right = write_jsonl(tmp_path / "right.jsonl",
                        [{"id": r["id"], "completion": f"so \\boxed{{{r['answer']}}}"} for r in records])
    shifted = write_jsonl(tmp_path / "shifted.jsonl",
                          [{"id": r["id"], "completion": f"\\boxed{{{s['answer']}}}"}
                           for r, s in zip(records, records[1:] + records[:1])])
    subset = write_jsonl(tmp_path / "data.jsonl", records)
    runner = CliRunner()
    good = runner.invoke(app, ["score", "--data", subset, "--completions", right, "--task", "gsm8k"])
    bad = runner.invoke(app, ["score", "--data", subset, "--completions", shifted, "--task", "gsm8k"])
    assert good.exit_code == 0 and bad.exit_code == 0
    good_line, bad_line = last_json_line(good.output), last_json_line(bad.output)
    assert good_line["n"] == 200 and good_line["k"] == 1
    assert good_line["pass@1"] == 1.0 and good_line["cons@k"] == 1.0 and good_line["pass@k"] == 1.0
    assert bad_line["pass@1"] < 0.05


def test_k_samples_and_a_problem_without_completion(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "problem": "1+1", "answer": "2"},
                                              {"id": "b", "problem": "2+2", "answer": "4"}])
    completions = write_jsonl(tmp_path / "c.jsonl", [
        {"id": "a", "completion": "\\boxed{2}"}, {"id": "a", "completion": "\\boxed{3}"},
        {"id": "a", "completion": "\\boxed{2.0}"}, {"id": "a", "completion": "\\boxed{5}"}])
    summary = score_files(data, completions, "math")
    assert summary["k"] == 4 and summary["n"] == 2
    assert summary["pass@1"] == pytest.approx(2 / 8)  # b's four missing samples count as wrong
    assert summary["cons@4"] == pytest.approx(0.5)  # a: "2" and "2.0" vote together and win
    assert summary["missing_samples"] == 4 and summary["problems_without_completion"] == 1


def test_bad_completion_files_give_one_line_errors(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "problem": "1+1", "answer": "2"}])
    unknown = write_jsonl(tmp_path / "u.jsonl", [{"id": "zzz", "completion": "2"}])
    with pytest.raises(R1Error, match="not in"):
        score_files(data, unknown, "math")
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"id": "a", "completion": "2"}\n{not json\n')
    result = CliRunner().invoke(app, ["score", "--data", data, "--completions", str(broken), "--task", "math"])
    assert result.exit_code == 2
    assert "b.jsonl:2" in result.output and "Traceback" not in result.output
    no_completion = write_jsonl(tmp_path / "n.jsonl", [{"id": "a"}])
    with pytest.raises(R1Error, match="completion"):
        score_files(data, no_completion, "math")
    with pytest.raises(R1Error, match="task"):
        score_files(data, unknown, "poetry")


def test_tiny_readable_format_is_scored_from_the_summary(tmp_path):
    from r1.tasks.cold_start import cold_start_records

    records = cold_start_records(30, seed=0)
    data = write_jsonl(tmp_path / "d.jsonl", [{k: r[k] for k in r if k not in ("prompt", "response")}
                                              for r in records])
    # the cold-start responses themselves, and the same with the summary's box moved to a wrong answer
    # while the reasoning ends with a box of the right one: the summary wins
    right = [{"id": r["id"], "completion": r["response"]} for r in records]
    moved = [{"id": r["id"], "completion": r["response"].replace(
        "\n</think>", f" \\boxed{{{r['answer']}}}\n</think>").replace(
        f"\\boxed{{{r['answer']}}}.</summary>", "\\boxed{0}.</summary>")} for r in records]
    assert all(f"\\boxed{{{r['answer']}}}\n</think>" in m["completion"] and
               m["completion"].endswith("\\boxed{0}.</summary>") for m, r in zip(moved, records))
    good = score_files(data, write_jsonl(tmp_path / "right.jsonl", right), "tiny")
    bad = score_files(data, write_jsonl(tmp_path / "moved.jsonl", moved), "tiny")
    assert good["pass@1"] == 1.0 and set(good["by_family"]) == {"arithmetic", "countdown", "linear"}
    assert bad["pass@1"] == 0.0
