"""r1 train-rm on the session's tiny model: it learns separable synthetic data (over seeds), the
harmlessness model reading the whole response catches harm placed only in the reasoning, the saved
model loads as an HF sequence classifier, a stopped run resumes exactly, and the CLI runs a recipe."""

import json
import statistics

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer

import r1.reward_models.trainer as trainer
from r1.errors import R1Error
from r1.reward_models.render import rm_input
from r1.train.telemetry import read_log
from tests.killing import interrupt_at
from tests.reward_models.conftest import harm_records, pair_records, response, rm_config, write_jsonl


def test_pairwise_model_learns_correct_facts_over_seeds(tiny_model_dir, tmp_path):
    """Chosen summaries state a number's parity rightly, rejected ones wrongly: chance is 50%."""
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_records(160, seed=1, wrong_share=1.0))
    accuracies = []
    for seed in (0, 1, 2):
        out = tmp_path / f"seed{seed}"
        trainer.train(rm_config(tiny_model_dir, out, data, seed=seed))
        result = json.loads((out / "eval.json").read_text())
        assert result["objective"] == "pairwise" and result["on"] == "summary" and result["n"] == 40
        accuracies.append(result["pair_accuracy"])
    assert min(accuracies) >= 0.8 and statistics.mean(accuracies) >= 0.9, accuracies


def test_a_whole_response_model_catches_harm_only_in_the_reasoning(harmless_rm, tiny_model_dir, tmp_path):
    whole = json.loads((harmless_rm / "eval.json").read_text())
    assert whole["accuracy"] >= 0.9 and whole["auroc"] >= 0.95, whole
    assert whole["n_harm_in_reasoning"] >= 5 and whole["accuracy_harm_in_reasoning"] >= 0.9, whole
    # the same data read through the summary alone: harm in the reasoning is invisible, so missed
    data = write_jsonl(tmp_path / "harm.jsonl", harm_records(160, seed=2))
    trainer.train(rm_config(tiny_model_dir, tmp_path / "summary", data, objective="pointwise", on="summary"))
    summary = json.loads((tmp_path / "summary" / "eval.json").read_text())
    assert summary["accuracy_harm_in_reasoning"] <= 0.3, summary


def test_final_loads_as_an_hf_sequence_classifier_and_records_its_settings(helpful_rm):
    final = helpful_rm / "final"
    model = AutoModelForSequenceClassification.from_pretrained(final).eval()
    tokenizer = AutoTokenizer.from_pretrained(final)
    assert model.config.num_labels == 1 and model.config.pad_token_id == tokenizer.pad_token_id
    info = json.loads((final / "r1_final.json").read_text())["reward_model"]
    assert info["objective"] == "pairwise" and info["on"] == "summary" and isinstance(info["center"], float)
    prompt = [{"role": "user", "content": "Tell me about the number 47."}]
    texts = [rm_input(tokenizer, prompt, response("47 ends in 7.", s), "summary")
             for s in ("47 is odd.", "47 is even.")]
    batch = tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    with torch.no_grad():
        scores = model(**batch).logits  # [2, 1]
    assert scores.shape == (2, 1) and scores[0, 0] > scores[1, 0]
    rows = read_log(helpful_rm / "log.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 41))
    assert rows[-1]["eval/pair_accuracy"] >= 0.8 and rows[0]["loss"] > rows[-1]["loss"]


@pytest.mark.parametrize("group_by_length", [False, True])
def test_a_stopped_run_resumes_to_identical_weights(tiny_model_dir, tmp_path, monkeypatch, group_by_length):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_records(40, seed=3))
    run = dict(max_steps=5, batch_size=4, grad_accum=2, save_every=2, warmup_steps=1, lr_schedule="cosine",
               group_by_length=group_by_length)
    straight = trainer.train(rm_config(tiny_model_dir, tmp_path / "a", data, **run))
    real_step = trainer.rm_step
    interrupt_at(monkeypatch, trainer, "rm_step", 4)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(rm_config(tiny_model_dir, tmp_path / "b", data, **run))
    monkeypatch.setattr(trainer, "rm_step", real_step)
    resumed = trainer.train(rm_config(tiny_model_dir, tmp_path / "b", data, **run))  # from step 2
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r["loss"] for r in read_log(tmp_path / "b" / "log.jsonl")] == \
        [r["loss"] for r in read_log(tmp_path / "a" / "log.jsonl")]
    a, b = (json.loads((final / "r1_final.json").read_text()) for final in (straight, resumed))
    assert a.pop("train_s") > 0 and b.pop("train_s") > 0  # wall time differs between the two runs
    assert a == b and a["flops"] > 0
    with pytest.raises(R1Error, match="already holds a train-rm run"):
        trainer.train(rm_config(tiny_model_dir, tmp_path / "b", data, **run, resume=False))


def test_the_cli_runs_a_recipe_and_bad_input_is_one_line(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from r1.cli import app

    data = write_jsonl(tmp_path / "harm.jsonl", harm_records(40, seed=4))
    recipe = tmp_path / "rm.yaml"
    recipe.write_text(f"output_dir: {tmp_path / 'out'}\nmodel: {tiny_model_dir}\ndata: {data}\n"
                      "objective: pointwise\non: whole\nmax_steps: 2\nbatch_size: 8\nsave_every: 0\n")
    runner = CliRunner()
    result = runner.invoke(app, ["train-rm", "-c", str(recipe)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "final" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "out" / "eval.json").read_text())["n"] == 4
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(app, ["train-rm", "-c", str(recipe), f"output_dir={tmp_path / 'o2'}", f"data={empty}"])
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [f"error: data: {empty} holds no records"]
    help_text = runner.invoke(app, ["train-rm", "--help"], terminal_width=200).output
    assert " objective (" in help_text and " on (" in help_text and " margin (" in help_text


def test_group_by_length_draws_each_step_among_similar_lengths(tiny_model_dir, tmp_path):
    records = pair_records(64, seed=4)
    for i, r in enumerate(records):  # lengths that vary a lot: some summaries padded with filler
        filler = " It is a number." * (i % 8)
        for key in ("chosen", "rejected"):
            r[key] = r[key].replace("</summary>", filler + "</summary>")
    data = write_jsonl(tmp_path / "pairs.jsonl", records)
    spreads = {}
    for grouped in (False, True):
        run = trainer.setup(rm_config(tiny_model_dir, tmp_path / str(grouped), data, batch_size=8,
                                      group_by_length=grouped))
        windows = [[len(run.examples[i]) for i in run.stream.window(k * 8, 8)] for k in range(6)]
        spreads[grouped] = statistics.mean(max(w) - min(w) for w in windows)
    assert spreads[True] < spreads[False] / 3, spreads
