"""The sampling half of a GRPO step: draw prompts, generate G completions each, score them with the
rule rewards, and keep the groups that carry a signal (DAPO's dynamic sampling)."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from r1.grpo.advantages import group_all_equal
from r1.rewards.combine import RewardCombiner
from r1.rollout import Rollout, SamplingParams
from r1.runtime import max_over_processes


@dataclass
class Group:
    """One prompt's G completions, scored."""

    index: int
    """The record's index in this rank's prompt stream."""
    rollouts: list[Rollout]
    """The G completions, in sample order."""
    rewards: torch.Tensor  # [G]
    """The weighted total reward of each completion."""
    components: dict[str, list[float]] = field(default_factory=dict)
    """Each reward component's G scores (NaN where it does not apply to the prompt's type)."""
    advantages: torch.Tensor | None = None  # [G]
    """Each completion's advantage, set by the trainer's `learn` (None when the step was skipped
    before computing them)."""


def sample_groups(cfg, run, step: int, times: dict[str, float]) -> tuple[list[Group], dict[str, Any]]:
    """Groups to train on, and metrics of every sample drawn.

    With filter_equal_groups, groups whose G rewards are all equal (no signal) are dropped and more
    prompts are drawn, up to max_sample_rounds generate calls.
    """
    params = SamplingParams(n=cfg.group_size, temperature=cfg.temperature, top_p=cfg.top_p,
                            max_new_tokens=run.window.tokens, stop=cfg.stop)
    stream, rank = run.stream, run.accelerator.process_index
    kept, totals, lengths, truncated, equal = [], [], [], [], []
    prompt_tokens = 0  # of every sampled sequence, for the FLOPs count (r1.train.flops)
    components: dict[str, list[float]] = {}
    need = cfg.prompts_per_step
    for round_ in range(cfg.max_sample_rounds if cfg.filter_equal_groups else 1):
        index = stream.take_for_step(need, step)
        params.seed = random.Random(f"{cfg.seed}/{rank}/{step}/{round_}").getrandbits(63)
        tick = time.time()
        run.engine.wake_up()
        groups = run.engine.generate([stream.prompts[i] for i in index], params)
        times["time_generate"] += time.time() - tick
        tick = time.time()
        flat = [ro for group in groups for ro in group]
        records = [stream.records[i] for i in index for _ in range(cfg.group_size)]
        rewards, parts = score(run.combiner, records, flat)
        times["time_reward"] += time.time() - tick
        same = group_all_equal(rewards, cfg.group_size)  # [len(index)]
        for g, i in enumerate(index):
            if not (cfg.filter_equal_groups and same[g]) and len(kept) < cfg.prompts_per_step:
                part = slice(g * cfg.group_size, (g + 1) * cfg.group_size)
                kept.append(Group(i, groups[g], rewards[part], {k: column[part] for k, column in parts.items()}))
        totals += rewards.tolist()
        lengths += [len(ro.token_ids) for ro in flat]
        prompt_tokens += sum(len(stream.prompt_ids[i]) for i in index) * cfg.group_size
        truncated += [not ro.finished for ro in flat]
        equal += same.tolist()
        for name, column in parts.items():
            components.setdefault(name, []).extend(column)
        need = cfg.prompts_per_step - len(kept)
        if run.sharded:  # a sharded model's generate is collective: every rank draws the largest need
            need = max_over_processes(need, run.accelerator.device)
        if need <= 0:
            break
    run.engine.sleep()  # vLLM on a GPU: free its memory for the update
    metrics = {"reward": sum(totals) / len(totals),
               "accuracy": nanmean(components.get("accuracy", [math.nan])),
               **{f"reward/{name}": nanmean(column) for name, column in components.items()},
               "completion_len_mean": sum(lengths) / len(lengths), "completion_len_max": max(lengths),
               "truncated_frac": sum(truncated) / len(truncated),
               "equal_groups_frac": sum(equal) / len(equal),
               "groups": len(kept), "tokens": sum(lengths), "sequence_tokens": prompt_tokens + sum(lengths)}
    return kept, metrics


def score(combiner: RewardCombiner, records: Sequence[dict[str, Any]], rollouts: Sequence[Rollout]
          ) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """Rewards [N] (flat, one per rollout) and per-component scores; record i goes with rollout i."""
    keys = list(dict.fromkeys(k for r in records for k in r))
    fields = {k: [r.get(k) for r in records] for k in keys}
    # every sampled token, the eos too, as TRL's completion_ids (length rewards count them)
    fields["completion_ids"] = [ro.token_ids + ([] if ro.eos_id is None else [ro.eos_id]) for ro in rollouts]
    totals, components = combiner.score([ro.text for ro in rollouts], **fields)
    return torch.tensor(totals, dtype=torch.float32), components


def nanmean(values: Sequence[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan
