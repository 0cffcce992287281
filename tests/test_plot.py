"""`r1 plot RUN_DIR`: PNG curves from a GRPO log, the logged completions as Markdown (--completions),
one-line errors without them."""

import json

from typer.testing import CliRunner

from r1.cli import app
from r1.plot import plot_run


def test_plot_writes_pngs(tmp_path):
    rows = [{"step": s, "reward": 0.2 + s / 100, "reward/accuracy": s / 60, "reward/format": 1.0,
             "accuracy": s / 60, "completion_len_mean": 15 + s / 3, "kl": s / 1000} for s in range(1, 61)]
    rows[19]["eval/tiny:arithmetic/pass@1"] = 0.5
    rows[59]["eval/tiny:arithmetic/pass@1"] = 0.8
    torn_tail = '{"step": 4'
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + torn_tail)
    result = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("accuracy", "length", "reward", "kl"):
        png = tmp_path / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(png) in result.output
    for row in rows:  # beta=0: the log's kl is 0 at every step, not a measurement worth a curve
        row["kl"] = 0.0
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [str(p.relative_to(tmp_path)) for p in plot_run(tmp_path, out_dir=tmp_path / "elsewhere")] == \
        ["elsewhere/accuracy.png", "elsewhere/length.png", "elsewhere/reward.png"]


def test_a_stage_4_log_also_draws_reward_models_against_the_oracle(tmp_path):
    rows = [{"step": 0, "general/rm/helpfulness": 0.5, "general/oracle/helpfulness": 0.4}]
    rows += [{"step": s, "reward": 0.5, "kl": s / 1000, "completion_len_mean": 20} for s in range(1, 11)]
    for row in (rows[5], rows[10]):
        row.update({"general/rm/helpfulness": 0.5 + row["step"] / 20, "general/oracle/helpfulness": 0.4})
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    png = tmp_path / "plots" / "overoptimisation.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(png) in result.output
    png.unlink()
    plain = [{k: v for k, v in r.items() if not k.startswith("general/")} for r in rows[1:]]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in plain))
    assert CliRunner().invoke(app, ["plot", str(tmp_path)]).exit_code == 0
    assert not png.exists()  # only a run with the oracle's scores draws it


def test_plot_without_a_log_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: plot: {tmp_path / 'log.jsonl'} not found "
                                                  "(give the output_dir of an `r1 grpo` run)"]


def test_plot_completions_writes_a_markdown_page(tmp_path):
    rows = [{"step": 10, "group": 0, "id": "a-1", "prompt": "<|user|>Compute 2+3.", "answer": "5", "sample": j,
             "completion": text, "rewards": {"accuracy": acc, "format": fmt}, "reward": reward,
             "advantage": adv, "finished": j != 2}
            for j, (text, acc, fmt, reward, adv) in enumerate([
                ("<think>2+3=5</think><answer>5</answer>", 1.0, 1.0, 1.0, 1.5),
                ("<answer>6</answer>", 0.0, 1.0, 0.3, -0.5),
                ("```python\nprint(5)\n``` and | pipes", 0.0, None, 0.0, -0.5),
                ("6", 0.0, 0.0, 0.0, -0.5)])]
    rows.append({**rows[0], "step": 20, "id": "a-2", "sample": 0})
    (tmp_path / "completions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["plot", str(tmp_path), "--completions"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "completions.md"
    assert str(page) in result.output and not (tmp_path / "plots").exists()
    text = page.read_text()
    assert text.count("## Step ") == 2 and "## Step 10" in text and "## Step 20" in text
    assert "### a-1, answer `5`" in text and "### a-2, answer `5`" in text
    assert "**#0** reward 1 (accuracy 1, format 1), advantage +1.500" in text
    assert "**#2** reward 0 (accuracy 0, format n/a), advantage -0.500, truncated" in text
    # each completion verbatim in a fence; the one holding ``` gets a longer fence
    for row in rows:
        assert f"\n{row['completion']}\n" in text
    assert "````text\n```python\nprint(5)\n``` and | pipes\n````" in text


def test_plot_completions_without_the_file_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["plot", str(tmp_path), "--completions"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: plot: {tmp_path / 'completions.jsonl'} not found (an `r1 grpo` run writes it when "
        "log_completions_every > 0)"]
