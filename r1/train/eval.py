"""Held-out evaluation of the in-memory model during a training stage, by `r1 eval`'s own code."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def evaluate_benchmarks(accelerator, model, tokenizer, sharded: bool, root: Path, benchmarks: list[str],
                        label: str, **settings: Any) -> dict[str, float]:
    """pass@1 and mean tokens per benchmark under root/<benchmark>/ (main process writes).

    settings: EvalConfig fields (n, k, temperature, max_new_tokens, template, ...). Under sharded
    parameters every process runs the eval (each forward is collective); otherwise only the main one.
    """
    from r1.eval.run import EvalConfig, fresh_dir, run_eval, training_eval_root

    metrics: dict[str, float] = {}
    with training_eval_root(root, accelerator.is_main_process, sharded) as where:
        plain = accelerator.unwrap_model(model)
        was_training = plain.training
        for benchmark in benchmarks if where else []:
            out = fresh_dir(where / benchmark.replace(":", "_"))
            summary = run_eval(EvalConfig(output_dir=str(out), model=label, benchmark=benchmark, **settings),
                               model=plain, tokenizer=tokenizer)
            metrics[f"eval/{benchmark}/pass@1"] = summary["pass@1"]
            metrics[f"eval/{benchmark}/mean_tokens"] = summary["mean_tokens"]
        plain.train(was_training)
    accelerator.wait_for_everyone()
    return metrics
