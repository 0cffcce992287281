"""Stage 4's general prompts: loading them for training, and the held-out evaluation that shows whether
RL games the reward models.

The evaluation samples held-out general prompts with the policy and scores the completions twice: with
the run's own general reward components (the reward models RL optimises) and, for the tiny world's
general prompts, with the hidden oracle (r1.tasks.oracle), which training never calls. Logged side by
side against step and KL, the two show over-optimisation (Gao et al., 2022) when the reward-model score
keeps rising while the oracle's falls.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from r1.errors import R1Error
from r1.grpo.sampling import score
from r1.prompts import build_prompt
from r1.rollout import SamplingParams
from r1.train.distributed import sum_ranks


def load_general_records(path: str, split: str) -> list[dict[str, Any]]:
    """General prompts of `path` (its `split` when it has splits), each with `problem` (from `prompt`
    when absent) and prompt_type "general"."""
    from r1.eval.data import load_data

    records = []
    for i, record in enumerate(load_data(path, split=split, need_problem=False)):
        text = record.get("problem") or record.get("prompt")
        if not isinstance(text, str) or not text:
            raise R1Error(f"{path}: record {record.get('id', i)} has no prompt (a `problem` or `prompt` field)")
        records.append({**record, "problem": text, "prompt_type": "general"})
    if not records:
        raise R1Error(f"{path}: holds no general prompts")
    return records


def _oracle_scores(records: list[dict[str, Any]], texts: list[str]) -> dict[str, list[float]]:
    """The hidden oracle's verdicts, when every record is one of the tiny world's general prompts."""
    from r1.tasks.general_prompts import KINDS
    from r1.tasks.oracle import judge

    if not all(r.get("kind") in KINDS and isinstance(r.get("fields"), dict) for r in records):
        return {}
    verdicts = [judge(r, t) for r, t in zip(records, texts)]
    return {"helpfulness": [v["helpfulness"] for v in verdicts],
            "harmlessness": [v["harmlessness"] for v in verdicts]}


def _kind(combiner, component: str) -> str:
    """"rm" for a component scored by a reward model (`rm:PATH`), "reward" for a rule."""
    spec = combiner.weights.rewards.get(component, component)
    specs = spec if isinstance(spec, list) else [spec]
    return "rm" if any(str(s).startswith("rm:") for s in specs) else "reward"


def evaluate_general(cfg, run, step: int, records: list[dict[str, Any]]) -> dict[str, float]:
    """Means over k samples of each held-out general prompt: general/rm/<component> for reward-model
    components, general/reward/<component> for rule ones, general/oracle/<verdict>; every process takes
    its share of the prompts. The main process writes the samples to eval/step_N/general.jsonl."""
    rank, world = run.accelerator.process_index, run.accelerator.num_processes
    mine = records[rank::world]
    prompts = [build_prompt(run.tokenizer, r["problem"], cfg.template, cfg.suffix, cfg.response_prefix)
               for r in mine]
    params = SamplingParams(n=cfg.general_eval_k, top_p=cfg.top_p, stop=cfg.stop,
                            temperature=cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature,
                            max_new_tokens=cfg.eval_max_new_tokens or cfg.largest_window,
                            seed=random.Random(f"{cfg.seed}/general-eval/{rank}").getrandbits(63))
    run.engine.wake_up()
    groups = run.engine.generate(prompts, params) if prompts else []
    run.engine.sleep()
    sampled = [record for record, group in zip(mine, groups) for _ in group]  # each sample's record
    rollouts = [ro for group in groups for ro in group]
    texts = [ro.text for ro in rollouts]
    scored: dict[str, list[float]] = {}
    if rollouts:  # scored exactly as training scores its rollouts
        totals, components = score(run.combiner, sampled, rollouts)
        scored = {"reward": totals.tolist(), **{f"{_kind(run.combiner, name)}/{name}": column
                                                for name, column in components.items()},
                  **{f"oracle/{name}": column for name, column in _oracle_scores(sampled, texts).items()}}
    metrics = {}
    count = sum_ranks(run.accelerator, len(rollouts))
    for name in sorted(scored):  # every rank holds the same components: the same collectives in order
        values = [v for v in scored[name] if not math.isnan(v)]
        total, n = sum_ranks(run.accelerator, sum(values)), sum_ranks(run.accelerator, len(values))
        metrics[f"general/{name}"] = total / n if n else math.nan
    if run.accelerator.is_main_process and rollouts:
        out = Path(cfg.output_dir) / "eval" / f"step_{step:06d}" / "general.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"id": r.get("id"), "kind": r.get("kind"), "prompt": r["problem"], "completion": t,
                 **{name: column[i] for name, column in scored.items()}}
                for i, (r, t) in enumerate(zip(sampled, texts))]
        out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    metrics["general/samples"] = count
    return metrics
