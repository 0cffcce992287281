"""The two workers of bench/zero_time_to_accuracy.py, each run in its own fresh process: TRL's GRPOTrainer
and r1's `grpo_step`, training from the same base model on the same records, with one evaluator for both
(`HeldOut`) called every --eval-every steps on the live policy while a `TrainClock` is stopped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from grpo_common import r1_config, set_threads, trl_config

EVAL_SEED = 1234  # every eval of every run samples with this seed: only the policy differs


class TrainClock:
    """Wall and CPU seconds of training: everything since `start` except the stopped intervals (evals)."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self._tick: tuple[float, float] | None = None

    def start(self) -> None:
        self._tick = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        wall, cpu = self._tick
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self._tick = None

    def read(self) -> tuple[float, float]:
        """(wall, cpu) so far, the running interval included."""
        if self._tick is None:
            return self.wall, self.cpu
        return self.wall + time.perf_counter() - self._tick[0], self.cpu + time.process_time() - self._tick[1]


class HeldOut:
    """pass@1 on held-out arithmetic problems: one sample per problem at the training temperature and
    window, with a fixed seed, through r1's uncompiled rollout engine, scored by r1's verifier (the one
    the accuracy reward uses). The caller's RNG state is restored afterwards, so evaluating does not
    change what training samples next."""

    def __init__(self, args: argparse.Namespace, world: dict, tokenizer):
        from r1.prompts import build_prompt

        self.args, self.tokenizer = args, tokenizer
        self.records = [json.loads(line) for line in Path(world["held_out"]).read_text().splitlines()]
        self.prompts = [build_prompt(tokenizer, r["problem"], "chat") for r in self.records]

    def __call__(self, model) -> dict:
        import torch

        from r1.eval.scoring import score_batch
        from r1.rollout import HFEngine, SamplingParams

        tick = time.perf_counter()
        params = SamplingParams(n=1, temperature=self.args.temperature, top_p=1.0,
                                max_new_tokens=self.args.new_tokens, stop=list(self.args.stop), seed=EVAL_SEED)
        engine = HFEngine(model, self.tokenizer, batch_size=128, compile=False)
        with torch.random.fork_rng(devices=[]):
            rollouts = [group[0] for group in engine.generate(self.prompts, params)]
        verdicts = score_batch("tiny", self.records, [ro.text for ro in rollouts])
        return {"pass@1": sum(ok for _, ok in verdicts) / len(verdicts),
                "mean_tokens": sum(len(ro.token_ids) for ro in rollouts) / len(rollouts),
                "eval_s": time.perf_counter() - tick, "lean": engine.why_not_lean is None}


class Curve:
    """The run's record: an eval every `every` steps (and at step 0) with the clock stopped, each step's
    end on the clock, and whether to stop (target reached, or past the time cap)."""

    def __init__(self, args: argparse.Namespace, clock: TrainClock, held_out: HeldOut):
        self.args, self.clock, self.held_out = args, clock, held_out
        self.points: list[dict] = []
        self.step_ends: list[float] = []  # train wall seconds at the end of each step
        self.reached: dict | None = None

    def step_done(self, step: int, model) -> bool:
        """Record the end of `step` (0: before training); evaluate when due. True: stop training."""
        wall, cpu = self.clock.read()
        if step:
            self.step_ends.append(wall)
        if step % self.args.eval_every == 0 or wall >= self.args.max_seconds or step >= self.args.max_steps:
            self.clock.stop()
            point = {"step": step, "train_s": wall, "train_cpu_s": cpu, "perf_counter_s": time.perf_counter(),
                     **self.held_out(model)}  # the time.perf_counter() reading, evals included
            self.points.append(point)
            if self.reached is None and point["pass@1"] >= self.args.target:
                self.reached = point
            self.clock.start()
        return (self.reached is not None and self.args.stop_at_target) or wall >= self.args.max_seconds

    def result(self, label: str, setup_s: float) -> dict:
        self.clock.stop()
        return {"label": label, "setup_s": setup_s, "points": self.points, "step_ends": self.step_ends,
                "reached": self.reached, "train_s": self.clock.wall, "train_cpu_s": self.clock.cpu}


def trl_reward(tokenizer):
    """r1's reward (0.7 accuracy + 0.3 format), given the text r1's engine would give it. TRL decodes a
    completion with skip_special_tokens=True, which deletes the tiny tokenizer's <think>/<answer> tags
    (special tokens); this decodes TRL's completion_ids with them, dropping the final eos as r1 does."""
    from r1.rewards.combine import RewardCombiner

    combiner = RewardCombiner()

    def r1_reward(completions, completion_ids, **fields):
        ids = [c[:-1] if c and c[-1] == tokenizer.eos_token_id else c for c in completion_ids]
        texts = tokenizer.batch_decode(ids, skip_special_tokens=False)
        return combiner(texts, completion_ids=completion_ids, **fields)

    return r1_reward


def single_token_ids(tokenizer, stops: list[str]) -> list[int]:
    ids = [tokenizer.encode(s, add_special_tokens=False) for s in stops]
    if any(len(i) != 1 for i in ids):
        raise SystemExit(f"zero_time_to_accuracy: TRL stops only at tokens; {stops} are not single tokens")
    return [i[0] for i in ids]


def worker_trl(args: argparse.Namespace, work: Path) -> dict:
    """TRL's GRPOTrainer; the stop strings (single tokens here) join the model's eos ids, which TRL
    stops at and masks after."""
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import GRPOTrainer

    from r1.models.load import load_tokenizer
    from r1.prompts import build_prompt

    set_threads(args.threads)
    world = json.loads((work / "world.json").read_text())
    clock = TrainClock()
    clock.start()
    tokenizer = load_tokenizer(world["model_dir"])
    records = [json.loads(line) for line in Path(world["records"]).read_text().splitlines()]
    dataset = Dataset.from_list([{**r, "prompt": build_prompt(tokenizer, r["problem"], "chat")} for r in records])
    model = AutoModelForCausalLM.from_pretrained(world["model_dir"], dtype=torch.float32)
    eos = model.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [tokenizer.eos_token_id])
    model.generation_config.eos_token_id = eos + single_token_ids(tokenizer, args.stop)
    clock.stop()
    curve = Curve(args, clock, HeldOut(args, world, tokenizer))
    clock.start()

    class Eval(TrainerCallback):
        def on_step_end(self, _args, state, control, **kwargs):
            stop = curve.step_done(state.global_step, trainer.model)
            control.should_training_stop = control.should_training_stop or stop  # max_steps set it

    trainer = GRPOTrainer(model=model, reward_funcs=[trl_reward(tokenizer)], processing_class=tokenizer,
                          args=trl_config(args, work, max_steps=args.max_steps), train_dataset=dataset,
                          callbacks=[Eval()])
    setup_s = clock.read()[0]
    curve.step_done(0, trainer.model)
    trainer.train()
    label = f"trl {trl.__version__}" + (" torch_compile" if args.compile else "")
    return curve.result(label, setup_s)


def worker_r1(args: argparse.Namespace, work: Path) -> dict:
    """r1's GRPO: setup, then one `grpo_step` per step, as the trainer's loop runs it (logging,
    checkpoints and the completions log off, as TRL's are)."""
    from r1.grpo.trainer import grpo_step, setup

    set_threads(args.threads)
    world = json.loads((work / "world.json").read_text())
    clock = TrainClock()
    clock.start()
    cfg = r1_config(args, world, work / "r1", stop=list(args.stop), max_steps=args.max_steps,
                    log_completions_every=0, **(args.best if args.row == "r1-best" else {}))
    run = setup(cfg)
    setup_s = clock.read()[0]
    clock.stop()
    model = run.accelerator.unwrap_model(run.model)
    curve = Curve(args, clock, HeldOut(args, world, run.tokenizer))
    clock.start()
    curve.step_done(0, model)
    split = []  # where each step's time went, and dynamic sampling's extra rollouts
    for step in range(1, args.max_steps + 1):
        metrics = grpo_step(cfg, run, step)
        split.append({k: metrics.get(k) for k in ("time_generate", "time_update", "equal_groups_frac",
                                                   "completion_len_mean", "accuracy", "skipped")})
        if curve.step_done(step, model):
            break
    features = ", ".join(f"{k}={v}" for k, v in args.best.items()) if args.row == "r1-best" else ""
    label = f"r1 {args.row}" + (" compile" if cfg.compile else "") + (f" ({features})" if features else "")
    return {**curve.result(label, setup_s), "split": split}


WORKERS = {"trl": worker_trl, "r1": worker_r1}
