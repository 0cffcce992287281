"""`r1 pipeline -c recipe.yaml`: the stages of a recipe, in order, each into output_dir/<stage name>/.

    output_dir: runs/r1
    seed: 0
    stages:
      - name: base                      # a name of your choosing; later stages refer to it
        kind: pretrain                  # a registered stage (r1.stages): pretrain, sft, grpo, eval, ...
        recipe: pretrain.yaml           # optional: a stage recipe to start from (relative to this file)
        settings: {max_steps: 800}      # optional: fields of the stage's config, over the recipe
      - name: cold_start
        kind: sft
        settings: {model: base, data: cold_start_data}   # an earlier stage's name stands for its output

An input field (`model`, `data`, ... as the stage's registry entry lists) naming an earlier stage gets
that stage's output: output_dir/<name>/final for a model, output_dir/<name>/data.jsonl for data;
`<name>/FILE` names another file of its output (e.g. `rm_data/pairs_test.jsonl`).
`include: other.yaml` runs that recipe's stages first (its output_dir, seed and eval are defaults).
Every stage's config is built and checked before the first stage starts.

A finished stage leaves output_dir/<name>/r1_stage.json with a hash of its kind, the settings the
recipe gives it (not fields left at their defaults) and the hashes of the stages it reads from; a
re-run skips a stage whose hash is unchanged, so changing a stage re-runs it and everything downstream
of it. A stage whose hash changed starts afresh (its old
directory is kept as <name>.stale until the next such change); an interrupted stage resumes from its
own checkpoint. `--from S` re-runs S and every later stage; `--only S` runs S alone (its inputs must
have finished).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from r1.config import build_config, describe_validation_error, merge_dicts, parse_overrides, read_yaml
from r1.errors import R1Error
from r1.progress import console
from r1.prompts import Template
from r1.results import write_results
from r1.stages import Stage, get_stage

MARKER = "r1_stage.json"
DATA_FILE = "data.jsonl"  # where a data-producing stage writes its records


class StageEval(BaseModel):
    """Held-out evaluation of a model stage's final model, by `r1 eval`, into output_dir/<stage>/eval/."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    benchmarks: list[str] = Field(default_factory=list)
    """Benchmarks (e.g. tiny:arithmetic, gsm8k); empty: no evaluation."""
    n: int = Field(100, ge=1)
    """Problems per benchmark."""
    k: int = Field(8, ge=1)
    """Samples per problem."""
    temperatures: list[float] = Field(default_factory=lambda: [0.6])
    """One evaluation per temperature (the paper: 0.6, top-p 0.95)."""
    top_p: float = Field(0.95, gt=0, le=1)
    """Nucleus sampling threshold."""
    max_new_tokens: int = Field(512, ge=1)
    """Longest completion."""
    suffix: str = ""
    """Appended to each problem (the tiny models know no instruction)."""
    stop: list[str] = Field(default_factory=lambda: ["</answer>", "</summary>"])
    """Generation ends after these (either format's last tag)."""
    template: Template = "chat"
    """How problems are rendered: the tokenizer's chat template, r1_zero or plain."""
    engine: Literal["hf", "vllm"] = "hf"
    """Sampling engine (vllm: a real model on a GPU)."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """dtype of the sampling weights (auto: bf16 on a GPU that has it, else fp32)."""


class StageEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    """The stage's name: its directory under output_dir, and how later stages refer to its output."""
    kind: str
    """A registered stage: pretrain, sft, grpo, eval, ..."""
    recipe: str | None = None
    """A stage recipe (YAML) to start from, relative to the pipeline file."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """Fields of the stage's config, over the recipe; output_dir is set by the pipeline."""
    eval: bool = True
    """Evaluate this stage's model with the pipeline's `eval` settings (model stages only)."""


class PipelineRecipe(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    output_dir: str
    """Every stage writes into output_dir/<stage name>/."""
    seed: int = 0
    """The seed of every stage that sets none."""
    eval: StageEval = Field(default_factory=StageEval)
    """Held-out evaluation of every model stage, part of finishing it."""
    stages: list[StageEntry]
    """The stages, in the order they run."""


@dataclass
class Planned:
    entry: StageEntry
    stage: Stage
    config: Any  # the stage's validated config
    digest: str  # hash of kind, config and upstream digests
    out: Path

    @property
    def result(self) -> Path:
        """What later stages receive when they name this one."""
        if self.stage.produces in ("model", "reward_model"):
            return self.out / "final"
        if self.stage.produces == "data":
            return self.out / DATA_FILE
        return self.out


@dataclass
class Plan:
    recipe: PipelineRecipe
    stages: list[Planned]

    def find(self, name: str) -> Planned:
        for planned in self.stages:
            if planned.entry.name == name:
                return planned
        raise R1Error(f"pipeline: no stage named {name!r} (stages: "
                      f"{', '.join(p.entry.name for p in self.stages)})")


def load_pipeline(path: str | Path, overrides: list[str] | None = None) -> Plan:
    """Read a pipeline recipe, apply `key=value` overrides (output_dir, seed, eval.<field>, <stage>.<field>), and
    build and check every stage's config."""
    path = Path(path)
    data = _with_included(path, read_yaml(path), set())
    extra = parse_overrides(overrides or [])
    for key in ("output_dir", "seed"):
        if key in extra:
            data[key] = extra.pop(key)
    if isinstance(extra.get("eval"), dict):  # eval.<field>: the held-out evaluation of every model stage
        data["eval"] = merge_dicts(data.get("eval") or {}, extra.pop("eval"))
    try:
        recipe = PipelineRecipe(**data)
    except ValidationError as err:
        raise R1Error(describe_validation_error(err, PipelineRecipe, str(path))) from None
    names = [s.name for s in recipe.stages]
    if len(set(names)) != len(names):
        shared = sorted({n for n in names if names.count(n) > 1})
        raise R1Error(f"{path}: two stages share a name ({', '.join(shared)})")
    for name, settings in extra.items():
        if name not in names or not isinstance(settings, dict):
            raise R1Error(f"command line: override {name!r} is neither output_dir, seed, eval.<field> nor "
                          f"<stage>.<field> of a stage ({', '.join(names)})")
        entry = recipe.stages[names.index(name)]
        entry.settings = merge_dicts(entry.settings, settings)
    from r1.eval.data import load_benchmark

    for benchmark in recipe.eval.benchmarks:  # a typo here should not surface after the first stage
        load_benchmark(benchmark, n=1)
    planned: list[Planned] = []
    for entry in recipe.stages:
        planned.append(_plan_stage(path, recipe, entry, planned))
    return Plan(recipe, planned)


def _with_included(path: Path, data: dict[str, Any], seen: set[Path]) -> dict[str, Any]:
    """`include: OTHER.yaml` (relative to this file): that recipe's stages run first, and its other keys
    (output_dir, seed, eval) are defaults under this file's. Same settings, same output_dir: the same
    stages, so a run of the larger recipe skips what a run of the included one finished."""
    name = data.pop("include", None)
    if name is None:
        return data
    other_path = (path.parent / str(name)).resolve()
    if other_path in seen or other_path == path.resolve():
        raise R1Error(f"{path}: include: {name} includes itself")
    other = _with_included(other_path, read_yaml(other_path), seen | {path.resolve()})
    stages = [dict(s, recipe=str(other_path.parent / s["recipe"])) if isinstance(s, dict) and s.get("recipe")
              else s for s in other.get("stages") or []]
    merged = merge_dicts({k: v for k, v in other.items() if k != "stages"},
                         {k: v for k, v in data.items() if k != "stages"})
    return {**merged, "stages": stages + list(data.get("stages") or [])}


def _plan_stage(path: Path, recipe: PipelineRecipe, entry: StageEntry, earlier: list[Planned]) -> Planned:
    stage = get_stage(entry.kind)
    where = f"{path}: stage {entry.name!r}"
    fields: dict[str, Any] = {"seed": recipe.seed}
    if entry.recipe:
        fields = merge_dicts(fields, read_yaml(path.parent / entry.recipe))
    fields = merge_dicts(fields, entry.settings)
    if "output_dir" in entry.settings:
        raise R1Error(f"{where}: output_dir is set by the pipeline (output_dir/{entry.name})")
    out = Path(recipe.output_dir) / entry.name
    fields["output_dir"] = str(out)
    upstream: list[str] = []
    by_name = {p.entry.name: p for p in earlier}
    later = {s.name for s in recipe.stages} - set(by_name)
    for key in stage.inputs:
        if key.endswith(".*"):  # a mapping whose `rm:` values may name a stage (reward models)
            mapping = _nested(fields, key[:-2])
            for name, value in mapping.items():
                values = [_resolve_rm(v, f"{key[:-2]}.{name}", by_name, later, upstream, where)
                          for v in (value if isinstance(value, list) else [value])]
                mapping[name] = values if isinstance(value, list) else values[0]
        elif "." in key:  # a field of a mapping, e.g. a reward model's data in reward-models
            parent, _, leaf = key.rpartition(".")
            mapping = _nested(fields, parent)
            if isinstance(mapping.get(leaf), str) and mapping[leaf]:
                mapping[leaf] = _resolve(mapping[leaf], key, by_name, later, upstream, where)
        elif isinstance(fields.get(key), str) and fields[key]:
            fields[key] = _resolve(fields[key], key, by_name, later, upstream, where)
        elif isinstance(fields.get(key), list):  # several inputs, e.g. SFT data from two stages
            fields[key] = [_resolve(v, f"{key}[{i}]", by_name, later, upstream, where) if isinstance(v, str) else v
                           for i, v in enumerate(fields[key])]
    config = build_config(stage.config_class(), fields, where)
    # The hash covers the settings the recipe gives (resolved inputs included), not the whole config:
    # a new r1 version that adds a field with a default does not re-run finished stages.
    evaluation = recipe.eval.model_dump(exclude_defaults=True) if entry.eval and stage.produces == "model" else None
    digest = hashlib.sha256(json.dumps({"kind": stage.name, "settings": fields, "upstream": upstream,
                                        "eval": evaluation}, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Planned(entry, stage, config, digest, out)


def _nested(fields: dict[str, Any], dotted: str) -> dict[str, Any]:
    """fields[a][b] for "a.b", copied and set back in place; an empty dict (not set) when absent."""
    *parents, last = dotted.split(".")
    for part in parents:
        if not isinstance(fields.get(part), dict):
            return {}
        fields[part] = dict(fields[part])
        fields = fields[part]
    if not isinstance(fields.get(last), dict):
        return {}
    fields[last] = dict(fields[last])
    return fields[last]


def _resolve_rm(value: Any, key: str, by_name: dict[str, Planned], later: set[str], upstream: list[str],
                where: str) -> Any:
    """`rm:<stage>[?settings]` -> `rm:<its final model>[?settings]`; any other value unchanged."""
    if not (isinstance(value, str) and value.startswith("rm:")):
        return value
    spec, _, query = value[3:].partition("?")
    resolved = _resolve(spec, key, by_name, later, upstream, where)
    return f"rm:{resolved}" + (f"?{query}" if query else "")


def _resolve(value: str, key: str, by_name: dict[str, Planned], later: set[str], upstream: list[str],
             where: str) -> str:
    """An input naming an earlier stage (or `<stage>/FILE`) -> its path, its digest added to upstream."""
    head, _, rest = value.partition("/")
    if value in by_name:
        if by_name[value].stage.produces == "reward_models":
            raise R1Error(f"{where}: {key} names stage {value!r}, which holds several reward models; name one "
                          f"as {value}/<name> (e.g. {value}/helpfulness)")
        upstream.append(by_name[value].digest)
        return str(by_name[value].result)
    if rest and head in by_name:  # a file of an earlier stage's output, e.g. rm_data/pairs.jsonl
        upstream.append(by_name[head].digest)
        return str(by_name[head].out / rest)
    if value in later or rest and head in later:
        raise R1Error(f"{where}: {key} names stage {value!r}, which runs later; a stage reads only from "
                      "earlier stages")
    from r1.eval.data import shipped_task

    if not Path(value).exists() and not value.startswith("hf:") and not shipped_task(value):
        raise R1Error(f"{where}: {key}={value!r} is neither an earlier stage ({', '.join(by_name) or 'none'}) "
                      "nor an existing path")
    return value


def _marker(planned: Planned) -> dict[str, Any]:
    try:
        return json.loads((planned.out / MARKER).read_text())
    except (OSError, ValueError):
        return {}


def _write_marker(planned: Planned, finished: bool) -> None:
    planned.out.mkdir(parents=True, exist_ok=True)
    tmp = planned.out / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"kind": planned.stage.name, "digest": planned.digest, "finished": finished,
                               "result": str(planned.result)}, indent=2))
    tmp.replace(planned.out / MARKER)


def is_done(planned: Planned) -> bool:
    marker = _marker(planned)
    return bool(marker.get("finished")) and marker.get("digest") == planned.digest


def run_pipeline(plan: Plan, start: str | None = None, only: str | None = None) -> list[Path]:
    """Run the plan's stages in order (see the module docstring); returns each stage's result."""
    if start and only:
        raise R1Error("pipeline: give --from or --only, not both")
    names = [p.entry.name for p in plan.stages]
    first = names.index(plan.find(start).entry.name) if start else 0
    chosen = {plan.find(only).entry.name} if only else set(names[first:])
    results = []
    for index, planned in enumerate(plan.stages):
        name = planned.entry.name
        if name not in chosen:
            if not is_done(planned) and (only or index < first):
                raise R1Error(f"pipeline: stage {name!r} has not finished with this recipe's settings; "
                              "run the pipeline without --from/--only first")
            results.append(planned.result)
            continue
        forced = start is not None or only is not None
        if is_done(planned) and not forced:
            console.print(f"pipeline: {name} ({planned.stage.name}) finished earlier with these settings; skipped")
            results.append(planned.result)
            continue
        marker = _marker(planned)
        if planned.out.exists() and (forced or marker.get("digest") != planned.digest):
            _set_aside(planned.out)
        _write_marker(planned, finished=False)
        console.print(f"pipeline: {name} ({planned.stage.name}) -> {planned.out}")
        try:
            planned.stage.run_fn()(planned.config)
            if planned.entry.eval and planned.stage.produces == "model":
                evaluate_stage(plan.recipe.eval, planned)
        except R1Error as err:
            raise R1Error(f"stage {name!r}: {err}") from None
        _write_marker(planned, finished=True)
        results.append(planned.result)
    console.print(f"pipeline: all {len(plan.stages)} stages done in {plan.recipe.output_dir}")
    write_results(plan.recipe.output_dir, plan.stages)
    from r1.report import write_report  # r1.report reads run directories with this module's names

    report = write_report(plan.recipe.output_dir, order=[p.entry.name for p in plan.stages])
    console.print(f"pipeline: report in {report}")
    return results


def evaluate_stage(settings: StageEval, planned: Planned) -> None:
    """r1 eval of the stage's final model on each benchmark and temperature, into its eval/ directory
    (resumable like any r1 eval)."""
    from r1.eval.run import EvalConfig, run_eval

    for temperature in settings.temperatures:
        for benchmark in settings.benchmarks:
            out = planned.out / "eval" / f"T{temperature:g}" / benchmark.replace(":", "_")
            run_eval(EvalConfig(output_dir=str(out), model=str(planned.result), benchmark=benchmark,
                                n=settings.n, k=settings.k, temperature=temperature, top_p=settings.top_p,
                                max_new_tokens=settings.max_new_tokens, suffix=settings.suffix,
                                stop=settings.stop, template=settings.template, engine=settings.engine,
                                precision=settings.precision, seed=planned.config.seed))


def _set_aside(out: Path) -> None:
    """Move a stage directory made with other settings out of the way, keeping one old copy."""
    stale = out.with_name(out.name + ".stale")
    if stale.exists():
        shutil.rmtree(stale)
    out.rename(stale)
    console.print(f"pipeline: {out} was made with other settings; moved to {stale}, starting afresh")
