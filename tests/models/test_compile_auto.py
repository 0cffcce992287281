"""`compile: auto` (r1.models.fast.decide_compile): on only where compiling pays, saying which in one line."""

import shutil

import pytest

from r1.models.fast import COMPILE_PAYS_AFTER, decide_compile


def test_an_explicit_setting_is_kept(tiny_model, capsys):
    assert decide_compile(True, 1, tiny_model) is True and decide_compile(False, 10**6, tiny_model) is False
    assert capsys.readouterr().err == ""


def test_auto_compiles_long_runs_of_lean_models_only(tiny_model, capsys, monkeypatch):
    assert decide_compile("auto", COMPILE_PAYS_AFTER - 1, tiny_model) is False
    assert f"compile: off (auto: {COMPILE_PAYS_AFTER - 1} steps, it pays after about" in capsys.readouterr().err
    assert decide_compile("auto", COMPILE_PAYS_AFTER, tiny_model, budget=True) is False
    assert "a FLOPs budget decides" in capsys.readouterr().err
    assert decide_compile("auto", 10**6, object()) is False  # not a model the lean path takes
    assert "compile: off (auto: not a Hugging Face model" in capsys.readouterr().err
    if shutil.which("c++") or shutil.which("g++") or shutil.which("clang++"):
        assert decide_compile("auto", COMPILE_PAYS_AFTER, tiny_model) is True
        assert f"compile: on (auto: {COMPILE_PAYS_AFTER} steps)" in capsys.readouterr().err
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert decide_compile("auto", 10**6, tiny_model) is False
    assert "no C++ compiler found" in capsys.readouterr().err
    assert decide_compile("auto", 10**6, tiny_model, say=False) is False and capsys.readouterr().err == ""


@pytest.mark.parametrize("value, expected", [("auto", "auto"), (True, True), ("false", False)])
def test_the_setting_loads_from_a_recipe(value, expected):
    from r1.config import load_config
    from r1.grpo.config import GRPOConfig

    assert load_config(GRPOConfig, None, ["output_dir=o", "model=m", f"compile={value}"]).compile == expected
