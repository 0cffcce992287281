"""The reward registry: names, settings, user rewards, TRL call compatibility, and safe_call."""

import logging
import math
import sys
import textwrap
import types

import pytest

from r1.errors import R1Error
from r1.rewards.registry import (completion_texts, get_reward, list_rewards, load_reward,
                                 records_from_kwargs, register, safe_call)

BUILTINS = {"accuracy", "math_accuracy", "math_accuracy_lenient", "gsm8k_accuracy", "tiny_accuracy",
            "format_r1_zero", "format_r1_zero_prefilled", "format_readable", "format_readable_prefilled",
            "language_consistency", "language_consistency_zh", "soft_overlong_punishment",
            "soft_overlong_punishment_tiny"}


def test_builtins_are_registered():
    assert BUILTINS <= set(list_rewards())


def test_registering_a_name_twice_raises(scratch_registry):
    @register("twice")
    def first(completions, **kwargs):
        return [0.0] * len(completions)

    with pytest.raises(R1Error, match="'twice' is already registered"):
        register("twice", first)
    with pytest.raises(R1Error, match="already registered"):
        register("math_accuracy", first)


def test_settings_travel_with_the_entry(scratch_registry):
    @register("scaled", scale=3.0)
    def scaled(completions, scale=1.0, **kwargs):
        return [scale * len(text) for text in completions]

    register("scaled_half", scaled, scale=0.5)
    assert scaled(["ab"]) == [2.0]  # the decorator returns the plain function
    assert get_reward("scaled")(["ab"]) == [6.0]
    assert get_reward("scaled_half")(["ab"]) == [1.0]
    assert get_reward("scaled_half").__name__ == "scaled_half"  # TRL logs rewards by __name__
    assert scaled.__name__ == "scaled"


def test_unknown_name_lists_known_ones():
    with pytest.raises(R1Error, match="unknown reward 'nope'.*math_accuracy"):
        get_reward("nope")


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_rewards.py").write_text(textwrap.dedent("""
        def length_penalty(completions, **kwargs):
            return [-len(c) / 100 for c in completions]
        NOT_CALLABLE = 3
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_rewards"
    sys.modules.pop("my_rewards", None)


def test_load_user_reward(user_module):
    fn = get_reward(f"{user_module}:length_penalty")
    assert fn(["ab", "abcd"]) == [-0.02, -0.04]
    assert load_reward(f"{user_module}:length_penalty") is fn


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_r1:fn", "cannot import module 'no_such_module_r1'"),
    ("my_rewards:missing", "module 'my_rewards' has no attribute 'missing'"),
    ("my_rewards:NOT_CALLABLE", "'NOT_CALLABLE' is not callable"),
    ("my_rewards", "expected 'module:function'"),
    (":fn", "expected 'module:function'"),
])
def test_load_reward_errors_are_one_line(user_module, spec, message):
    with pytest.raises(R1Error) as err:
        load_reward(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_completion_texts_accepts_trl_forms():
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert completion_texts(["s", chat, [], {"role": "assistant", "content": "d"}]) == ["s", "a", "", "d"]


def test_records_keep_only_aligned_lists():
    kwargs = {"answer": ["1", "2"], "numbers": [[1, 2], [3]], "trainer_state": object(), "other": [1]}
    assert records_from_kwargs(2, kwargs) == [{"answer": "1", "numbers": [1, 2]},
                                              {"answer": "2", "numbers": [3]}]


def test_r1_rewards_take_trl_style_calls():
    # GRPOTrainer calls reward_func(prompts=..., completions=..., completion_ids=..., **dataset_columns,
    # trainer_state=...); every r1 reward must accept that.
    completions = [[{"role": "assistant", "content": "<think>7+5=12 carry 1</think><answer>12</answer>"}]]
    kwargs = dict(prompts=[[{"role": "user", "content": "Compute 7+5."}]], completion_ids=[[1, 2]],
                  answer=["12"], task=["arithmetic"], id=["t-0"], trainer_state=object(),
                  log_extra=None, log_metric=None)
    for name in BUILTINS:
        scores = get_reward(name)(completions=completions, **kwargs)
        assert len(scores) == 1 and 0.0 <= scores[0] <= 1.0, name
    assert get_reward("accuracy")(completions=completions, **kwargs) == [1.0]


def test_a_trl_style_user_reward_plugs_in(scratch_registry):
    def trl_reward(completions, **kwargs):  # the shape of TRL's own format rewards
        return [1.0 if "<answer>" in c[0]["content"] else 0.0 for c in completions]

    register("trl_style", trl_reward)
    chat = [[{"role": "assistant", "content": "<answer>1</answer>"}], [{"role": "assistant", "content": ""}]]
    assert safe_call(get_reward("trl_style"), chat, answer=["1", "2"]) == [1.0, 0.0]


def test_safe_call_zeroes_only_failing_items_and_logs_their_id(caplog):
    def fragile(completions, answer, **kwargs):
        return [1.0 / int(a) for a in answer]

    with caplog.at_level(logging.WARNING, logger="r1.rewards.registry"):
        scores = safe_call(fragile, ["a", "b", "c"], name="fragile", answer=["2", "0", "4"],
                           id=["r-1", "r-2", "r-3"], trainer_state=None)
    assert scores == [0.5, 0.0, 0.25]
    assert "fragile" in caplog.text and "r-2" in caplog.text and "r-1" not in caplog.text


def test_safe_call_catches_wrong_lengths_and_maps_none_to_nan(caplog):
    assert safe_call(lambda completions, **kw: [1.0], ["a", "b"], id=["x", "y"]) == [1.0, 1.0]
    assert safe_call(lambda completions, **kw: [], ["a"], id=["x"]) == [0.0]
    assert "returned 0 scores for 1 completions" in caplog.text
    scores = safe_call(lambda completions, **kw: [None, True], ["a", "b"])
    assert math.isnan(scores[0]) and scores[1] == 1.0


def test_code_accuracy_is_registered_lazily_from_its_module(scratch_registry, monkeypatch):
    fake = types.ModuleType("r1.rewards.code")

    def code_accuracy(completions, test_list, test_imports=None, **kwargs):
        return [1.0] * len(completions)

    fake.code_accuracy = code_accuracy
    scratch_registry.pop("code_accuracy", None)
    monkeypatch.setitem(sys.modules, "r1.rewards.code", fake)
    assert get_reward("code_accuracy") is code_accuracy
    assert "code_accuracy" in list_rewards()


def test_a_reward_that_fails_on_every_item_stops_with_one_line_not_zeros():
    """Before, a reward failing on every item (a broken setting, a server down) trained on zeros."""
    def broken(completions, **kwargs):
        raise TypeError("unhashable type: 'list'")

    with pytest.raises(R1Error, match=r"reward broken failed on every one of 3 completions: TypeError"):
        safe_call(broken, ["a", "b", "c"], id=["1", "2", "3"])
    assert safe_call(lambda c, **k: [1.0 / len(t) for t in c], ["ab", ""]) == [0.5, 0.0]  # one bad item: 0


def test_user_reward_resolves_from_the_working_directory(tmp_path, monkeypatch):
    """`r1 grpo` is a console script: its import path holds neither "" nor the directory it runs in."""
    import os

    (tmp_path / "recipe_rewards.py").write_text("def shout(completions, **kwargs):\n"
                                                "    return [float(c.isupper()) for c in completions]\n")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd(), str(tmp_path))])
    monkeypatch.chdir(tmp_path)
    try:
        assert get_reward("recipe_rewards:shout")(["YES", "no"]) == [1.0, 0.0]
    finally:
        sys.modules.pop("recipe_rewards", None)


def test_missing_user_module_says_how_to_make_it_importable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(R1Error, match="working directory .*PYTHONPATH") as err:
        load_reward("no_such_module_r1:fn")
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)
