"""Training data: shipped benchmarks train on their train split with their scorer; a dataset-level
`task`; TRL's prompt layouts with a field mapping."""

import json

import pytest

from r1.errors import R1Error
from r1.grpo.config import GRPOConfig
from r1.rewards import get_reward
from r1.train.data import load_prompt_records


def grpo(**settings) -> GRPOConfig:
    return GRPOConfig(model="m", output_dir="o", **settings)


def free_text(records: list[dict]) -> list[str]:
    """Each record's reference reasoning ending in its answer as plain words, no tag or box."""
    return [r["solution"].split("####")[0] + f"So the answer is {r['answer']}." for r in records]


def accuracy(records: list[dict], completions: list[str]) -> list[float]:
    fields = {key: [r.get(key) for r in records] for key in ("id", "task", "answer", "test_list")}
    return get_reward("accuracy")(completions, **fields)


def test_shipped_gsm8k_trains_on_its_train_split_with_its_scorer():
    records = load_prompt_records(grpo(data="gsm8k"))
    assert len(records) == 7473 and records[0]["id"] == "gsm8k-train-0000"
    assert {r["task"] for r in records} == {"gsm8k"}
    sample = records[:300]
    assert accuracy(sample, free_text(sample)) == [1.0] * len(sample)
    wrong = accuracy(sample, free_text(sample[1:] + sample[:1]))
    assert sum(wrong) / len(wrong) < 0.05
    test = load_prompt_records(grpo(data="gsm8k", data_split="test"))  # asked for by name only
    assert len(test) == 1319 and test[0]["id"] == "gsm8k-test-0000"


def test_training_on_a_shipped_benchmark_evaluates_on_its_test_split_by_default():
    assert grpo(data="gsm8k", eval_every=10).benchmarks == ["gsm8k"]
    assert grpo(data="gsm8k", eval_benchmarks=["math500"]).benchmarks == ["math500"]
    assert grpo(families=["linear"], difficulty=2).benchmarks == ["tiny:linear@2"]
    with pytest.raises(R1Error, match="eval_every with data needs eval_benchmarks"):
        grpo(data="my.jsonl", eval_every=10).check()  # a file of one's own names no held-out set


def test_shipped_benchmark_without_a_train_split_is_refused():
    with pytest.raises(R1Error, match="math500 has no 'train' split") as err:
        load_prompt_records(grpo(data="math500"))
    assert "\n" not in str(err.value)


def test_dataset_task_reaches_records_without_one(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"problem": "Tom has 3 apples and buys 4. How many?", "solution": "3+4=7\n#### 7", "answer": "7"},
            {"problem": "2+2", "solution": "#### 4", "answer": "4", "task": "math"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    completions = ["3+4=7. So the answer is 7.", r"\boxed{4}"]
    as_gsm8k = load_prompt_records(grpo(data=str(path), task="gsm8k"))
    assert [r["task"] for r in as_gsm8k] == ["gsm8k", "math"]  # a record's own task wins
    assert accuracy(as_gsm8k, completions) == [1.0, 1.0]
    untold = load_prompt_records(grpo(data=str(path)))
    assert accuracy(untold, completions) == [0.0, 1.0]  # scored as MATH: free text has no boxed answer


def test_trl_text_prompts_with_a_field_mapping(tmp_path):
    path = tmp_path / "trl.jsonl"
    path.write_text(json.dumps({"prompt": "What is 5+6?", "final_answer": "11"}) + "\n")
    records = load_prompt_records(grpo(data=str(path), task="gsm8k", fields={"answer": "final_answer"}))
    assert (records[0]["problem"], records[0]["answer"], records[0]["task"]) == ("What is 5+6?", "11", "gsm8k")
    assert accuracy(records, ["5+6 is 11"]) == [1.0]
    with pytest.raises(R1Error, match="fields: .*record 0 has no column 'solution' \\(for answer\\)"):
        load_prompt_records(grpo(data=str(path), fields={"answer": "solution"}))
    path.write_text(json.dumps({"question": "What is 5+6?"}) + "\n")
    with pytest.raises(R1Error, match="record 0 needs 'problem' \\(or TRL's 'prompt'\\).*fields"):
        load_prompt_records(grpo(data=str(path)))
    assert load_prompt_records(grpo(data=str(path), fields={"problem": "question"}))[0]["problem"] == "What is 5+6?"


def test_trl_conversational_prompts_render_through_the_chat_template(tmp_path, tiny_tokenizer):
    from r1.grpo.stream import build_stream
    from r1.prompts import build_prompt

    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 5+6?"}]
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps({"prompt": messages, "answer": "11"}) + "\n")
    cfg = grpo(data=str(path), suffix="Think first.", response_prefix="<think>")
    records = load_prompt_records(cfg)
    assert records[0]["problem"] == messages
    stream = build_stream(cfg, tiny_tokenizer, records, seed=0)
    expected = tiny_tokenizer.apply_chat_template(
        [messages[0], {"role": "user", "content": "What is 5+6?\nThink first."}], tokenize=False,
        add_generation_prompt=True) + "<think>"
    assert stream.prompts == [expected] and "Answer briefly." in expected
    with pytest.raises(R1Error, match="chat messages needs template=chat"):
        build_prompt(tiny_tokenizer, messages, template="r1_zero")


def test_rejection_sampling_scores_shipped_gsm8k_by_its_scorer():
    from r1.rejection.config import RejectionConfig

    cfg = RejectionConfig(model="m", output_dir="o", data="gsm8k")
    cfg.check()
    assert cfg.scoring_task == "gsm8k"
    with pytest.raises(R1Error, match="task: with data, task must be one of"):
        RejectionConfig(model="m", output_dir="o", data="mine.jsonl").check()


def padding_efficiency(stream, lengths: list[int], start: int, steps: int, batch: int) -> float:
    """Real tokens over padded tokens of `steps` windows of `batch` draws from `start`."""
    real = padded = 0
    for k in range(steps):
        window = [lengths[i] for i in stream.window(start + k * batch, batch)]
        real, padded = real + sum(window), padded + max(window) * batch
    return real / padded


def test_a_length_grouped_stream_draws_each_step_among_similar_lengths():
    import random

    from r1.train.data import GROUP_SPAN, RecordStream

    size, batch = 1000, 16  # 1000 % 16 = 8: the second pass's steps start 8 draws into it
    lengths = [random.Random(i).randint(10, 200) for i in range(size)]
    grouped, plain = RecordStream(size, 3, lengths, batch), RecordStream(size, 3)
    two_passes = grouped.window(0, 2 * size)
    assert sorted(two_passes[:size]) == sorted(two_passes[size:]) == list(range(size))  # every record, once a pass
    assert RecordStream(size, 3, lengths, batch).window(500, 700) == two_passes[500:1200]  # resumes agree
    expected = list(range(size))
    random.Random("3/epoch/0").shuffle(expected)
    assert plain.window(0, size) == expected  # without lengths, the order is the plain shuffle as before
    # whole windows of the first pass, and of the second pass (aligned to global step boundaries)
    first = padding_efficiency(grouped, lengths, 0, 60, batch)
    second = padding_efficiency(grouped, lengths, 1008, 60, batch)
    assert first > 0.9 and second > 0.9 and padding_efficiency(plain, lengths, 0, 60, batch) < 0.7
    # the steps of a span come in random order, not shortest first
    firsts = [lengths[grouped.window(k * batch, batch)[0]] for k in range(GROUP_SPAN)]
    assert firsts != sorted(firsts)
