"""Reward-model training: r1's `train-rm` against TRL's `RewardTrainer`, same pairs, model and settings.

    python bench/reward_model_vs_trl.py                          # 400 pairs, 60 steps of 16, 2 threads
    python bench/reward_model_vs_trl.py --model runs/r1/cold_start --json runs/bench/rm_vs_trl.json

What it does:
1. Writes one pairs file and one held-out pairs file (`r1.reward_models.synthetic`: the chosen summary
   states a number's parity rightly, the rejected one wrongly or off topic; a `--pairs FILE` of
   TRL-format records is split 80/20 instead), and, without `--model`, pretrains a tiny base model of
   the default tiny shape for `--pretrain-steps` steps.
2. Trains a Bradley-Terry reward model on the pairs from that model, with TRL (`trl.RewardTrainer`),
   with r1 (`r1.reward_models.trainer.train`, its lean forward) and with r1 on the model's own forward
   (`lean: false`), each in its own fresh Python process with the same thread count.
3. Scores the held-out pairs with both trained models through one scorer (r1's `rm_input` +
   `score_ids`), so pair accuracy is measured the same way for both, and prints accuracy, wall time,
   and pairs per second of the training steps. The last lines are `ratio TRL/r1 step time: X.XX` and
   `ratio r1 own forward/lean step time: X.XX`.

Fairness, setting by setting:
- Same records, same rendering: TRL gets them in its conversational form (prompt = [user message],
  chosen/rejected = [assistant message]) and renders prompt + response with the chat template; r1
  reads the whole response (`on: whole`) through the same template. The TRL worker checks that its
  token ids of the first pair equal r1's.
- Same objective (-log sigmoid(r_chosen - r_rejected), no margin, no centring term), batch size,
  steps, lr (constant, no warmup), AdamW (betas 0.9/0.999, no weight decay), clipping at 1.0, fp32, CPU,
  seed, a one-output head from AutoModelForSequenceClassification on the same directory.
- TRL's gradient checkpointing, logging, saving, evaluation and progress bars are off. Its steps are
  timed by a TrainerCallback (on_step_begin to on_step_end); r1's by its own `time_step` log column.
  Wall time is each framework's whole call: r1's `train` (data, model, steps, eval, saving final) and
  TRL's trainer construction + `train()` + `save_model`.
- Data order differs (r1's seeded stream, TRL's sampler); the held-out figure is one run per framework.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


WORKERS = ("trl", "r1", "r1-own")
"""TRL's RewardTrainer; r1 train-rm (lean forward); r1 train-rm with lean: false (the model's own forward)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="causal LM directory to start from (default: pretrain a tiny one)")
    p.add_argument("--pairs", help="TRL-format pairs JSONL (default: the synthetic parity pairs)")
    p.add_argument("--n-pairs", type=int, default=500, help="synthetic pairs in all (20%% held out)")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch threads in every process")
    p.add_argument("--pretrain-steps", type=int, default=100)
    p.add_argument("--workdir", default="runs/bench/reward_model_vs_trl")
    p.add_argument("--json", help="also write every number here")
    p.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def write_data(args: argparse.Namespace, work: Path) -> tuple[Path, Path]:
    """train.jsonl and heldout.jsonl in the workdir (80/20)."""
    from r1.reward_models.data import read_records
    from r1.reward_models.synthetic import pair_records

    if args.pairs:
        records = [r for _, r in read_records(args.pairs, "train", "pairs")]
    else:
        records = pair_records(args.n_pairs, seed=args.seed)
    cut = round(len(records) * 0.8)
    paths = work / "train.jsonl", work / "heldout.jsonl"
    for path, part in zip(paths, (records[:cut], records[cut:])):
        path.write_text("".join(json.dumps(r) + "\n" for r in part))
    return paths


def base_model(args: argparse.Namespace, work: Path) -> str:
    if args.model:
        return args.model
    from r1.models.pretrain import PretrainConfig, pretrain

    out = work / "base"
    if not (out / "final" / "config.json").is_file():
        pretrain(PretrainConfig(output_dir=str(out), max_steps=args.pretrain_steps, batch_size=16,
                                block_size=128, warmup_steps=10, save_every=0, seed=args.seed))
    return str(out / "final")


def heldout_accuracy(model, tokenizer, heldout: Path) -> float:
    """Share of held-out pairs whose chosen response outscores the rejected one (r1's scorer)."""
    from r1.reward_models.data import read_records, response
    from r1.reward_models.model import score_ids
    from r1.reward_models.render import encode, rm_input

    texts = []
    for where, record in read_records(str(heldout), "test", "heldout"):
        for key in ("chosen", "rejected"):
            prompt, text = response(record, key, where)
            texts.append(rm_input(tokenizer, prompt, text, "whole"))
    model.config.pad_token_id = tokenizer.pad_token_id
    scores = score_ids(model.eval(), encode(tokenizer, texts), tokenizer.pad_token_id, "cpu", 64).view(-1, 2)
    return float((scores[:, 0] > scores[:, 1]).float().mean())


def run_r1(args: argparse.Namespace, work: Path, model_dir: str, train: Path, heldout: Path, lean: bool = True
           ) -> dict:
    from transformers import AutoModelForSequenceClassification

    from r1.models.load import load_tokenizer
    from r1.reward_models.config import RewardModelConfig
    from r1.reward_models.trainer import train as train_rm
    from r1.train.telemetry import read_log

    out = work / ("r1" if lean else "r1-own")
    cfg = RewardModelConfig(output_dir=str(out), model=model_dir, data=str(train), eval_data=str(heldout),
                            objective="pairwise", on="whole", max_steps=args.steps, batch_size=args.batch,
                            lr=args.lr, lr_schedule="constant", warmup_steps=0, weight_decay=0.0,
                            max_grad_norm=1.0, precision="fp32", save_every=0, seed=args.seed, resume=False,
                            lean=lean)
    tick = time.perf_counter()
    final = train_rm(cfg)
    wall = time.perf_counter() - tick
    steps = [row["time_step"] for row in read_log(out / "log.jsonl")]
    model = AutoModelForSequenceClassification.from_pretrained(final)
    return {"framework": "r1 train-rm" + ("" if lean else " (lean: false)"), "wall_s": wall, "step_s": steps,
            "accuracy": heldout_accuracy(model, load_tokenizer(final), heldout),
            "own_eval": json.loads((out / "eval.json").read_text())["pair_accuracy"]}


def run_trl(args: argparse.Namespace, work: Path, model_dir: str, train: Path, heldout: Path) -> dict:
    import trl
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import RewardConfig, RewardTrainer

    from r1.models.load import load_tokenizer
    from r1.reward_models.render import encode, rm_input

    tokenizer = load_tokenizer(model_dir)
    records = [json.loads(line) for line in train.read_text().splitlines()]
    chat = [{"prompt": [{"role": "user", "content": r["prompt"]}],
             "chosen": [{"role": "assistant", "content": r["chosen"]}],
             "rejected": [{"role": "assistant", "content": r["rejected"]}]} for r in records]
    config = RewardConfig(
        output_dir=str(work / "trl"), per_device_train_batch_size=args.batch, gradient_accumulation_steps=1,
        max_steps=args.steps, learning_rate=args.lr, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.0, adam_beta1=0.9, adam_beta2=0.999, max_grad_norm=1.0, optim="adamw_torch",
        use_cpu=True, bf16=False, fp16=False, gradient_checkpointing=False, center_rewards_coefficient=None,
        logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none", disable_tqdm=True,
        dataloader_num_workers=0, seed=args.seed, data_seed=args.seed, max_length=None)

    class Timer(TrainerCallback):
        begin: float = 0.0
        steps: list[float] = []

        def on_step_begin(self, *a, **k):
            self.begin = time.perf_counter()

        def on_step_end(self, *a, **k):
            self.steps.append(time.perf_counter() - self.begin)

    timer = Timer()
    tick = time.perf_counter()
    trainer = RewardTrainer(model=model_dir, args=config, train_dataset=Dataset.from_list(chat),
                            processing_class=tokenizer, callbacks=[timer])
    first = records[0]
    ours = encode(tokenizer, [rm_input(tokenizer, chat[0]["prompt"], first["chosen"], "whole")])[0]
    assert trainer.train_dataset[0]["chosen_ids"] == ours, "TRL would tokenize the pairs differently from r1"
    trainer.train()
    trainer.save_model(str(work / "trl" / "final"))
    wall = time.perf_counter() - tick
    assert len(timer.steps) == args.steps, f"TRL ran {len(timer.steps)} steps, expected {args.steps}"
    return {"framework": f"trl {trl.__version__} RewardTrainer", "wall_s": wall, "step_s": timer.steps,
            "accuracy": heldout_accuracy(trainer.model, tokenizer, heldout)}


def worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.workdir)
    setup = json.loads((work / "setup.json").read_text())
    paths = (args, work, setup["model"], Path(setup["train"]), Path(setup["heldout"]))
    result = run_trl(*paths) if args.worker == "trl" else run_r1(*paths, lean=args.worker == "r1")
    (work / f"{args.worker}.json").write_text(json.dumps(result))


def summary_line(res: dict, batch: int) -> str:
    steps = res["step_s"]
    step_s = sum(steps) / len(steps)
    return (f"{res['framework']}: held-out pair accuracy {res['accuracy']:.3f}, wall {res['wall_s']:.1f} s, "
            f"{step_s:.3f} s/step mean, {batch / step_s:.1f} pairs/s in the steps")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    train, heldout = write_data(args, work)
    setup = {"model": base_model(args, work), "train": str(train), "heldout": str(heldout)}
    (work / "setup.json").write_text(json.dumps(setup))
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false"}
    results = {}
    for name in WORKERS:
        cmd = [sys.executable, __file__, "--worker", name, *(sys.argv[1:] if argv is None else argv)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{name} worker failed:\n{proc.stderr[-4000:]}")
        results[name] = json.loads((work / f"{name}.json").read_text())
    mean = {k: sum(r["step_s"]) / len(r["step_s"]) for k, r in results.items()}
    lines = [f"{args.steps} steps of {args.batch} pairs, lr {args.lr}, {args.threads} threads, model {setup['model']}",
             *(summary_line(results[name], args.batch) for name in WORKERS),
             f"r1's own eval.json pair accuracy: {results['r1']['own_eval']:.3f}",
             f"ratio TRL/r1 wall time: {results['trl']['wall_s'] / results['r1']['wall_s']:.2f}",
             f"ratio TRL/r1 step time: {mean['trl'] / mean['r1']:.2f}",
             f"ratio r1 own forward/lean step time: {mean['r1-own'] / mean['r1']:.2f}"]
    print("\n".join(lines))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results, "lines": lines}, indent=2))


if __name__ == "__main__":
    main()
