"""Stage configs: one pydantic model per stage, loaded from a YAML recipe plus `key=value` overrides.

Each field is documented once, by the docstring under it (pydantic turns those into descriptions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from r1.errors import R1Error
from r1.files import check_output_path, read_text


class StageConfig(BaseModel):
    """Fields every stage has."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    output_dir: str
    """Where the stage writes everything it produces (models, logs, samples)."""
    seed: int = 0
    """Seed for every random choice of the stage (data order, sampling, init)."""

    renamed: ClassVar[dict[str, str]] = {}
    """Old field name -> its new name; the old one is still accepted (a stage's deprecated keys)."""
    value_aliases: ClassVar[dict[str, dict[Any, Any]]] = {}
    """Field -> {other accepted value: the value it stands for} (e.g. another library's spelling)."""

    @field_validator("output_dir")
    @classmethod
    def _output_dir_can_be_made(cls, value: str) -> str:
        return check_output_path(value)

    @model_validator(mode="before")
    @classmethod
    def _accept_aliases(cls, data: Any) -> Any:
        """Old names to new ones and alias values to canonical ones, before any field is checked; an
        old name and its new one that disagree are refused (which one was meant is unknowable)."""
        if not isinstance(data, dict) or not (cls.renamed or cls.value_aliases):
            return data

        def canonical(field: str, value: Any) -> Any:
            aliases = cls.value_aliases.get(field, {})
            return aliases.get(value, value) if isinstance(value, (str, int, float, bool)) else value

        data = dict(data)
        for old, new in cls.renamed.items():
            if old in data:
                value = data.pop(old)
                if new in data and canonical(new, data[new]) != canonical(new, value):
                    raise ValueError(f"'{old}' = {value!r} (the old name of '{new}') and '{new}' = "
                                     f"{data[new]!r} disagree; give only '{new}'")
                data.setdefault(new, value)
        return {key: canonical(key, value) for key, value in data.items()}


C = TypeVar("C", bound=StageConfig)


def parse_overrides(pairs: list[str], source: str = "command line") -> dict[str, Any]:
    """`["a.b=1", "name=x"]` -> `{"a": {"b": 1}, "name": "x"}`; values are parsed as YAML scalars."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise R1Error(f"{source}: override {pair!r} is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise R1Error(f"{source}: override {pair!r} sets a field inside {part!r}, which an earlier "
                              "override set to a plain value")
        node[parts[-1]] = value
    return out


def merge_dicts(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_dicts(merged[key], value)
        else:
            merged[key] = value
    return merged


class RecipeLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a mapping key keeps its spelling where YAML 1.1 would read a
    boolean: `on: whole` is the key "on" (a config field), not True. Values are read as usual."""

    def construct_mapping(self, node, deep=False):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:bool":
                key_node.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise R1Error(f"{path}: recipe file not found")
    try:
        data = yaml.load(read_text(path), Loader=RecipeLoader) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise R1Error(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise R1Error(f"{path}: a recipe must be a mapping of field: value")
    return data


def load_config(cls: type[C], path: str | Path | None = None, overrides: list[str] | None = None,
                **defaults: Any) -> C:
    """Build `cls` from `defaults`, then the recipe at `path`, then `key=value` overrides."""
    data = dict(defaults)
    if path:
        data = merge_dicts(data, read_yaml(path))
    extra = parse_overrides(overrides or [])
    data = merge_dicts(data, extra)
    try:
        return cls(**data)
    except ValidationError as err:
        loc = err.errors()[0]["loc"]
        from_cli = bool(loc) and _overridden(loc, extra)
        source = str(path) if path and not from_cli else "command line"
        raise R1Error(describe_validation_error(err, cls, source)) from None


def _overridden(loc: tuple, overrides: dict) -> bool:
    """Whether the field at `loc` got its value from a command-line override (so blame that, not the file)."""
    node: Any = overrides
    for part in loc:
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
    return True


def describe_validation_error(err: ValidationError, cls: type[BaseModel], source: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "?"
    kind = first["type"]
    if kind == "extra_forbidden":
        known = ", ".join(cls.model_fields)
        return f"{source}: unknown key '{key}' for {cls.__name__} (known keys: {known})"
    if kind == "missing":
        return f"{source}: missing required key '{key}' for {cls.__name__}"
    if not first["loc"]:  # a check across fields (a model validator): its message names them
        return f"{source}: {first['msg'].removeprefix('Value error, ')}"
    value = first.get("input")
    return f"{source}: key '{key}' = {value!r}: {first['msg'].removeprefix('Value error, ')}"


def describe_fields(cls: type[BaseModel], prefix: str = "") -> str:
    """One line per field (nested models' fields as a.b): name, type, default and help text."""
    lines = []
    for name, field in cls.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            lines.append(describe_fields(kind, f"{prefix}{name}."))
            continue
        default = "required" if field.is_required() else f"default {field.get_default(call_default_factory=True)!r}"
        about = " ".join((field.description or "").split())
        lines.append(f"  {prefix}{name} ({default}): {about}")
    return "\n\n".join(lines)


def refuse_owned(where: str, fields: dict[str, Any], owned: tuple[str, ...], reason: str) -> None:
    """A stage that runs another stage with a mapping of its fields refuses those it sets itself: one
    line naming `where.<field>` and why."""
    taken = [name for name in owned if name in fields]
    if taken:
        raise R1Error(f"{where}.{taken[0]}: {reason}")


def build_config(cls: type[C], fields: dict[str, Any], where: str) -> C:
    """`cls` from `fields`, validated and then checked (its `check()`, where it has one): a bad value
    fails with one line that starts with `where`, before any work starts."""
    try:
        config = cls(**fields)
    except ValidationError as err:
        raise R1Error(describe_validation_error(err, cls, where)) from None
    if hasattr(config, "check"):
        try:
            config.check()
        except R1Error as err:
            raise R1Error(f"{where}: {err}") from None
    return config


def first_change(before: dict[str, Any], now: dict[str, Any], keys) -> str | None:
    """The first of `keys` whose value differs between two config dumps (lists and tuples alike, as
    YAML has only lists); None when they agree. Resumed runs and resumed evals both ask this."""
    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return next((key for key in keys if plain(before.get(key)) != plain(now.get(key))), None)


def save_config(config: StageConfig, path: str | Path) -> None:
    """Write the resolved config beside a stage's outputs, so a run records what it used."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(config.model_dump(), sort_keys=False))
