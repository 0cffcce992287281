"""An ensemble of reward models trained with different seeds: its listing and its held-out metrics.

A single helpfulness model's held-out pair accuracy moves with its seed (85-91% in the tiny world,
docs/reward-models.md): which number facts it learns to check differs from seed to seed. The mean of
several models' centred scores checks more of them. The reward-models stage trains the members
(`members: {helpfulness: 3}`), lists them in ENSEMBLE_FILE, so `rm:DIR` scores their ensemble
(r1.reward_models.reward.RewardModelEnsemble), and writes the ensemble's metrics to DIR/eval.json, as
train-rm does for one model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from accelerate import PartialState

from r1.models.load import load_tokenizer
from r1.reward_models.data import load_examples, read_records
from r1.reward_models.loss import heldout_metrics
from r1.progress import console
from r1.reward_models.model import load_for_scoring, reward_model_info, score_center, score_examples
from r1.reward_models.reward import ENSEMBLE_FILE


def write_ensemble(out: Path, configs: list[Any]) -> dict[str, Any]:
    """List the trained members (train-rm configs whose output_dirs sit under `out`) in out/ENSEMBLE_FILE,
    and score the ensemble on their shared held-out records (eval_data) into out/eval.json: the
    objective's metrics of the mean centred score, and each member's own. Returns the metrics."""
    first = configs[0]
    tokenizer = load_tokenizer(first.model)
    heldout = load_examples(first, tokenizer, read_records(first.eval_data, first.eval_split, "eval_data"),
                            "eval_data")
    device = PartialState().device
    scores = []
    for cfg in configs:  # one member in memory at a time
        final = Path(cfg.output_dir) / "final"
        model = load_for_scoring(final, device)
        scores.append(score_examples(model, heldout, tokenizer.pad_token_id, device, cfg.eval_batch_size, cfg.pool)
                      - score_center(reward_model_info(final)))  # [n, k]
        del model
    metrics = heldout_metrics(first.objective, torch.stack(scores).mean(0),
                              torch.tensor([e.target for e in heldout]), [e.harm_in for e in heldout])
    key = "pair_accuracy" if first.objective == "pairwise" else "accuracy"
    own = [json.loads((Path(cfg.output_dir) / "eval.json").read_text()).get(key) for cfg in configs]
    result = {"objective": first.objective, "on": first.on, "members": len(configs), **metrics,
              f"member_{key}": own}
    if PartialState().is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / ENSEMBLE_FILE).write_text(json.dumps(
            {"members": [Path(cfg.output_dir).name for cfg in configs]}, indent=2))
        (out / "eval.json").write_text(json.dumps(result, indent=2))
        console.print(f"reward-models: the ensemble of {len(configs)} in {out}: held-out {key} {metrics[key]:.3f} "
                      f"(each alone: {', '.join(f'{a:.3f}' for a in own)})")
    return result
