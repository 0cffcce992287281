"""`r1 plot RUN_DIR`: PNG curves from a GRPO log, one-line errors without one."""

import json

from typer.testing import CliRunner

from r1.cli import app


def test_plot_writes_pngs(tmp_path):
    rows = [{"step": s, "reward": 0.2 + s / 100, "reward/accuracy": s / 60, "reward/format": 1.0,
             "accuracy": s / 60, "completion_len_mean": 15 + s / 3} for s in range(1, 61)]
    rows[19]["eval/tiny:arithmetic/pass@1"] = 0.5
    rows[59]["eval/tiny:arithmetic/pass@1"] = 0.8
    torn_tail = '{"step": 4'
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + torn_tail)
    result = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("accuracy", "length", "reward"):
        png = tmp_path / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(png) in result.output


def test_plot_without_a_log_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: plot: {tmp_path / 'log.jsonl'} not found "
                                                  "(give the output_dir of an `r1 grpo` run)"]
