"""`r1 eval`: sample k completions per problem and report pass@1, cons@k and pass@k.

Samples are appended to `samples.jsonl` as they finish, so an interrupted eval resumes where it
stopped. Defaults follow the DeepSeek-R1 paper: T=0.6, top-p 0.95, the boxed-answer instruction.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import Field, field_validator

from r1.config import StageConfig, first_change, save_config
from r1.errors import R1Error
from r1.eval.data import check_scorable, done_samples, load_benchmark, load_data
from r1.eval.scoring import TASKS, score_batch, style
from r1.progress import console, progress_bar
from r1.prompts import BOXED_SUFFIX, Template, build_prompt
from r1.rollout import HFEngine, SamplingParams, make_engine
from r1.runtime import resolve_device, sampling_dtype
from r1.train.config import PositiveInt, Temperature, TopP


class SamplingConfig(StageConfig):
    """How a stage samples through the rollout interface (`generate_samples`): r1 eval, rejection sampling."""

    model: str
    """Local Hugging Face model directory to sample from (to evaluate it, or to draw data from it)."""
    k: PositiveInt = 16
    """Samples per problem."""
    temperature: Temperature = 0.6
    """Sampling temperature (0: greedy, every sample the most likely completion)."""
    top_p: TopP = 0.95
    """Nucleus sampling threshold, in (0, 1] (1: off)."""
    max_new_tokens: PositiveInt = 512
    """Longest completion."""
    template: Template = "chat"
    """chat (the tokenizer's template), r1_zero (the paper's plain-text template) or plain."""
    suffix: str = BOXED_SUFFIX
    """Appended to each problem (the paper's instruction by default)."""
    response_prefix: str = ""
    """Forced start of every response, e.g. "<think>\\n"."""
    stop: list[str] = ["</answer>"]
    """Generation also ends after these strings."""
    batch_size: PositiveInt = 64
    """Sequences per generate call (hf engine)."""
    engine: Literal["hf", "vllm"] = "hf"
    """Rollout engine: hf (Hugging Face generate, any machine) or vllm (needs the vllm extra)."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """dtype of the weights that sample: auto is bf16 on a GPU that has it and fp32 elsewhere (on a CPU,
    bf16 samples slower at small sizes and changes the samples); vllm gets the same dtype."""
    device: str = "auto"
    """Where the hf engine samples: auto (the first GPU when one is visible, else the CPU), cpu, cuda,
    cuda:N. vllm places itself."""

    @field_validator("device")
    @classmethod
    def _a_device(cls, value: str) -> str:
        if value != "auto":
            try:
                torch.device(value)
            except RuntimeError:
                raise ValueError("not a device: auto, cpu, cuda or cuda:N") from None
        return value


class EvalConfig(SamplingConfig):
    benchmark: str | None = None
    """gsm8k, math500, aime24, mbpp, or tiny:<family>; or give `data`."""
    data: str | None = None
    """A JSONL file, a `datasets` directory, or hf:NAME[:split]; needs `task`."""
    data_split: str = "test"
    """The split of `data` to evaluate, when it has splits (a DatasetDict directory, hf:NAME)."""
    task: str | None = None
    """How `data` is scored: math, gsm8k, code or tiny."""
    fields: dict[str, str] = Field(default_factory=dict)
    """r1's field names to the data's columns, e.g. {problem: question, answer: final_answer}; TRL's
    `prompt` (text or chat messages) stands for `problem` without one."""
    n: PositiveInt | None = None
    """Evaluate only the first n problems (tiny: how many held-out problems to draw); None: all of them
    (tiny: 200)."""
    resume: bool = True
    """Reuse the samples an earlier run wrote into output_dir, which must have used the same model
    (by content), data and sampling settings; false deletes them and starts afresh."""


MAY_CHANGE = {"output_dir", "n", "batch_size", "resume", "model"}
"""EvalConfig fields a resumed eval may change: how many problems, speed, and where the model lies (its
content is checked by fingerprint). Any other difference means the samples on disk answer another
question."""
ADDED_LATER = {name: SamplingConfig.model_fields[name].default for name in ("precision", "device")}
"""Sampling fields newer than some recorded evals: a record without one was sampled as its default does
(fp32 on a CPU), so its samples still answer the same question."""


@contextlib.contextmanager
def training_eval_root(root: Path, main: bool, sharded: bool) -> Iterator[Path | None]:
    """Where a trainer's in-training eval writes: `root` on the main process, None (skip the eval) on
    the others, except under sharded parameters (FSDP2/ZeRO-3), where every forward is collective, so
    every process runs the same eval and the others write it to a scratch directory."""
    if main:
        yield root
    elif sharded:
        with tempfile.TemporaryDirectory(prefix="r1-eval-") as scratch:
            yield Path(scratch)
    else:
        yield None


def fresh_dir(where: Path) -> Path:
    """`where`, emptied: an eval killed midway is redone from scratch."""
    if where.exists():
        shutil.rmtree(where)
    return where


def load_records(cfg: EvalConfig) -> tuple[list[dict[str, Any]], str]:
    if cfg.benchmark and cfg.data:
        raise R1Error("give either benchmark or data, not both")
    if cfg.benchmark:
        return load_benchmark(cfg.benchmark, cfg.n, cfg.seed)
    if not cfg.data:
        raise R1Error("nothing to evaluate: give benchmark=NAME or data=FILE task=T")
    if cfg.task not in TASKS:
        raise R1Error(f"task: with data, task must be one of {', '.join(TASKS)} (got {cfg.task!r})")
    from r1.train.data import prompt_record

    records = [prompt_record(r, cfg.data, cfg.fields, None)
               for r in load_data(cfg.data, split=cfg.data_split, n=cfg.n, need_problem=False)]
    check_scorable(records, cfg.data, cfg.task)
    return records, cfg.task


def check_resumable(out: Path, source: dict[str, Any], resume: bool) -> None:
    """Samples in `out` from another model, data or sampling settings are refused in one line naming
    the difference; resume=false deletes them first."""
    samples = out / "samples.jsonl"
    if not samples.exists():
        return
    if not resume:
        for name in ("samples.jsonl", "summary.json", "summary.md", "eval_source.json"):
            (out / name).unlink(missing_ok=True)
        return
    try:
        earlier = json.loads((out / "eval_source.json").read_text())
    except (OSError, ValueError):
        raise R1Error(f"output_dir: {out} holds samples whose settings were not recorded; resume=false "
                      "(--overwrite) starts afresh") from None
    earlier = {**ADDED_LATER, **earlier}
    key = first_change(earlier, source, sorted((set(source) | set(earlier)) - MAY_CHANGE))
    if key is not None:
        what = "the model's weights differ" if key == "model_fingerprint" else \
            f"{key} was {earlier.get(key)!r}, now {source.get(key)!r}"
        raise R1Error(f"output_dir: {out} holds samples of another evaluation ({what}); resume=false "
                      "(--overwrite) starts afresh, or choose another output_dir")


def repair_torn_tail(path: Path) -> None:
    """A kill mid-write leaves half a last line: drop it (that sample is redrawn), so appends start clean."""
    data = path.read_bytes() if path.is_file() else b""
    if not data or data.endswith(b"\n"):
        return
    head, newline, last = data.rpartition(b"\n")
    try:
        json.loads(last)
        path.write_bytes(data + b"\n")  # a whole row, only its newline missing
    except ValueError:
        path.write_bytes(head + newline)


def run_eval(cfg: EvalConfig, model=None, tokenizer=None) -> dict[str, Any]:
    """Generate (or resume) samples, then write summary.json and summary.md; returns the summary."""
    from r1.eval.report import summarize, write_summary
    from r1.models.load import fingerprint

    records, task = load_records(cfg)
    resolve_device(cfg.device)  # a GPU asked for where there is none fails before anything is written
    out = Path(cfg.output_dir)
    source = {**cfg.model_dump(mode="json"),
              "model_fingerprint": None if model is not None else fingerprint(cfg.model)}
    check_resumable(out, source, cfg.resume)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "eval_config.yaml")
    (out / "eval_source.json").write_text(json.dumps(source, indent=2))
    with (out / "problems.jsonl").open("w", encoding="utf-8") as f:  # so `r1 score` can re-score samples
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    samples_path = out / "samples.jsonl"
    repair_torn_tail(samples_path)
    done = done_samples(samples_path)
    if any((str(r["id"]), j) not in done for r in records for j in range(cfg.k)):
        engine, tokenizer = open_engine(cfg, model, tokenizer)
        generate_samples(cfg, task, records, done, samples_path, engine, tokenizer)
    rows = [done[(str(r["id"]), j)] for r in records for j in range(cfg.k)]
    summary = summarize(records, rows, task, cfg.k)
    write_summary(out, summary, f"{cfg.benchmark or cfg.data} · {cfg.model}")
    return summary


def evaluate_stage(cfg: EvalConfig) -> Path:
    """`run_eval` as a stage (r1.stages): returns the output directory with summary.json."""
    run_eval(cfg)
    return Path(cfg.output_dir)


def check_prompts_fit(cfg: SamplingConfig, prompts: dict[str, str], tokenizer, limit: int | None) -> None:
    """Every prompt (by record id) must leave room in the model's context for a completion: a huge one
    fails before any sampling in one line naming its record, not in a terabyte-sized allocation. Prompts
    whose max_new_tokens would run past the context are sampled (max_new_tokens is a cap most completions
    never reach), with one line saying how many."""
    if not limit:
        return
    past = 0
    encoded = tokenizer(list(prompts.values()), add_special_tokens=False).input_ids if prompts else []
    for key, ids in zip(prompts, encoded):  # one batched call: the fast tokenizer runs it in Rust
        length = len(ids)
        if length >= limit:
            raise R1Error(f"data: record {key!r}: its prompt ({length:,} tokens) leaves no room in the model's "
                          f"context of {limit} tokens")
        past += length + cfg.max_new_tokens > limit
    if past:
        console.print(f"[yellow]{past} of {len(prompts)} prompts + max_new_tokens ({cfg.max_new_tokens}) exceed the "
                      f"model's context of {limit} tokens; their completions may run past what it was trained on[/]")


def open_engine(cfg: SamplingConfig, model=None, tokenizer=None):
    """(rollout engine, tokenizer) for cfg.model: the given in-memory model, else cfg.engine's."""
    from r1.models.load import load_tokenizer

    tokenizer = tokenizer or load_tokenizer(cfg.model)
    if model is not None:
        return HFEngine(model, tokenizer, cfg.batch_size), tokenizer
    return make_engine(cfg.engine, cfg.model, cfg.batch_size, cfg.seed, sampling_dtype(cfg.precision),
                       resolve_device(cfg.device), tokenizer), tokenizer


def generate_samples(cfg: SamplingConfig, task, records, done, samples_path, engine, tokenizer,
                     score=score_batch, label: str = "eval") -> None:
    """Sample cfg.k completions per record, score them with `score(task, records, completions)` ->
    [(answer, correct)], append each row to `samples_path` and `done`. Rejection sampling shares it.

    Fixed chunks of problems, a seed per chunk: a resumed run redraws exactly the same samples."""
    per_call = max(1, cfg.batch_size // cfg.k)  # problems per generate call
    params = SamplingParams(n=cfg.k, temperature=cfg.temperature, top_p=cfg.top_p,
                            max_new_tokens=cfg.max_new_tokens, stop=cfg.stop, seed=cfg.seed)
    prompts = {str(r["id"]): build_prompt(tokenizer, r["problem"], cfg.template, cfg.suffix, cfg.response_prefix)
               for r in records}
    todo = {str(r["id"]) for r in records if any((str(r["id"]), j) not in done for j in range(cfg.k))}
    check_prompts_fit(cfg, {key: prompts[key] for key in todo}, tokenizer, engine.context_length)
    tokens, started = 0, time.time()
    with samples_path.open("a", encoding="utf-8") as f, progress_bar() as bar:
        job = bar.add_task(label, total=len(records), status="")
        for start in range(0, len(records), per_call):
            chunk = records[start : start + per_call]
            if not any(str(r["id"]) in todo for r in chunk):
                bar.update(job, advance=len(chunk))
                continue
            chunk_prompts = [prompts[str(r["id"])] for r in chunk]
            params.seed = cfg.seed + start  # resuming regenerates the same samples
            pairs = [(record, prompt, rollout)
                     for record, prompt, rollouts in zip(chunk, chunk_prompts, engine.generate(chunk_prompts, params))
                     for rollout in rollouts if (str(record["id"]), rollout.sample_index) not in done]
            verdicts = score(task, [r for r, _, _ in pairs], [ro.text for _, _, ro in pairs])
            prefilled = cfg.response_prefix.strip().startswith("<think>")
            for (record, prompt, rollout), (answer, correct) in zip(pairs, verdicts):
                row = {"id": record["id"], "sample": rollout.sample_index, "prompt": prompt,
                       "completion": rollout.text,
                       "answer": answer, "correct": correct, "tokens": len(rollout.token_ids),
                       "finished": rollout.finished, **style(rollout.text, prefilled)}
                done[(str(record["id"]), rollout.sample_index)] = row
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                tokens += len(rollout.token_ids)
            f.flush()
            rate = tokens / max(1e-9, time.time() - started)
            bar.update(job, advance=len(chunk), status=f"{rate:,.0f} tok/s")
