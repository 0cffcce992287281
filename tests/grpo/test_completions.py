"""Completions in the log: a short GRPO run writes each logged step's groups to completions.jsonl with
rewards and advantages that agree with the trainer's own; a resumed run drops the rows after its
checkpoint; the Markdown view holds every completion."""

import json

import pytest
import torch

import r1.grpo.trainer as trainer
from r1.grpo.advantages import group_advantages
from r1.plot import completions_view
from r1.tasks import generate
from r1.train.telemetry import read_log
from tests.grpo.test_trainer import config


def test_logged_steps_hold_whole_groups_with_their_rewards_and_advantages(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    cfg = config(tiny_model_dir, out, max_steps=4, log_completions_every=3, log_completions_prompts=2)
    trainer.train(cfg)
    rows = read_log(out / "completions.jsonl")
    records = {r["id"]: r for r in generate("arithmetic", "train", cfg.train_problems, cfg.seed)}
    # step 1 and step 3, 2 of the 3 prompts each, all G = 4 completions of each
    assert [(r["step"], r["group"], r["sample"]) for r in rows] == [
        (step, group, sample) for step in (1, 3) for group in (0, 1) for sample in range(4)]
    for start in range(0, len(rows), 4):
        group = rows[start:start + 4]
        assert len({(r["id"], r["prompt"], r["answer"]) for r in group}) == 1
        record = records[group[0]["id"]]
        assert record["problem"] in group[0]["prompt"] and group[0]["answer"] == record["answer"]
        rewards = torch.tensor([r["reward"] for r in group])
        expected = group_advantages(rewards, 4)
        assert [r["advantage"] for r in group] == pytest.approx(expected.tolist(), abs=1e-5)
        for r in group:
            assert set(r["rewards"]) == {"accuracy", "format"}
            assert r["reward"] == pytest.approx(0.7 * r["rewards"]["accuracy"] + 0.3 * r["rewards"]["format"],
                                                abs=1e-5)
    assert len({r["completion"] for r in rows}) > 1
    assert any(r["advantage"] != 0 for r in rows)  # some group had a signal
    page = completions_view(out).read_text()
    assert page.count("## Step ") == 2 and page.count("**#") == len(rows)
    assert all(f"\n{r['completion']}\n" in page for r in rows)


def test_resume_drops_the_rows_after_the_checkpoint(tiny_model_dir, tmp_path):
    settings = dict(log_completions_every=1, log_completions_prompts=1)
    trainer.train(config(tiny_model_dir, tmp_path / "straight", max_steps=3, **settings))
    trainer.train(config(tiny_model_dir, tmp_path / "resumed", max_steps=2, **settings))
    straight = read_log(tmp_path / "straight" / "completions.jsonl")
    path = tmp_path / "resumed" / "completions.jsonl"
    # what a run killed during step 3 leaves behind: step-3 rows past its step-2 checkpoint
    stale = [{**row, "completion": "from the killed run"} for row in straight if row["step"] == 3]
    with path.open("a") as f:
        f.writelines(json.dumps(row) + "\n" for row in stale)
    trainer.train(config(tiny_model_dir, tmp_path / "resumed", max_steps=3, **settings))
    resumed = read_log(path)
    assert [r["step"] for r in resumed] == [1] * 4 + [2] * 4 + [3] * 4
    assert resumed == straight  # the same samples, each logged once
