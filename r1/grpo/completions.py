"""Completions in the log, as users of TRL and verl expect: at step 1 and every `log_completions_every`
steps, the first `log_completions_prompts` groups of the step, each completion with its reward
components, total reward and advantage, one JSON line per completion in output_dir/completions.jsonl:

    {"step": 10, "group": 0, "id": "arithmetic-train-42", "prompt": "...", "answer": "632", "sample": 0,
     "completion": "<think>...</think><answer>632</answer>", "rewards": {"accuracy": 1.0, "format": 1.0},
     "reward": 1.0, "advantage": 0.866, "finished": true}

A component that does not apply to the prompt's type is null. Only the main process writes, from its
own groups. On resume the rows after the checkpoint's step are dropped, as in log.jsonl.
`r1 plot RUN_DIR --completions` renders the file as RUN_DIR/completions.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from r1.grpo.sampling import Group
from r1.train.telemetry import clean, keep_rows_until

FILE = "completions.jsonl"


class CompletionLog:
    """Appends the logged steps' completions to output_dir/completions.jsonl (a no-op when disabled)."""

    def __init__(self, cfg, resume_step: int, enabled: bool):
        self.every, self.prompts = cfg.log_completions_every, cfg.log_completions_prompts
        self.path = Path(cfg.output_dir) / FILE
        self.enabled = enabled
        if enabled:
            keep_rows_until(self.path, resume_step)

    def due(self, step: int) -> bool:
        return self.enabled and self.every > 0 and (step == 1 or step % self.every == 0)

    def write(self, step: int, stream, groups: list[Group]) -> None:
        """Log the first groups of `step` when it is due; `stream` holds their records and prompts."""
        if not self.due(step):
            return
        rows = [completion_row(step, n, stream.records[g.index], stream.prompts[g.index], g, j)
                for n, g in enumerate(groups[:self.prompts]) for j in range(len(g.rollouts))]
        with self.path.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def completion_row(step: int, group_number: int, record: dict[str, Any], prompt: str, group: Group,
                   j: int) -> dict[str, Any]:
    """The row of completion j of a group."""
    rollout = group.rollouts[j]
    return {"step": step, "group": group_number, "id": record.get("id"), "prompt": prompt,
            "answer": record.get("answer"), "prompt_type": record.get("prompt_type", "reasoning"),
            "sample": j, "completion": rollout.text,
            "rewards": {name: clean(float(scores[j])) for name, scores in group.components.items()},
            "reward": clean(float(group.rewards[j])),
            "advantage": None if group.advantages is None else clean(float(group.advantages[j])),
            "finished": rollout.finished}
