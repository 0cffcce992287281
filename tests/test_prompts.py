import pytest

from r1.errors import R1Error
from r1.models.corpus import render_chat
from r1.prompts import BOXED_SUFFIX, R1_ZERO, build_prompt


def test_chat_template(tiny_tokenizer):
    assert build_prompt(tiny_tokenizer, "Compute 1+2.") == render_chat("Compute 1+2.")
    assert build_prompt(tiny_tokenizer, "P", suffix=BOXED_SUFFIX, response_prefix="<think>") == \
        render_chat(f"P\n{BOXED_SUFFIX}") + "<think>"


def test_r1_zero_and_plain(tiny_tokenizer):
    text = build_prompt(tiny_tokenizer, "What is 2+2?", template="r1_zero")
    assert text == R1_ZERO.format(prompt="What is 2+2?")
    assert text.startswith("A conversation between User and Assistant.")
    assert text.endswith("User: What is 2+2? Assistant:")
    # before: the instruction's own period was followed by the template's ("\\boxed{}.. Assistant:")
    boxed = build_prompt(tiny_tokenizer, "Find x.", template="r1_zero", suffix=BOXED_SUFFIX)
    assert boxed.endswith("within \\boxed{}. Assistant:")
    assert build_prompt(tiny_tokenizer, "Compute 2+2", template="r1_zero").endswith("User: Compute 2+2. Assistant:")
    assert build_prompt(tiny_tokenizer, "P", template="plain", suffix="S", response_prefix="R") == "P\nSR"


def test_bad_template(tiny_tokenizer):
    with pytest.raises(R1Error, match="unknown template"):
        build_prompt(tiny_tokenizer, "P", template="fancy")


def test_chat_needs_a_chat_template(tiny_tokenizer):
    bare = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    bare.chat_template = None
    with pytest.raises(R1Error, match="chat template"):
        build_prompt(bare, "P")
