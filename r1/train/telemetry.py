"""Per-step metrics of a training stage: one JSON line each in output_dir/log.jsonl, and TensorBoard
scalars.

Every row has the stage's step keys (e.g. `r1.grpo.trainer.STEP_KEYS`); eval rows add
`eval/<benchmark>/pass@1` and friends. On resume the rows after the checkpoint's step are dropped (they will be
redone), and TensorBoard purges them; `keep_rows_until` does the same for a stage's other step logs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from r1.files import text_lines


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a log.jsonl (a torn last line is ignored)."""
    rows = []
    path = Path(path)
    if path.is_file():
        for line in text_lines(path):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def keep_rows_until(path: Path, resume_step: int) -> None:
    """Drop the rows of a step log after `resume_step`, the checkpoint's step (they will be redone); a
    fresh start (resume_step 0) keeps nothing, not even a killed run's step-0 eval."""
    if path.is_file():
        kept = [row for row in read_log(path) if resume_step and row.get("step", 0) <= resume_step]
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in kept), encoding="utf-8")


def clean(value: Any) -> Any:
    """JSON has no NaN: a float that is not finite is written as null."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


class Telemetry:
    def __init__(self, output_dir: str | Path, resume_step: int = 0, enabled: bool = True,
                 keys: tuple[str, ...] = ("step",)):
        self.enabled, self.keys = enabled, keys
        if not enabled:
            return
        out = Path(output_dir)
        self.path = out / "log.jsonl"
        keep_rows_until(self.path, resume_step)
        self.file = self.path.open("a", encoding="utf-8")
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(out / "tb"), purge_step=resume_step + 1 if resume_step else None)

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        row = {**dict.fromkeys(self.keys), "step": step, **{k: clean(v) for k, v in metrics.items()}}
        self.file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.file.flush()
        for key, value in row.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            self.writer.close()
