import string

import pytest

from r1.models.corpus import CorpusMix, render_chat, sample_documents
from r1.models.tokenizer import SPECIAL_TOKENS, TAGS, train_char_tokenizer

MIX = CorpusMix({"arithmetic": 0.4, "linear": 0.3, "countdown": 0.3}, None, cot_share=0.5,
                direct_right=0.3, zh_step_share=0.5)


@pytest.fixture(scope="module")
def docs():
    return sample_documents(MIX, 600, seed="tokenizer-test")


@pytest.fixture(scope="module")
def tokenizer(docs):
    return train_char_tokenizer(docs[:300], extra_chars=string.printable)


def test_round_trips_corpus_documents(tokenizer, docs):
    # Half the documents were not seen in training: every character must still be known.
    assert any("得" in d for d in docs) and any("<think>" in d for d in docs)
    for doc in docs:
        ids = tokenizer.encode(doc, add_special_tokens=False)
        assert tokenizer.unk_token_id not in ids, doc
        assert tokenizer.decode(ids, skip_special_tokens=False) == doc


def test_every_digit_is_its_own_token(tokenizer):
    ids = tokenizer.encode("0123456789", add_special_tokens=False)
    assert len(ids) == 10 and len(set(ids)) == 10
    assert tokenizer.convert_ids_to_tokens(ids) == list("0123456789")
    assert len(tokenizer.encode("123+4567=4690", add_special_tokens=False)) == 13


@pytest.mark.parametrize("tag", SPECIAL_TOKENS)
def test_special_tags_are_single_tokens(tokenizer, tag):
    ids = tokenizer.encode(tag, add_special_tokens=False)
    assert len(ids) == 1 and tokenizer.convert_ids_to_tokens(ids) == [tag]
    text = f"ab{tag}12"
    assert len(tokenizer.encode(text, add_special_tokens=False)) == 5


def test_tags_inside_text_stay_whole(tokenizer):
    text = render_chat("Compute 1+2.", "<think>1+2=3</think><answer>3</answer>")
    tokens = tokenizer.convert_ids_to_tokens(tokenizer.encode(text, add_special_tokens=False))
    for tag in ("<|user|>", "<|end|>", "<|assistant|>", *TAGS[:4]):
        assert tag in tokens
    assert "<" not in tokens  # no tag was spelled out character by character


def test_pad_eos_unk_are_distinct(tokenizer):
    ids = {tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id}
    assert len(ids) == 3 and None not in ids
    assert tokenizer.eos_token == "<|end|>" and tokenizer.padding_side == "left"


@pytest.mark.parametrize("prompt", ["Compute 482+201.", "Solve 3x+32=68.", "多少 ? é"])
def test_chat_template_matches_render_chat(tokenizer, prompt):
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    assert text == render_chat(prompt)
    completion = "<think></think><answer>7</answer>"
    full = tokenizer.apply_chat_template([{"role": "user", "content": prompt},
                                          {"role": "assistant", "content": completion}], tokenize=False)
    assert full == render_chat(prompt, completion)


def test_saved_and_loaded_tokenizer_keeps_everything(tiny_tokenizer, docs):
    """What pretrain saved and r1.models.load loads back is still the character tokenizer."""
    assert tiny_tokenizer.apply_chat_template([{"role": "user", "content": "Q"}], tokenize=False,
                                              add_generation_prompt=True) == render_chat("Q")
    for doc in docs[:100]:
        ids = tiny_tokenizer.encode(doc, add_special_tokens=False)
        assert tiny_tokenizer.unk_token_id not in ids
        assert tiny_tokenizer.decode(ids) == doc
    for tag in SPECIAL_TOKENS:
        assert len(tiny_tokenizer.encode(tag, add_special_tokens=False)) == 1
    assert len(tiny_tokenizer.encode("0123456789 \n", add_special_tokens=False)) == 12
