"""Reward-model records in TRL's formats -> the texts the model reads, and bad input in one line."""

import json
import logging

import pytest

from r1.errors import R1Error
from r1.reward_models.config import RewardModelConfig
from r1.reward_models.data import load_examples, read_records, train_and_heldout
from r1.reward_models.render import rm_input
from tests.reward_models.conftest import harm_records, pair_records, response, write_jsonl

CHOSEN = response("3 ends in 3.", "13 is odd.")
REJECTED = response("3 ends in 3.", "13 is even.")


def cfg(**overrides) -> RewardModelConfig:
    return RewardModelConfig(**{"output_dir": "unused", "model": "unused", "data": "unused", **overrides})


def texts(tokenizer, examples) -> list[list[str]]:
    return [[tokenizer.decode(ids) for ids in e.ids] for e in examples]


def test_summary_view_renders_prompt_and_summary_through_the_chat_template(tiny_tokenizer):
    prompt = [{"role": "user", "content": "Tell me about 13."}]
    assert rm_input(tiny_tokenizer, prompt, CHOSEN, "summary") == \
        "<|user|>Tell me about 13.<|end|><|assistant|>13 is odd.<|end|>"
    assert rm_input(tiny_tokenizer, prompt, CHOSEN, "whole") == \
        f"<|user|>Tell me about 13.<|end|><|assistant|>{CHOSEN}<|end|>"


def test_explicit_implicit_and_conversational_pairs_read_the_same(tiny_tokenizer):
    user = {"role": "user", "content": "Tell me about 13."}
    explicit = {"prompt": "Tell me about 13.", "chosen": CHOSEN, "rejected": REJECTED, "margin": 0.5}
    chat = {"prompt": [user], "chosen": [{"role": "assistant", "content": CHOSEN}],
            "rejected": [{"role": "assistant", "content": REJECTED}]}
    implicit_chat = {"chosen": [user, {"role": "assistant", "content": CHOSEN}],
                     "rejected": [user, {"role": "assistant", "content": REJECTED}]}
    got = load_examples(cfg(margin=1.0), tiny_tokenizer, [("a", explicit), ("b", chat), ("c", implicit_chat)], "d")
    read = texts(tiny_tokenizer, got)
    assert read[0] == read[1] == read[2] == [
        "<|user|>Tell me about 13.<|end|><|assistant|>13 is odd.<|end|>",
        "<|user|>Tell me about 13.<|end|><|assistant|>13 is even.<|end|>"]
    assert [e.target for e in got] == [1.5, 1.0, 1.0]  # the config's margin plus a record's own
    implicit_text = {"chosen": CHOSEN, "rejected": REJECTED}  # no prompt: the response alone
    got = load_examples(cfg(on="whole"), tiny_tokenizer, [("e", implicit_text)], "d")
    assert texts(tiny_tokenizer, got) == [[f"<|assistant|>{CHOSEN}<|end|>", f"<|assistant|>{REJECTED}<|end|>"]]


def test_pointwise_records_keep_label_and_harm_in(tiny_tokenizer):
    records = [(str(i), r) for i, r in enumerate(harm_records(4, seed=0))]
    got = load_examples(cfg(objective="pointwise", on="whole"), tiny_tokenizer, records, "d")
    assert [e.target for e in got] == [1.0, 0.0, 0.0, 0.0]
    assert [e.harm_in for e in got] == [None, "reasoning", "summary", "both"]
    assert "SECRET" in texts(tiny_tokenizer, got)[1][0]
    summary_only = load_examples(cfg(objective="pointwise", on="summary"), tiny_tokenizer, records, "d")
    assert "SECRET" not in texts(tiny_tokenizer, summary_only)[1][0]  # harm hidden in the reasoning


def test_pairs_that_read_the_same_are_left_out_and_counted(tiny_tokenizer, caplog):
    same = {"prompt": "p", "chosen": CHOSEN, "rejected": CHOSEN}
    other_reasoning = {"prompt": "p", "chosen": CHOSEN, "rejected": response("different", "13 is odd.")}
    good = {"prompt": "p", "chosen": CHOSEN, "rejected": REJECTED}
    records = [("1", same), ("2", other_reasoning), ("3", good)]
    with caplog.at_level(logging.WARNING, logger="r1.reward_models.data"):
        got = load_examples(cfg(on="summary"), tiny_tokenizer, records, "data")
    assert len(got) == 1
    assert "left out 2 of 3 pairs whose chosen and rejected read the same (on=summary)" in caplog.text
    assert len(load_examples(cfg(on="whole"), tiny_tokenizer, records, "data")) == 2  # reasoning differs
    with pytest.raises(R1Error, match="data: no usable records \\(2 pairs have chosen and rejected"):
        load_examples(cfg(on="summary"), tiny_tokenizer, records[:2], "data")


def test_bad_records_are_one_line_errors_naming_where(tiny_tokenizer, tmp_path):
    def refused(match, record, **overrides):
        with pytest.raises(R1Error, match=match) as err:
            load_examples(cfg(**overrides), tiny_tokenizer, [("f.jsonl:7", record)], "data")
        assert "\n" not in str(err.value)

    refused("f.jsonl:7: missing field 'rejected'", {"prompt": "p", "chosen": CHOSEN})
    refused("f.jsonl:7: field 'label' must be true or false, got 1",
            {"prompt": "p", "completion": CHOSEN, "label": 1}, objective="pointwise")
    refused("f.jsonl:7: 'chosen' must end with the assistant's message",
            {"chosen": [{"role": "user", "content": "x"}], "rejected": REJECTED})
    refused("f.jsonl:7: chosen and rejected have different prompts",
            {"chosen": [{"role": "user", "content": "a"}, {"role": "assistant", "content": CHOSEN}],
             "rejected": [{"role": "user", "content": "b"}, {"role": "assistant", "content": REJECTED}]})
    refused("f.jsonl:7: 16 tokens exceed max_seq_len=10",  # <|user|>p<|end|><|assistant|>13 is even.<|end|>
            {"prompt": "p", "chosen": CHOSEN, "rejected": REJECTED}, max_seq_len=10)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(R1Error, match=f"data: {empty} holds no records"):
        read_records(str(empty), "train", "data")
    with pytest.raises(R1Error, match="data: .*nope.jsonl not found"):
        read_records(str(tmp_path / "nope.jsonl"), "train", "data")


def test_heldout_share_is_a_seeded_draw_and_eval_data_wins(tiny_tokenizer, tmp_path):
    data = write_jsonl(tmp_path / "p.jsonl", pair_records(20, seed=0))
    train, heldout = train_and_heldout(cfg(data=str(data), eval_fraction=0.25), tiny_tokenizer)
    assert (len(train), len(heldout)) == (15, 5)
    again = train_and_heldout(cfg(data=str(data), eval_fraction=0.25), tiny_tokenizer)[1]
    assert [e.ids for e in again] == [e.ids for e in heldout]
    other = train_and_heldout(cfg(data=str(data), eval_fraction=0.25, seed=1), tiny_tokenizer)[1]
    assert [e.ids for e in other] != [e.ids for e in heldout]
    extra = write_jsonl(tmp_path / "e.jsonl", pair_records(3, seed=5))
    train, heldout = train_and_heldout(cfg(data=str(data), eval_data=str(extra)), tiny_tokenizer)
    assert (len(train), len(heldout)) == (20, 3)
    assert json.loads(extra.read_text().splitlines()[0])["prompt"] in tiny_tokenizer.decode(heldout[0].ids[0])
