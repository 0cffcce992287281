"""Stage configs: recipe < overrides, and one-line errors that name the key and the file."""

from pathlib import Path

import pytest
import yaml

from r1.config import load_config, parse_overrides, save_config
from r1.errors import R1Error
from r1.eval.run import EvalConfig
from r1.models.pretrain import PretrainConfig

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def write(tmp_path, text, name="recipe.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def one_line(err):
    message = str(err.value)
    assert "\n" not in message, message
    return message


def test_parse_overrides():
    assert parse_overrides(["a.b=1", "name=x", "a.c=true", "f=0.5", "n=null", "l=[1, 2]", "s=a=b", "e="]) == {
        "a": {"b": 1, "c": True}, "name": "x", "f": 0.5, "n": None, "l": [1, 2], "s": "a=b", "e": ""}
    assert parse_overrides(["pretrain.max_steps=5", "pretrain.lr=0.001"]) == {
        "pretrain": {"max_steps": 5, "lr": 0.001}}
    assert parse_overrides(["x=: bad yaml ["]) == {"x": ": bad yaml ["}  # not YAML: kept as text


@pytest.mark.parametrize("pair", ["novalue", "=3", " =3"])
def test_malformed_override(pair):
    with pytest.raises(R1Error, match="key=value") as err:
        parse_overrides([pair])
    one_line(err)


def test_conflicting_overrides_are_an_error_not_a_crash():
    with pytest.raises(R1Error, match="a.b=2") as err:
        parse_overrides(["a=1", "a.b=2"])
    one_line(err)


def test_exponent_notation_reaches_float_fields():
    """PyYAML reads `1e-3` as text (YAML 1.1); the typed field still gets the number."""
    assert load_config(PretrainConfig, None, ["output_dir=o", "lr=1e-3"]).lr == 0.001


def test_overrides_beat_the_recipe_which_beats_defaults(tmp_path):
    path = write(tmp_path, "output_dir: from-file\nmax_steps: 7\nlr: 0.5\nfamilies: {arithmetic: 1.0}\n")
    cfg = load_config(PretrainConfig, path, ["max_steps=9", "families.linear=2"], seed=4, lr=0.1)
    assert cfg.output_dir == "from-file" and cfg.seed == 4  # default kept where nothing overrides it
    assert cfg.lr == 0.5 and cfg.max_steps == 9
    assert cfg.families == {"arithmetic": 1.0, "linear": 2.0}  # nested maps merge


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, "output_dir: d\nmax_stepz: 5\n")
    with pytest.raises(R1Error) as err:
        load_config(PretrainConfig, path)
    message = one_line(err)
    assert str(path) in message and "'max_stepz'" in message and "max_steps" in message  # known keys listed


def test_wrong_type_names_key_and_file(tmp_path):
    path = write(tmp_path, "output_dir: d\nmax_steps: lots\n")
    with pytest.raises(R1Error) as err:
        load_config(PretrainConfig, path)
    message = one_line(err)
    assert str(path) in message and "'max_steps'" in message and "lots" in message


def test_missing_required_key(tmp_path):
    path = write(tmp_path, "output_dir: d\nbenchmark: gsm8k\n")
    with pytest.raises(R1Error) as err:
        load_config(EvalConfig, path)
    message = one_line(err)
    assert str(path) in message and "missing required key 'model'" in message


def test_a_bad_override_is_blamed_on_the_command_line(tmp_path):
    path = write(tmp_path, "output_dir: d\nmax_steps: 5\n")
    with pytest.raises(R1Error) as err:
        load_config(PretrainConfig, path, ["max_steps=lots"])
    message = one_line(err)
    assert message.startswith("command line:") and "'max_steps'" in message and str(path) not in message
    with pytest.raises(R1Error, match=r"^command line: unknown key 'bogus'"):
        load_config(PretrainConfig, path, ["bogus=1"])
    with pytest.raises(R1Error, match=r"^command line: key 'families.linear'"):
        load_config(PretrainConfig, path, ["families.linear=much"])


def test_missing_recipe_file(tmp_path):
    with pytest.raises(R1Error) as err:
        load_config(PretrainConfig, tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in one_line(err) and "not found" in str(err.value)


@pytest.mark.parametrize("text, problem", [("output_dir: [unclosed\nseed: 1\n", "not valid YAML"),
                                           ("- just\n- a list\n", "mapping")])
def test_invalid_yaml(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(R1Error, match=problem) as err:
        load_config(PretrainConfig, path)
    assert str(path) in one_line(err)


def test_empty_recipe_is_an_empty_mapping(tmp_path):
    assert load_config(PretrainConfig, write(tmp_path, ""), ["output_dir=o"]).output_dir == "o"


def test_save_config_round_trips(tmp_path):
    cfg = load_config(PretrainConfig, None, ["output_dir=o", "max_steps=3", "families.linear=1.0"])
    save_config(cfg, tmp_path / "sub" / "saved.yaml")
    assert load_config(PretrainConfig, tmp_path / "sub" / "saved.yaml") == cfg


def test_assignment_is_validated():
    cfg = PretrainConfig(output_dir="o")
    with pytest.raises(ValueError):
        cfg.max_steps = "lots"


@pytest.mark.parametrize("name, cls", [("tiny/pretrain.yaml", PretrainConfig), ("tiny/eval.yaml", EvalConfig)])
def test_shipped_recipes_load(name, cls):
    raw = yaml.safe_load((RECIPES / name).read_text())
    cfg = load_config(cls, RECIPES / name)
    assert {key: getattr(cfg, key) for key in raw} == raw


@pytest.mark.parametrize("cls", [PretrainConfig, EvalConfig])
def test_every_field_is_documented(cls):
    undocumented = [name for name, field in cls.model_fields.items() if not field.description]
    assert not undocumented


def test_a_key_spelled_like_a_yaml_boolean_stays_a_key(tmp_path):
    """YAML 1.1 reads `on:` as True; the reward model's `on` field must still arrive by name."""
    from r1.reward_models.config import RewardModelConfig

    recipe = tmp_path / "rm.yaml"
    recipe.write_text("output_dir: out\nmodel: m\ndata: d.jsonl\non: whole\nresume: on\n")
    cfg = load_config(RewardModelConfig, recipe)
    assert cfg.on == "whole" and cfg.resume is True  # values keep YAML's reading
    save_config(cfg, tmp_path / "saved.yaml")  # the saved copy reads back the same way
    assert load_config(RewardModelConfig, tmp_path / "saved.yaml").on == "whole"
