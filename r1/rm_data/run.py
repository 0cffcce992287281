"""`r1 rm-data`: helpfulness pairs and harmlessness examples for R1's reward models, labelled by the oracle.

    general prompts (drawn, or a file) -> k samples each from `model` (r1 eval's sampler and resume)
    + writer_per_prompt written responses of mixed quality -> the oracle's helpfulness (summary) and
    harmlessness (whole response) -> pairs and pointwise examples, train and held-out (test split)
    + twins_per_prompt contrast pairs per train prompt (replies that differ in one thing)
    + claim_twins_per_prompt single-claim pairs per train number prompt (one claim, true against false)
    + world_claims: single-claim pairs about every number of the world, on train-split prompts

DeepSeek-R1 trains its helpfulness and harmlessness reward models on preference data its paper does
not release; here the tiny world's hidden oracle (r1.tasks.oracle) labels candidates instead, so how
well a reward model, and RL against it, tracks the true preference can be measured.

In output_dir:
    samples.jsonl       the model's samples, appended as they finish (an interrupted run resumes; a
                        rerun with another writer, margin or balance resamples nothing)
    sampling.json       the settings that decided the samples; a resumed run must match them
    pairs.jsonl         {prompt, chosen, rejected, chosen_score, rejected_score, id, kind, *_source}
                        (source "twin": a contrast pair, with `twin`: what its replies differ in;
                        "claim" for a single-claim pair)
    pointwise.jsonl     {prompt, completion, label (true = harmless), harm_in, id, kind, source}
    pairs_test.jsonl, pointwise_test.jsonl   the same from test-split prompts (held out)
    stats.json          counts per kind and per source, ties and repeats dropped

The outputs are removed when a run starts and written at its end through temporary files renamed into
place, pairs.jsonl last: it exists, whole, only after a finished run.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from r1.config import save_config
from r1.errors import R1Error, named
from r1.eval.data import read_jsonl_lines
from r1.eval.data import done_samples
from r1.eval.run import generate_samples, open_engine, repair_torn_tail
from r1.progress import console
from r1.prompts import user_message
from r1.rejection.run import check_samples, write_atomic
from r1.rm_data.config import SAMPLING_FIELDS, RMDataConfig
from r1.rm_data.pairs import balance, pair_record, pointwise, pointwise_counts, prompt_pairs, unique
from r1.tasks.base import split_of
from r1.tasks.oracle import helpfulness, judge
from r1.tasks.writer import claim_twin, fact_names, twin_replies, write_response
from r1.train.data import write_records

STAGE = "rm-data"
OUTPUTS = ("pairs.jsonl", "pointwise.jsonl", "pairs_test.jsonl", "pointwise_test.jsonl", "stats.json")


@named(STAGE)
def run(cfg: RMDataConfig) -> Path:
    """Sample (or resume), write, label, pair; write the outputs; return pairs.jsonl.

    Every bad input or failure is an R1Error of one line that starts with the stage's name."""
    cfg.check()
    records = load_prompts(cfg)
    out = Path(cfg.output_dir)
    check_samples(out, json.loads(json.dumps({name: getattr(cfg, name) for name in SAMPLING_FIELDS})),
                  cfg.resume, OUTPUTS)
    save_config(cfg, out / "rm_data_config.yaml")
    rows = sample(cfg, records, out) if cfg.model else {}
    by_split: dict[str, dict[str, list]] = {split: {"pairs": [], "pointwise": []} for split in ("train", "test")}
    stats = new_stats(cfg, records)
    for record in records:
        candidates, repeats = unique(candidates_of(cfg, record, rows))
        prompt = user_message(record["prompt"], cfg.suffix)
        rng = random.Random(f"{cfg.seed}/{STAGE}/pairs/{record['id']}")
        pairs, ties = prompt_pairs(prompt, candidates, cfg.margin, cfg.max_pairs_per_prompt, rng)
        split = split_of(record["prompt"])
        twins = twin_pairs(cfg, record, prompt, rng) if split == "train" else []
        claims = claim_pairs(cfg, record, prompt) if split == "train" else []
        stats["twin_pairs"] += len(twins)
        stats["claim_pairs"] += len(claims)
        by_split[split]["pairs"] += pairs + twins + claims
        by_split[split]["pointwise"] += pointwise(prompt, candidates)
        tally(stats, record["kind"], candidates, len(pairs), ties, repeats)
    world = world_claim_pairs(cfg)
    stats["world_claim_pairs"] = len(world)
    by_split["train"]["pairs"] += world
    for split, data in by_split.items():
        rng = random.Random(f"{cfg.seed}/{STAGE}/balance/{split}")
        data["pointwise"] = balance(data["pointwise"], cfg.harmless_per_harmful, rng)
        stats["pairs"][split] = len(data["pairs"])
        stats["pointwise"][split] = pointwise_counts(data["pointwise"])
    check_usable(stats)
    write_records(out / "pairs_test.jsonl", by_split["test"]["pairs"])
    write_records(out / "pointwise_test.jsonl", by_split["test"]["pointwise"])
    write_records(out / "pointwise.jsonl", by_split["train"]["pointwise"])
    write_atomic(out / "stats.json", json.dumps(stats, indent=2) + "\n")
    write_records(out / "pairs.jsonl", by_split["train"]["pairs"])  # last: a whole pairs.jsonl means done
    train, test = stats["pointwise"]["train"], stats["pointwise"]["test"]
    console.print(f"{STAGE}: {stats['pairs']['train']} pairs ({stats['pairs']['test']} held out), "
                  f"{train['harmless'] + train['harmful']} pointwise examples ({train['harmful']} harmful, "
                  f"{test['harmless'] + test['harmful']} held out) -> {out}")
    return out / "pairs.jsonl"


def load_prompts(cfg: RMDataConfig) -> list[dict[str, Any]]:
    """General prompt records: `prompts` (each checked), or the tiny world's train and test draws."""
    from r1.tasks.general_prompts import check_record, general_prompt_records

    if cfg.prompts:
        lines = read_jsonl_lines(cfg.prompts, "prompts")
        if not lines:
            raise R1Error(f"prompts: {cfg.prompts} has no records")
        records = [check_record(record, f"prompts: {cfg.prompts}:{line_no}") for line_no, record in lines]
        return [{**r, "id": str(r.get("id", f"line-{line_no}"))} for (line_no, _), r in zip(lines, records)]
    test = general_prompt_records(cfg.test_prompts, "test", cfg.seed, cfg.kinds) if cfg.test_prompts else []
    return general_prompt_records(cfg.train_prompts, "train", cfg.seed, cfg.kinds) + test


def sample(cfg: RMDataConfig, records: list[dict], out: Path) -> dict[tuple[str, int], dict]:
    """The model's k samples per prompt, drawing only those samples.jsonl does not hold yet (unscored:
    the oracle labels them afterwards, so a changed oracle resamples nothing)."""
    path = out / "samples.jsonl"
    repair_torn_tail(path)
    done = done_samples(path)
    prompts = [{"id": r["id"], "problem": r["prompt"]} for r in records]
    if any((r["id"], j) not in done for r in prompts for j in range(cfg.k)):
        engine, tokenizer = open_engine(cfg)
        generate_samples(cfg, "general", prompts, done, path, engine, tokenizer, label=STAGE,
                         score=lambda task, rs, completions: [(None, None)] * len(completions))
    return done


def candidates_of(cfg: RMDataConfig, record: dict[str, Any], rows: dict[tuple[str, int], dict]
                  ) -> list[dict[str, Any]]:
    """The prompt's candidate responses (the model's samples, then the writer's), each with the oracle's
    verdicts."""
    responses = [(f"{record['id']}/model{j}", "model", cfg.response_prefix + rows[(record["id"], j)]["completion"])
                 for j in range(cfg.k) if (record["id"], j) in rows]
    rng = random.Random(f"{cfg.seed}/{STAGE}/writer/{record['id']}")
    responses += [(f"{record['id']}/writer{j}", "writer", write_response(record, cfg.writer, rng)[0])
                  for j in range(cfg.writer_per_prompt)]
    return [{"id": cid, "source": source, "response": text, "kind": record["kind"], **judge(record, text)}
            for cid, source, text in responses]


def twin_pairs(cfg: RMDataConfig, record: dict[str, Any], prompt: str, rng: random.Random
               ) -> list[dict[str, Any]]:
    """The prompt's contrast pairs: twin_replies ordered by the oracle, those past `margin` kept."""
    pairs = []
    for j in range(cfg.twins_per_prompt):
        *replies, what = twin_replies(record, rng, tuple(cfg.twin_kinds))
        twins = [{"id": f"{record['id']}/twin{j}{side}", "source": "twin", "response": text, "kind": record["kind"],
                  **judge(record, text)} for side, text in zip("ab", replies)]
        pairs += [{**pair, "twin": what} for pair in prompt_pairs(prompt, twins, cfg.margin, None, rng)[0]]
    return pairs


def claim_pairs(cfg: RMDataConfig, record: dict[str, Any], prompt: str) -> list[dict[str, Any]]:
    """The prompt's single-claim contrast pairs (none for a prompt about no number), from an rng of
    their own, so adding them changes no other pair."""
    if "n" not in record["fields"]:
        return []
    rng = random.Random(f"{cfg.seed}/{STAGE}/claims/{record['id']}")
    return [claim_pair(f"{record['id']}/claim{j}", record, prompt, rng) for j in range(cfg.claim_twins_per_prompt)]


def claim_pair(pair_id: str, record: dict[str, Any], prompt: str, rng: random.Random, name: str | None = None
               ) -> dict[str, Any]:
    """One single-claim pair: claim_twin's true reply chosen over its false twin."""
    true, false = ({"response": text, "helpfulness": helpfulness(record, text), "kind": record["kind"],
                    "source": "twin"} for text in claim_twin(record, rng, name))
    return {**pair_record(pair_id, prompt, true, false), "twin": "claim"}


def world_claim_pairs(cfg: RMDataConfig) -> list[dict[str, Any]]:
    """Single-claim pairs about every number of the world (see RMDataConfig.world_claims), on its
    train-split prompts, from an rng of their own."""
    from r1.tasks.general_prompts import NUMBERS, prompts_about

    if not cfg.world_claims:
        return []
    rng = random.Random(f"{cfg.seed}/{STAGE}/world-claims")
    pairs = []
    for n in NUMBERS:
        for i, record in enumerate(r for r in prompts_about(n, rng) if split_of(r["prompt"]) == "train"):
            prompt = user_message(record["prompt"], cfg.suffix)
            pairs += [claim_pair(f"world/{n}/{i}/{name}{j}", record, prompt, rng, name)
                      for name, count in cfg.world_claims.items() if name in fact_names(n) for j in range(count)]
    return pairs


def new_stats(cfg: RMDataConfig, records: list[dict[str, Any]]) -> dict[str, Any]:
    splits = [split_of(r["prompt"]) for r in records]
    return {"model": cfg.model, "prompts": {s: splits.count(s) for s in ("train", "test")},
            "by_kind": {}, "by_source": {}, "repeats_dropped": 0, "ties_dropped": 0, "twin_pairs": 0,
            "claim_pairs": 0, "pairs": {}, "pointwise": {}, "margin": cfg.margin}


def tally(stats: dict[str, Any], kind: str, candidates: list[dict], pairs: int, ties: int, repeats: int) -> None:
    """Add one prompt's counts to the stats (per kind, and per source with its mean oracle scores)."""
    stats["repeats_dropped"] += repeats
    stats["ties_dropped"] += ties
    per_kind = stats["by_kind"].setdefault(kind, defaultdict(int))
    per_kind["prompts"] += 1
    per_kind["pairs"] += pairs
    for c in candidates:
        per_kind["candidates"] += 1
        per_kind["harmful"] += c["harmlessness"] < 1
        per_source = stats["by_source"].setdefault(c["source"], {"candidates": 0, "helpfulness": 0.0,
                                                                 "harmful": 0, "readable": 0})
        per_source["candidates"] += 1
        per_source["helpfulness"] += c["helpfulness"]  # a sum here; a mean once every prompt is in
        per_source["harmful"] += c["harmlessness"] < 1
        per_source["readable"] += c["readable"]


def check_usable(stats: dict[str, Any]) -> None:
    """Finish the stats; refuse a result no reward model can train on."""
    for per_source in stats["by_source"].values():
        per_source["helpfulness"] = round(per_source["helpfulness"] / per_source["candidates"], 4)
    stats["by_kind"] = {kind: dict(counts) for kind, counts in sorted(stats["by_kind"].items())}
    if not stats["pairs"]["train"]:
        raise R1Error(f"no pairs could be formed from the train prompts: every helpfulness gap was below "
                      f"margin={stats['margin']} ({stats['ties_dropped']} ties); lower margin, sample more "
                      "(k) or add written responses (writer_per_prompt)")
    counts = stats["pointwise"]["train"]
    if not counts["harmful"] or not counts["harmless"]:
        which = "harmful" if not counts["harmful"] else "harmless"
        raise R1Error(f"pointwise: no {which} train example, so a harmlessness model cannot learn; include "
                      "kinds secret or secret_aside, or change writer.leaks")
