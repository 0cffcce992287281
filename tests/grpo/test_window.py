"""The context window schedule: hand-computed windows (staged boundaries, adaptive growth with threshold,
patience and cap), config checks, and a GRPO run that follows it, logs it and resumes it exactly."""

import pytest
import torch
import yaml
from safetensors.torch import load_file

import r1.grpo.trainer as trainer
from r1.config import load_config
from r1.errors import R1Error
from r1.grpo.config import GRPOConfig
from r1.grpo.window import ContextSchedule, Window, largest_window, next_window, window_at
from r1.train.telemetry import read_log
from tests.killing import interrupt_at

SMALL = dict(prompts_per_step=2, group_size=4, train_problems=20, save_every=1, rollout_batch_size=64)


def windows(schedule: ContextSchedule, initial: int, truncated: list[float]) -> list[int]:
    """The window of steps 1 .. len(truncated) + 1, step i having truncated share truncated[i - 1]."""
    window = window_at(schedule, initial, 1)
    out = [window.tokens]
    for step, frac in enumerate(truncated, start=1):
        window = next_window(schedule, initial, window, step, frac)
        out.append(window.tokens)
    return out


def test_staged_windows_change_at_their_steps_whatever_is_truncated():
    staged = ContextSchedule(kind="staged", stages=[[3, 16], [5, 24]])
    assert windows(staged, 8, [1.0] * 5) == [8, 8, 16, 16, 24, 24]
    assert [window_at(staged, 8, step).tokens for step in range(1, 7)] == [8, 8, 16, 16, 24, 24]
    assert windows(ContextSchedule(kind="staged", stages=[[1, 12]]), 8, [0.0]) == [12, 12]  # from step 1
    assert windows(ContextSchedule(kind="staged", stages=[[2, 4]]), 8, [0.0, 0.0]) == [8, 4, 4]  # may shrink
    assert windows(ContextSchedule(), 8, [1.0, 1.0]) == [8, 8, 8]  # fixed


def test_adaptive_grows_after_patience_steps_above_the_threshold_up_to_the_cap():
    grow = ContextSchedule(kind="adaptive", truncated_threshold=0.25, patience=2, grow_factor=2.0, cap=50)
    truncated = [0.5, 0.2, 0.5, 0.5, 0.3, 0.4, 0.9, 0.9, 0.9, 0.9]
    # a share at or below the threshold restarts the count; after growing it restarts too; 80 -> cap 50
    assert windows(grow, 10, truncated) == [10, 10, 10, 10, 20, 20, 40, 40, 50, 50, 50]
    assert windows(grow, 10, [0.25] * 6) == [10] * 7  # at the threshold is not above it
    eager = ContextSchedule(kind="adaptive", truncated_threshold=0.0, grow_factor=1.5, cap=100)
    assert windows(eager, 10, [0.1, 0.1, 0.0, 0.1]) == [10, 15, 23, 23, 35]  # 22.5 and 34.5 round up
    assert next_window(grow, 10, Window(10, 1), 7, 0.5) == Window(20, 0)
    assert next_window(grow, 10, Window(50, 3), 7, 0.5) == Window(50, 4)  # at the cap: stays


def test_the_docstring_examples_hold():
    import doctest

    import r1.grpo.window as module

    result = doctest.testmod(module)
    assert result.attempted >= 4 and result.failed == 0


def test_largest_window_is_what_the_context_must_hold():
    assert largest_window(ContextSchedule(), 64) == 64
    assert largest_window(ContextSchedule(kind="staged", stages=[[3, 16], [5, 24]]), 8) == 24
    assert largest_window(ContextSchedule(kind="staged", stages=[[3, 4]]), 8) == 8
    assert largest_window(ContextSchedule(kind="adaptive", cap=50), 10) == 50


@pytest.mark.parametrize("overrides, message", [
    (["context_schedule.kind=adaptive"], "kind=adaptive needs cap"),
    (["context_schedule.kind=adaptive", "context_schedule.cap=32"],
     r"context_schedule.cap \(32\) is below max_new_tokens \(64\)"),
    (["context_schedule.kind=staged"], "kind=staged needs stages"),
    (["context_schedule.kind=staged", "context_schedule.stages=[[5, 100], [5, 200]]"],
     r"steps must increase, got \[5, 5\]"),
    (["context_schedule.grow_factor=1"], "key 'context_schedule.grow_factor' = 1: Input should be greater"),
    (["context_schedule.stages=[[0, 8]]"], "key 'context_schedule.stages.0.0' = 0"),
    (["context_schedule.truncated_threshold=1.0"], "key 'context_schedule.truncated_threshold'"),
    (["context_schedule.kind=grow"], "key 'context_schedule.kind' = 'grow'"),
    (["eval_max_new_tokens=0"], "key 'eval_max_new_tokens' = 0"),
])
def test_bad_schedules_are_refused_at_load_in_one_line(overrides, message):
    with pytest.raises(R1Error, match=message) as err:
        load_config(GRPOConfig, None, overrides, output_dir="x", model="m")
    assert "\n" not in str(err.value) and str(err.value).startswith("command line: ")
    assert "Value error" not in str(err.value)


def test_the_largest_window_must_fit_the_model_context(tiny_model_dir, tmp_path):
    staged = {"kind": "staged", "stages": [[2, 10_000]]}
    with pytest.raises(R1Error, match=r"context_schedule: .* \(10000 new tokens\) .* context of 256"):
        trainer.train(GRPOConfig(output_dir=str(tmp_path), model=str(tiny_model_dir), max_steps=1,
                                 max_new_tokens=8, context_schedule=staged))


def test_a_staged_run_samples_normalises_and_logs_at_each_steps_window(tiny_model_dir, tmp_path, monkeypatch):
    seen, real_loss = [], trainer.grpo_loss

    def recording(*args, **kwargs):  # the real loss; records the Dr. GRPO normaliser it was given
        seen.append(kwargs["max_len"])
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(trainer, "grpo_loss", recording)
    # beta > 0: a step whose advantages are all zero (a 3-token window truncates every completion) still
    # runs the loss, for its KL term; with beta = 0 it would be skipped and record nothing
    cfg = GRPOConfig(output_dir=str(tmp_path), model=str(tiny_model_dir), max_steps=3, max_new_tokens=3,
                     loss_type="dr_grpo", context_schedule={"kind": "staged", "stages": [[2, 6], [3, 12]]},
                     eval_every=3, eval_problems=2, eval_k=1, beta=0.04, **SMALL)
    trainer.train(cfg)
    rows = [row for row in read_log(tmp_path / "log.jsonl") if row["step"] > 0]
    assert [row["max_new_tokens"] for row in rows] == [3, 6, 12]
    assert all(row["completion_len_max"] <= row["max_new_tokens"] for row in rows)
    assert rows[0]["completion_len_max"] == 3 and rows[0]["truncated_frac"] > 0  # a 3-token window binds
    assert sorted(set(seen)) == [4, 7, 13]  # the window + 1 (eos), constant within each step
    for step in (0, 3):  # every eval at the largest window, 12
        saved = yaml.safe_load((tmp_path / "eval" / f"step_{step:06d}" / "tiny_arithmetic" /
                                "eval_config.yaml").read_text())
        assert saved["max_new_tokens"] == 12


def adaptive(model_dir, out, **overrides) -> GRPOConfig:
    grow = {"kind": "adaptive", "truncated_threshold": 0.5, "patience": 1, "grow_factor": 2.0, "cap": 24}
    return GRPOConfig(output_dir=str(out), model=str(model_dir), max_steps=5, max_new_tokens=3, seed=1,
                      context_schedule=grow, **{**SMALL, **overrides})


def test_an_interrupted_adaptive_run_resumes_with_the_window_it_reached(tiny_model_dir, tmp_path, monkeypatch):
    straight = trainer.train(adaptive(tiny_model_dir, tmp_path / "a"))
    rows = read_log(tmp_path / "a" / "log.jsonl")
    sizes = [row["max_new_tokens"] for row in rows]
    schedule = adaptive(tiny_model_dir, "x").context_schedule
    assert sizes == windows(schedule, 3, [row["truncated_frac"] for row in rows])[:-1]
    assert sizes[0] == 3 and sizes[2] > 3  # it grew before the interruption below

    real_step = trainer.grpo_step
    interrupt_at(monkeypatch, trainer, "grpo_step", 4)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(adaptive(tiny_model_dir, tmp_path / "b"))
    state = torch.load(tmp_path / "b" / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 3 and state["window"] == sizes[3]  # the window step 4 starts with
    monkeypatch.setattr(trainer, "grpo_step", real_step)
    resumed = trainer.train(adaptive(tiny_model_dir, tmp_path / "b"))
    again = read_log(tmp_path / "b" / "log.jsonl")
    assert [row["max_new_tokens"] for row in again] == sizes
    assert [row["reward"] for row in again] == [row["reward"] for row in rows]
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    ends = [torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False) for out in
            (tmp_path / "a", tmp_path / "b")]
    assert ends[0]["window"] == ends[1]["window"] and ends[0]["window_streak"] == ends[1]["window_streak"]


def test_the_length_plot_draws_the_window(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from r1.plot import _window

    rows = [{"step": 1, "max_new_tokens": 8}, {"step": 2, "max_new_tokens": 16}, {"step": 3}]
    fig, ax = plt.subplots()
    _window(ax, rows)
    assert list(ax.lines[-1].get_xdata()) == [1, 2] and list(ax.lines[-1].get_ydata()) == [8, 16]
    _window(ax, [{"step": 1}])  # a log from before the window was logged: nothing drawn
    assert len(ax.lines) == 1
    plt.close(fig)
