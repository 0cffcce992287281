import pytest

from r1.errors import R1Error
from r1.models.load import load_model, load_tokenizer


def _one_line_naming(err, path):
    message = str(err.value)
    assert "\n" not in message and str(path) in message, message


@pytest.mark.parametrize("loader", [load_model, load_tokenizer])
def test_missing_directory(loader, tmp_path):
    path = tmp_path / "nowhere"
    with pytest.raises(R1Error) as err:
        loader(path)
    _one_line_naming(err, path)
    assert "does not exist" in str(err.value)


@pytest.mark.parametrize("loader", [load_model, load_tokenizer])
def test_directory_without_config(loader, tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(R1Error) as err:
        loader(tmp_path)
    _one_line_naming(err, tmp_path)
    assert "config.json" in str(err.value)


@pytest.mark.parametrize("loader", [load_model, load_tokenizer])
def test_corrupt_config(loader, tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "qwen2", "hidden_size": ')
    with pytest.raises(R1Error) as err:
        loader(tmp_path)
    _one_line_naming(err, tmp_path)


def test_field_name_in_message(tmp_path):
    with pytest.raises(R1Error, match=r"^teacher: "):
        load_model(tmp_path / "x", field="teacher")


def test_loads_the_tiny_model(tiny_model_dir, tiny_model, tiny_tokenizer):
    assert tiny_tokenizer.padding_side == "left" and tiny_tokenizer.pad_token == "<|pad|>"
    assert tiny_model.config.vocab_size == len(tiny_tokenizer)
    text = "<|user|>Use 1 4 13 to make 16.<|end|><|assistant|><think>4-1=3\n13加3得16</think>"
    assert tiny_tokenizer.decode(tiny_tokenizer.encode(text, add_special_tokens=False)) == text
