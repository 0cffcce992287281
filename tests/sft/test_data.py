"""SFT records: rendering as GRPO/eval render prompts, loss masks checked against hand tokenization,
tiny-world CoT traces the rewards accept, and one clear line for every kind of bad input."""

import json

import pytest
import torch

from r1.errors import R1Error
from r1.prompts import build_prompt
from r1.rewards.format import is_r1_zero_format
from r1.rewards.tiny import tiny_accuracy
from r1.sft.config import SFTConfig
from r1.sft.data import IGNORE, collate, load_examples, read_records, split
from r1.train.data import RecordStream


def write_jsonl(path, records) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return str(path)


def config(tmp_path, data=None, **overrides) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path / "out"), model="unused", data=data, **overrides)


def test_prompt_tokens_are_masked_and_response_plus_eos_is_labelled(tiny_tokenizer, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"prompt": "Compute 1+2.", "response": "<think>1+2=3</think><answer>3</answer>"},
        {"messages": [{"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "<answer>7</answer>"}]},
    ])
    first, second = load_examples(config(tmp_path, data), tiny_tokenizer)
    ids = tiny_tokenizer.convert_tokens_to_ids
    # by hand: every character one token; roles, tags and eos (<|end|>) single special tokens
    prompt = ids(["<|user|>", *"Compute 1+2.", "<|end|>", "<|assistant|>"])
    response = ids(["<think>", *"1+2=3", "</think>", "<answer>", "3", "</answer>", "<|end|>"])
    assert (first.prompt_ids, first.response_ids) == (prompt, response)
    assert second.prompt_ids == ids(["<|user|>", "H", "i", "<|end|>", "<|assistant|>"])
    assert second.response_ids == ids(["<answer>", "7", "</answer>", "<|end|>"])

    batch = collate([second, first], pad_id=tiny_tokenizer.pad_token_id)
    width = len(prompt) + len(response)
    assert batch.input_ids.shape == batch.labels.shape == (2, width)
    assert batch.input_ids[1].tolist() == prompt + response
    assert batch.labels[1].tolist() == [IGNORE] * len(prompt) + response
    pad = width - len(second)
    assert batch.labels[0].tolist() == [IGNORE] * 5 + second.response_ids + [IGNORE] * pad
    assert batch.input_ids[0, -pad:].eq(tiny_tokenizer.pad_token_id).all()
    assert batch.attention_mask.tolist() == [[1] * len(second) + [0] * pad, [1] * width]
    assert int((batch.labels != IGNORE).sum()) == len(response) + 4  # the step's response tokens


@pytest.mark.parametrize("template", ["chat", "r1_zero", "plain"])
def test_the_prompt_is_exactly_what_grpo_and_eval_feed(tiny_tokenizer, tmp_path, template):
    record = {"prompt": "Compute 12+30.", "response": "<answer>42</answer>"}
    data = write_jsonl(tmp_path / "d.jsonl", [record])
    (example,) = load_examples(config(tmp_path, data, template=template, suffix="Think."), tiny_tokenizer)
    text = build_prompt(tiny_tokenizer, "Compute 12+30.", template, "Think.")
    assert example.prompt_ids == tiny_tokenizer(text, add_special_tokens=False)["input_ids"]


def test_system_and_earlier_turns_are_context_through_the_chat_template(tiny_tokenizer, tmp_path):
    turns = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    data = write_jsonl(tmp_path / "d.jsonl", [{"messages": turns, "system": "S"}])
    (example,) = load_examples(config(tmp_path, data, train_on="last_turn"), tiny_tokenizer)
    text = "<|system|>S<|end|><|user|>a<|end|><|assistant|>b<|end|><|user|>c<|end|><|assistant|>"
    assert tiny_tokenizer.decode(example.prompt_ids) == text
    assert tiny_tokenizer.decode(example.response_ids) == "d<|end|>"  # only the last reply is trained
    with pytest.raises(R1Error, match=r"d.jsonl:1: template 'plain' renders one user turn"):
        load_examples(config(tmp_path, data, template="plain"), tiny_tokenizer)


def test_every_assistant_turn_is_trained_by_default_and_only_the_last_with_last_turn(tiny_tokenizer, tmp_path):
    turns = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    data = write_jsonl(tmp_path / "d.jsonl", [{"messages": turns, "system": "S"}])
    (every,) = load_examples(config(tmp_path, data), tiny_tokenizer)
    (last,) = load_examples(config(tmp_path, data, train_on="last_turn"), tiny_tokenizer)
    ids = tiny_tokenizer.convert_tokens_to_ids
    whole = "<|system|>S<|end|><|user|>a<|end|><|assistant|>b<|end|><|user|>c<|end|><|assistant|>d<|end|>"
    assert tiny_tokenizer.decode(every.prompt_ids + every.response_ids) == whole  # the template's own text
    assert tiny_tokenizer.decode(last.prompt_ids + last.response_ids) == whole
    labelled = [t for t in collate([every], 0).labels[0].tolist() if t != IGNORE]
    assert labelled == ids(["b", "<|end|>", "d", "<|end|>"]) and every.trained == 4  # both replies, each eos
    labelled = [t for t in collate([last], 0).labels[0].tolist() if t != IGNORE]
    assert labelled == ids(["d", "<|end|>"]) and last.trained == 2
    assert tiny_tokenizer.decode(every.prompt_ids) == "<|system|>S<|end|><|user|>a<|end|><|assistant|>"
    single = write_jsonl(tmp_path / "s.jsonl", [{"messages": turns[:2]}])  # one reply: the same either way
    assert load_examples(config(tmp_path, single), tiny_tokenizer) == load_examples(
        config(tmp_path, single, train_on="last_turn"), tiny_tokenizer)
    with pytest.raises(R1Error, match=r"d.jsonl:1: template 'plain' renders one user turn"):
        load_examples(config(tmp_path, data, template="plain"), tiny_tokenizer)


def test_a_template_that_rewrites_earlier_replies_is_refused_for_all_turns(tiny_model_dir, tmp_path):
    from r1.models.load import load_tokenizer

    tokenizer = load_tokenizer(tiny_model_dir)  # its own copy: the template is changed below
    tokenizer.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{% if m['role'] == 'assistant' %}x"
                               "{% else %}{{ m['content'] }}{% endif %}<|end|>{% endfor %}"
                               "{% if add_generation_prompt %}<|assistant|>{% endif %}")  # drops replies
    turns = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    data = write_jsonl(tmp_path / "d.jsonl", [{"messages": turns}])
    with pytest.raises(R1Error, match=r"^\S*d.jsonl:1: the chat template does not render an earlier reply.*"
                                      "set train_on=last_turn$"):
        load_examples(config(tmp_path, data), tokenizer)
    (example,) = load_examples(config(tmp_path, data, train_on="last_turn"), tokenizer)
    assert tokenizer.decode(example.response_ids) == "d<|end|>"


def test_tiny_world_traces_are_step_by_step_solutions_the_rewards_accept(tmp_path):
    cfg = config(tmp_path, families=["arithmetic", "linear"], train_problems=20, seed=3)
    pairs = read_records(cfg)
    assert len(pairs) == 40
    from r1.tasks import generate

    problems = generate("arithmetic", "train", 20, 3) + generate("linear", "train", 20, 3)
    responses = [record["response"] for _, record in pairs]
    assert [record["prompt"] for _, record in pairs] == [p["problem"] for p in problems]
    assert all(is_r1_zero_format(r) for r in responses)
    fields = {"task": [p["task"] for p in problems], "answer": [p["answer"] for p in problems],
              "numbers": [None] * 40, "target": [None] * 40}
    assert tiny_accuracy(responses, **fields) == [1.0] * 40
    assert all(r.startswith("<think>") and "\n" in r and p["solution"] in r
               for r, p in zip(responses, problems))


def test_a_datasets_directory_works_like_jsonl(tiny_tokenizer, tmp_path):
    import datasets

    rows = [{"prompt": "Compute 1+2.", "response": "<answer>3</answer>"}, {"prompt": "x", "response": "y"}]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    from_dir = load_examples(config(tmp_path, str(tmp_path / "ds")), tiny_tokenizer)
    from_file = load_examples(config(tmp_path, write_jsonl(tmp_path / "d.jsonl", rows)), tiny_tokenizer)
    assert from_dir == from_file
    datasets.Dataset.from_list([{"prompt": "x"}]).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(R1Error, match=r"bad record 1: missing field 'response'"):
        load_examples(config(tmp_path, str(tmp_path / "bad")), tiny_tokenizer)


def test_several_sources_are_trained_on_together(tiny_tokenizer, tmp_path):
    first = [{"prompt": "Compute 1+2.", "response": "<answer>3</answer>"}]
    second = [{"prompt": "Who are you?", "response": "I am r1."}, {"prompt": "x"}]
    a, b = write_jsonl(tmp_path / "a.jsonl", first), write_jsonl(tmp_path / "b.jsonl", second[:1])
    both = load_examples(config(tmp_path, [a, b]), tiny_tokenizer)
    assert both == load_examples(config(tmp_path, a), tiny_tokenizer) + load_examples(config(tmp_path, b),
                                                                                          tiny_tokenizer)
    bad = write_jsonl(tmp_path / "bad.jsonl", second)
    with pytest.raises(R1Error, match=r"bad.jsonl:2: missing field 'response'"):
        load_examples(config(tmp_path, [a, bad]), tiny_tokenizer)


def test_bad_input_is_refused_with_one_line_naming_file_line_and_field(tiny_tokenizer, tmp_path):
    ok = {"prompt": "Compute 1+2.", "response": "<answer>3</answer>"}

    def refused(match, records, **overrides):
        data = write_jsonl(tmp_path / "bad.jsonl", records)
        with pytest.raises(R1Error, match=match) as err:
            load_examples(config(tmp_path, data, **overrides), tiny_tokenizer)
        assert "\n" not in str(err.value)

    with pytest.raises(R1Error, match=r"data: .*nope.jsonl not found"):
        load_examples(config(tmp_path, str(tmp_path / "nope.jsonl")), tiny_tokenizer)
    refused(r"bad.jsonl:3: missing field 'response'", [ok, "", {"prompt": "Compute 2+2."}])
    refused(r"bad.jsonl:2: missing field 'prompt' \(or give 'messages'\)", [ok, {"response": "r"}])
    refused(r"bad.jsonl:1: messages\[1\]: missing field 'content'",
            [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant"}]}])
    refused(r"bad.jsonl:1: the last message must be the assistant's reply",
            [{"messages": [{"role": "user", "content": "q"}]}])
    refused(r"bad.jsonl:2: empty response", [ok, {"prompt": "q", "response": "  "}])
    refused(r"bad.jsonl:1: field 'prompt' must be a string, got int", [{"prompt": 3, "response": "r"}])
    refused(r"bad.jsonl:2: not valid JSON", [ok, "{oops"])
    refused(r"bad.jsonl gave no training records", ["", ""])
    refused(r"bad.jsonl:2: 34 tokens \(prompt \+ response \+ eos\) exceed max_seq_len=30 \(1 records do\)",
            [ok, {"prompt": "Compute 100+200.", "response": "<answer>300</answer> and more"}], max_seq_len=30)
    refused(r"every record is longer than max_seq_len=10", [ok], max_seq_len=10, overlong="drop")


def test_overlong_records_can_be_dropped_instead(tiny_tokenizer, tmp_path):
    long = {"prompt": "Compute 100+200.", "response": "<answer>300</answer> and more"}
    data = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "q", "response": "r"}, long])
    kept = load_examples(config(tmp_path, data, max_seq_len=30, overlong="drop"), tiny_tokenizer)
    assert [len(e) for e in kept] == [6]  # <|user|> q <|end|> <|assistant|> r eos


def test_record_order_is_a_seeded_shuffle_per_epoch_and_split_covers_everything():
    first_two_epochs = RecordStream(10, seed=1).window(0, 20)
    assert sorted(first_two_epochs[:10]) == sorted(first_two_epochs[10:]) == list(range(10))
    assert first_two_epochs[:10] != first_two_epochs[10:]
    assert RecordStream(10, seed=1).window(7, 6) == first_two_epochs[7:13]  # a resumed run agrees
    assert RecordStream(10, seed=2).window(0, 10) != first_two_epochs[:10]
    items = list(range(7))
    assert [split(items, 3, i) for i in range(3)] == [[0, 1], [2, 3, 4], [5, 6]]
    assert torch.equal(torch.tensor(sum((split(items, 3, i) for i in range(3)), [])), torch.tensor(items))
