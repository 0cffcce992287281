import json

import pytest

from r1.errors import R1Error
from r1.eval.data import BENCHMARKS, load_benchmark, load_data, read_jsonl

SIZES = {"gsm8k": 1319, "math500": 500, "aime24": 30, "mbpp": 257}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_shipped_benchmark_loads(name):
    records, task = load_benchmark(name)
    assert len(records) == SIZES[name]
    assert task == BENCHMARKS[name][1]
    assert len({r["id"] for r in records}) == len(records)
    assert all(isinstance(r["problem"], str) and r["problem"].strip() for r in records)
    first, _ = load_benchmark(name, n=5)
    assert first == records[:5]


def test_tiny_benchmark_is_the_test_split():
    from r1.tasks import split_of

    records, task = load_benchmark("tiny:countdown", n=7, seed=1)
    assert task == "tiny" and len(records) == 7
    assert {split_of(r["problem"]) for r in records} == {"test"}
    assert {r["task"] for r in records} == {"countdown"}


def test_tiny_benchmark_at_a_difficulty():
    records, _ = load_benchmark("tiny:arithmetic@2", n=5)
    assert {r["difficulty"] for r in records} == {2}
    assert all(r["problem"].count("+") + r["problem"].count("-") == 2 for r in records)  # 3 operands
    default, _ = load_benchmark("tiny:arithmetic", n=5)
    assert {r["difficulty"] for r in default} == {1}
    with pytest.raises(R1Error, match="whole number"):
        load_benchmark("tiny:arithmetic@x")


def test_unknown_benchmark():
    with pytest.raises(R1Error, match="bogus"):
        load_benchmark("bogus")
    with pytest.raises(R1Error, match="bogus"):
        load_benchmark("tiny:bogus")


def test_local_datasets_directory(tmp_path):
    import datasets

    rows = [{"problem": "1+1?", "answer": "2"}, {"problem": "2+2?", "answer": "4", }]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    records = load_data(str(tmp_path / "ds"), split="test")
    assert [(r["problem"], r["answer"], r["id"]) for r in records] == [("1+1?", "2", "0"), ("2+2?", "4", "1")]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:1]),
                          "test": datasets.Dataset.from_list(rows[1:])}).save_to_disk(str(tmp_path / "dd"))
    assert [r["problem"] for r in load_data(str(tmp_path / "dd"), split="test")] == ["2+2?"]
    assert len(load_data(str(tmp_path / "ds"), split="test", n=1)) == 1
    assert [r["problem"] for r in load_data(str(tmp_path / "dd"), split="train")] == ["1+1?"]
    with pytest.raises(R1Error, match="no 'validation' split \\(it has train, test\\); choose one with data_split"):
        load_data(str(tmp_path / "dd"), split="validation")


def test_training_reads_the_train_split_and_evaluation_the_test_split(tmp_path):
    """Before, `r1 grpo data=DIR` with a DatasetDict trained on its test split."""
    import datasets

    from r1.eval.run import EvalConfig, load_records as eval_records
    from r1.grpo.config import GRPOConfig
    from r1.train.data import load_prompt_records as train_records
    from r1.sft.config import SFTConfig
    from r1.sft.data import read_records

    train = [{"problem": "1+1?", "prompt": "1+1?", "response": "2", "answer": "2"}]
    test = [{"problem": "2+2?", "prompt": "2+2?", "response": "4", "answer": "4"}]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(train),
                          "test": datasets.Dataset.from_list(test)}).save_to_disk(str(tmp_path / "dd"))
    data = str(tmp_path / "dd")
    assert [r["problem"] for r in train_records(GRPOConfig(model="m", output_dir="o", data=data))] == ["1+1?"]
    assert [r["prompt"] for _, r in read_records(SFTConfig(model="m", output_dir="o", data=data))] == ["1+1?"]
    records, _ = eval_records(EvalConfig(model="m", output_dir="o", data=data, task="gsm8k"))
    assert [r["problem"] for r in records] == ["2+2?"]
    picked = GRPOConfig(model="m", output_dir="o", data=data, data_split="test")
    assert [r["problem"] for r in train_records(picked)] == ["2+2?"]


def test_directory_not_saved_by_datasets(tmp_path):
    with pytest.raises(R1Error, match="not one saved by datasets"):
        load_data(str(tmp_path), split="test")


def test_jsonl_file(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "problem": "p1"}\n\n{"problem": "p2"}\n')
    assert [(r["id"], r["problem"]) for r in load_data(str(path), split="test")] == [("a", "p1"), ("1", "p2")]


@pytest.mark.parametrize("bad_line, message", [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_bad_jsonl_line_names_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"problem": "ok"}) + "\n" + json.dumps({"problem": "ok2"}) + "\n" + bad_line + "\n")
    with pytest.raises(R1Error, match=message) as err:
        read_jsonl(path)
    assert f"{path}:3:" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(R1Error, match=f"{path}:3:"):
        load_data(str(path), split="test")


def test_missing_file_and_missing_problem(tmp_path):
    with pytest.raises(R1Error, match="not found"):
        load_data(str(tmp_path / "nope.jsonl"), split="test")
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "q1", "question": "p"}\n')
    with pytest.raises(R1Error, match="q1.*'problem'"):
        load_data(str(path), split="test")
