"""`r1 rejection-sample`: R1's stage-3 reasoning data, sampled from a checkpoint, ready for `r1 sft`.

    prompts (train split) -> k samples each (r1 eval's sampler: the same engines, the same resume)
    -> the correct ones (r1 eval's scoring, or the generative judge) -> filters, a cap per prompt
    -> + non-reasoning records at a set share -> output_dir/data.jsonl, output_dir/stats.json

DeepSeek-R1 (section 2.3.3) samples several responses per prompt from the reasoning-RL checkpoint,
keeps the correct ones (rules, or DeepSeek-V3 as a judge for answers rules cannot check), drops
chain-of-thought with mixed languages, long paragraphs and code blocks, and adds ~200k non-reasoning
samples to ~600k reasoning ones. Correctness here is exactly `r1 eval`'s (`r1.eval.scoring`), so
the data and the benchmark numbers never disagree about what is right.

In output_dir:
    samples.jsonl   every sample and its verdict, appended as they finish: an interrupted run
                    resumes, and a rerun with other filters, cap or mix resamples nothing
    sampling.json   the settings that decided the samples; a resumed run must match them
    data.jsonl      SFT records {id, prompt, response, source, ...} (`r1 sft data=...`)
    stats.json      how many prompts, samples, correct, removed by each filter, kept, mixed in

stats.json and data.jsonl are removed when a run starts and written at its end, each to a temporary
file renamed into place, data.jsonl last: it exists, whole, only after a finished run.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

from r1.config import save_config
from r1.errors import R1Error, named
from r1.eval.data import read_jsonl_lines
from r1.eval.data import done_samples
from r1.eval.run import generate_samples, open_engine, repair_torn_tail
from r1.eval.scoring import score_batch
from r1.progress import console
from r1.prompts import user_message
from r1.rejection.config import SAMPLING_FIELDS, RejectionConfig
from r1.rejection.filters import select
from r1.rejection.judge import Judge
from r1.train.data import write_records

STAGE = "rejection-sample"
OUTPUTS = ("data.jsonl", "stats.json")


@named(STAGE)
def run(cfg: RejectionConfig) -> Path:
    """Sample (or resume), verify, filter, cap, mix; write data.jsonl and stats.json; return data.jsonl.

    Every bad input or failure is an R1Error of one line that starts with the stage's name."""
    cfg.check()
    records = load_prompts(cfg)
    judge = Judge(cfg.judge) if cfg.scoring_task == "judge" else None
    if judge:
        for record in records:
            judge.reference(record)  # every reference is there before anything is sampled
    pool = load_non_reasoning(cfg.non_reasoning) if cfg.non_reasoning and cfg.non_reasoning_share else []
    out = Path(cfg.output_dir)
    prepare_output(cfg, out)
    rows = sample(cfg, records, out, judge)
    groups = candidate_groups(cfg, records, rows)
    kept, removed = select(groups, cfg.filters, cfg.max_per_prompt)
    stats = count(records, rows, removed, kept, judged=judge is not None)
    if not kept:
        raise R1Error(f"no sample survived, so there is no SFT data: {summary_line(stats)}; "
                      "loosen the filters or sample more (k, train_problems)")
    extra = draw_non_reasoning(pool, len(kept), cfg.non_reasoning_share, cfg.seed, cfg.non_reasoning) \
        if pool else []
    stats["non_reasoning"], stats["records"] = len(extra), len(kept) + len(extra)
    data = out / "data.jsonl"
    write_atomic(out / "stats.json", json.dumps(stats, indent=2) + "\n")
    write_records(data, [*kept, *extra])  # last: a whole data.jsonl means a finished run
    console.print(f"{STAGE}: {stats['records']} records ({len(kept)} reasoning, {len(extra)} non-reasoning) "
                  f"-> {data}; {summary_line(stats)}")
    return data


def load_prompts(cfg: RejectionConfig) -> list[dict[str, Any]]:
    """Training prompts, as GRPO loads them: `data` (its train split), or the tiny-world families'."""
    from r1.train.data import load_prompt_records

    from r1.eval.data import check_scorable

    records = load_prompt_records(cfg)
    records = records[: cfg.n] if cfg.data and cfg.n else records
    if cfg.data and cfg.scoring_task != "judge":  # the judge may do without a reference answer
        check_scorable(records, cfg.data, cfg.scoring_task)
    return records


def sampling_settings(cfg: RejectionConfig) -> dict[str, Any]:
    """What decides the samples and their verdicts (with the judge: its model and prompt too)."""
    settings = {name: getattr(cfg, name) for name in SAMPLING_FIELDS}
    if cfg.scoring_task == "judge":
        settings["judge"] = {"model": cfg.judge.model, "prompt": cfg.judge.prompt}
    return json.loads(json.dumps(settings))  # as it reads back from sampling.json


def prepare_output(cfg: RejectionConfig, out: Path) -> None:
    """Check that earlier samples in `out` may be reused, and remove any earlier finished outputs."""
    check_samples(out, sampling_settings(cfg), cfg.resume, OUTPUTS)
    save_config(cfg, out / "rejection_config.yaml")


def check_samples(out: Path, settings: dict[str, Any], resume: bool, outputs: tuple[str, ...]) -> None:
    """Refuse earlier samples in `out` drawn with other `settings` (or any, when not `resume`), remove
    the earlier finished `outputs`, and record `settings` in sampling.json. rm-data shares it."""
    samples, recorded = out / "samples.jsonl", out / "sampling.json"
    if samples.exists() and not resume:
        raise R1Error(f"{out} already holds samples and resume=false refuses to touch them; "
                      "use another output_dir or resume=true")
    if samples.exists() and recorded.is_file():
        before = json.loads(recorded.read_text())
        changed = [name for name in settings if before.get(name) != settings[name]]
        if changed:
            name = changed[0]
            raise R1Error(f"{out} holds samples drawn with {name}={before.get(name)!r}, not "
                          f"{settings[name]!r}; use another output_dir (or delete {samples.name})")
    out.mkdir(parents=True, exist_ok=True)
    for name in outputs:
        (out / name).unlink(missing_ok=True)
    write_atomic(recorded, json.dumps(settings, indent=2) + "\n")


def sample(cfg: RejectionConfig, records: list[dict], out: Path, judge: Judge | None) -> list[dict]:
    """Every (record, sample) row, drawing and scoring only those samples.jsonl does not hold yet."""
    path = out / "samples.jsonl"
    repair_torn_tail(path)
    done = done_samples(path)
    if any((str(r["id"]), j) not in done for r in records for j in range(cfg.k)):
        engine, tokenizer = open_engine(cfg)
        score = judge.score if judge else score_batch
        generate_samples(cfg, cfg.scoring_task, records, done, path, engine, tokenizer, score=score,
                         label=STAGE)
    return [done[(str(r["id"]), j)] for r in records for j in range(cfg.k)]


def candidate_groups(cfg: RejectionConfig, records: list[dict], rows: list[dict]) -> list[list[dict]]:
    """Per prompt, its correct samples as SFT records (plus the fields the filters read), in sample order."""
    by_id: dict[str, list[dict]] = {str(r["id"]): [] for r in records}
    prompts = {str(r["id"]): user_message(r["problem"], cfg.suffix) for r in records}
    for row in rows:
        if row["correct"] is True:
            rid = str(row["id"])
            by_id[rid].append({"id": f"{rid}/{row['sample']}", "prompt": prompts[rid],
                               "response": cfg.response_prefix + row["completion"],
                               "source": "reasoning", "problem_id": rid, "sample": row["sample"],
                               "tokens": row["tokens"], "finished": row["finished"]})
    return list(by_id.values())


def count(records: list[dict], rows: list[dict], removed: Counter, kept: list[dict], judged: bool
          ) -> dict[str, Any]:
    """The stats: every sample is incorrect, unparseable (judge only), removed by one filter, or kept."""
    verdicts = Counter(row["correct"] for row in rows)
    return {"prompts": len(records), "samples": len(rows), "correct": verdicts[True],
            "incorrect": verdicts[False], "judged": len(rows) if judged else 0, "unparseable": verdicts[None],
            "removed": dict(removed), "kept": len(kept),
            "prompts_kept": len({c["problem_id"] for c in kept}), "non_reasoning": 0, "records": len(kept)}


def summary_line(stats: dict[str, Any]) -> str:
    """One line of the counts, e.g. for the empty-result error."""
    removed = ", ".join(f"{name} {n}" for name, n in stats["removed"].items()) or "none"
    unparseable = f" ({stats['unparseable']} unparseable verdicts)" if stats["judged"] else ""
    return (f"{stats['samples']} samples of {stats['prompts']} prompts, {stats['correct']} correct"
            f"{unparseable}, removed by filters: {removed}, {stats['kept']} kept")


def load_non_reasoning(path: str) -> list[dict[str, Any]]:
    """SFT records from a JSONL file, each checked the way `r1 sft` will read it."""
    from r1.sft.data import conversation

    pairs = read_jsonl_lines(path, "non_reasoning")
    for line_no, record in pairs:
        conversation(record, f"non_reasoning: {path}:{line_no}")
    if not pairs:
        raise R1Error(f"non_reasoning: {path} has no records")
    return [record for _, record in pairs]


def draw_non_reasoning(pool: list[dict], kept: int, share: float, seed: int, source: str | None
                       ) -> list[dict[str, Any]]:
    """round(kept * share / (1 - share)) records of `pool`, drawn without replacement (so they make
    up `share` of the output), each marked with source=non_reasoning.

    >>> pool = [{"prompt": str(i), "response": "ok"} for i in range(10)]
    >>> len(draw_non_reasoning(pool, 6, 0.25, 0, "f.jsonl")), draw_non_reasoning(pool, 6, 0.0, 0, None)
    (2, [])
    """
    wanted = round(kept * share / (1 - share))
    if wanted > len(pool):
        raise R1Error(f"non_reasoning: {source} has {len(pool)} records, but a share of {share} beside "
                      f"{kept} reasoning records needs {wanted}; lower non_reasoning_share or add records")
    drawn = random.Random(f"{seed}/rejection/non_reasoning").sample(pool, wanted)
    return [{**record, "source": "non_reasoning"} for record in drawn]


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename: `path` is whole or absent."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
