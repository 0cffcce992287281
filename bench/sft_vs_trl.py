"""SFT tokens per second: r1's `sft_step` (the `r1 sft` stage) against TRL's `SFTTrainer`, same model, data
and settings.

    pip install -e ".[bench]"
    python bench/sft_vs_trl.py                        # tiny Llama, 32 records/step, 1 thread
    python bench/sft_vs_trl.py --rounds 2 --json runs/bench/sft_vs_trl.json
    python bench/sft_vs_trl.py --shape stand-in       # Qwen2.5's layout shrunk (r1.models.stand_in)
    python bench/sft_vs_trl.py --shape qwen2.5-0.5b --layers 2 --batch 4 --steps 3

What it does:
1. Builds, in a scratch directory, a model and its tokenizer: `tiny` (the default) is r1's character
   tokenizer and a randomly initialised Llama of the tiny pretraining shape
   (`r1.models.pretrain.build_model`, 1.8M parameters); `stand-in` and `qwen2.5-0.5b` are
   `r1.models.stand_in`'s Qwen2 layout with a byte-level BPE tokenizer and ChatML (`--layers` shrinks
   the depth). The data are the tiny world's cold-start records (`r1.tasks.cold_start`, what
   `r1 tasks cold-start` writes): prompt = a problem, response = a worked solution.
2. Runs `--warmup + --steps` optimizer steps of TRL's SFTTrainer and of r1's SFT (`r1.sft.trainer.setup`,
   then `sft_step` per step), each in its own fresh Python process with the same thread count, and
   reports the median seconds per timed step (warm-up steps discarded), trained (completion) tokens per
   second and all (prompt + completion) tokens per second, and where each step's time goes (collation,
   forward + loss, backward, clipping, optimizer step), timed from outside without changing what runs.
3. Runs r1 a second time with its own padding saver, `sort_by_length` and `--sorted-accum` micro-batches
   per step ("r1 sorted"): the same records per optimizer step and the same gradient (the loss is
   normalised by the step's completion tokens, whatever the micro-batches), less padding.
4. Runs TRL with its own ways to pad less, so r1's best meets TRL's best (TRL_VARIANTS): "TRL sorted"
   (r1 sorted's micro-batches given to TRL: each step's records sorted by length, read sequentially,
   --sorted-accum gradient-accumulation steps; the same tokens per micro-batch as r1 sorted),
   "TRL group_by_length" (TRL's `train_sampling_strategy="group_by_length"`: batches of similar
   length across the whole dataset, so its steps train other records: compared by tokens over all
   timed steps), and, only with `--only trl_padding_free`, TRL's `padding_free` (one flattened row
   per batch; without flash attention on a CPU). The "best against best" lines compare r1's fastest
   run with TRL's fastest by trained tokens per second over all timed steps, by CPU and by wall seconds.
The last line is `ratio r1/TRL tokens/s: X.XX` (> 1: r1 faster), like for like; the line before it is
r1 sorted's ratio. `--json PATH` also writes every number.

Fairness, setting by setting:
- Same model directory and tokenizer, fp32 (TRL's bf16 default off), CPU, the same `torch.set_num_threads`
  (and OMP_NUM_THREADS) in every process, one process per framework (TRL patches a fused LM head onto
  the model it trains; nothing of it reaches r1's process).
- Same token sequences: each prompt is rendered once with the tokenizer's chat template (r1's
  template=chat, `r1.prompts.build_prompt`) and given to TRL as prompt/completion text; TRL appends eos
  to the completion as r1 does. The TRL worker checks that every tokenized row of TRL's dataset equals
  r1's (input ids, and labels: -100 on the prompt). Loss on completions only in both (TRL
  completion_only_loss), each step's loss the token mean over its completion tokens.
- Same batches: TRL gets the records in the order r1's seeded stream draws them and reads them
  sequentially (train_sampling_strategy="sequential"), so step k of both frameworks trains the same
  records in the same order; both workers count the completion tokens of every step and the parent
  refuses to report when they differ.
- Same padding: r1's sort_by_length off (TRL does not sort a batch), both pad each batch to its longest
  row, no padding_free, no packing, no pad_to_multiple_of, max length = r1's max_seq_len (nothing is
  truncated). Gradient checkpointing off in both (TRL's default is on), grad_accum 1, one process.
- Same optimizer: torch AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0), constant lr, no warmup,
  gradient clipping at 1.0.
- TRL logging, saving, evaluation and progress bars are off; a TRL step is the time from one step's end
  to the next (data loading and all of the trainer's work between optimizer steps included), an r1 step
  the wall time of one `sft_step` call. TRL's SFTTrainer also computes its per-step entropy and token
  accuracy metrics, as it always does; they are part of its step.
- The median over timed steps is the headline (the mean is printed too); tokens/s = mean tokens per
  timed step / median seconds per step. No torch.compile in either.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import string
import time
from pathlib import Path

from grpo_common import machine, quiet_transformers, set_threads, summary, versions
from grpo_common import main as run_bench
from grpo_workers import Peaks, memory_mb, memory_report, trl_timer

HERE = Path(__file__).resolve()
PHASES = ("collate", "forward", "backward", "clip", "optimizer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", choices=["tiny", "stand-in", "qwen2.5-0.5b"], default="tiny",
                   help="tiny: the tiny world's Llama; stand-in / qwen2.5-0.5b: r1.models.stand_in's Qwen2")
    p.add_argument("--layers", type=int, help="decoder layers of the stand-in shapes (default: the shape's)")
    p.add_argument("--batch", type=int, default=32, help="records per optimizer step")
    p.add_argument("--max-seq-len", type=int, default=512, help="longest prompt + completion + eos")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--steps", type=int, default=6, help="timed steps per framework")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before them")
    p.add_argument("--threads", type=int, default=1, help="torch threads in every process")
    p.add_argument("--rounds", type=int, default=1,
                   help="run TRL and r1 alternately this many times each and pool their timed steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sorted-accum", type=int, default=4,
                   help="micro-batches per step of the r1_sorted run (sort_by_length on)")
    p.add_argument("--only", choices=list(WORKERS), action="append",
                   help=f"run only these (repeatable); default {' '.join(DEFAULT)}")
    p.add_argument("--workdir", help="scratch directory (default: a temporary one, removed)")
    p.add_argument("--json", help="write every number to this JSON file")
    p.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = args.only or DEFAULT
    return args


# ---------------------------------------------------------------------------------------------------
# The world: a model directory and the cold-start records.


def build_model_dir(args: argparse.Namespace, work: Path, texts: list[str]) -> tuple[Path, int]:
    """The model directory of `--shape` and its parameter count."""
    import torch

    if args.shape != "tiny":
        from r1.models.stand_in import StandInConfig, build

        out = build(StandInConfig(output_dir=str(work / "stand-in"), shape="tiny" if args.shape == "stand-in"
                                  else args.shape, layers=args.layers, seed=args.seed))
        return out, json.loads((out / "r1_final.json").read_text())["parameters"]
    from r1.models.corpus import CorpusMix, sample_documents
    from r1.models.pretrain import PretrainConfig, build_model
    from r1.models.tokenizer import train_char_tokenizer

    cfg = PretrainConfig(output_dir=str(work / "model"))  # the tiny pretraining shape
    mix = CorpusMix(cfg.families, cfg.difficulty, cfg.cot_share, cfg.direct_right, cfg.zh_step_share)
    # the records' own characters too, so no response character maps to <unk>
    tokenizer = train_char_tokenizer([*sample_documents(mix, 2000, f"{args.seed}/tokenizer"), *texts],
                                     extra_chars=string.printable)
    torch.manual_seed(args.seed)
    model = build_model(cfg, len(tokenizer), tokenizer.pad_token_id, tokenizer.eos_token_id)
    model.save_pretrained(work / "model")
    tokenizer.save_pretrained(work / "model")
    return work / "model", sum(p.numel() for p in model.parameters())


def build_world(args: argparse.Namespace, work: Path) -> dict:
    from r1.tasks.cold_start import cold_start_records

    quiet_transformers()
    records = [{"prompt": r["prompt"], "response": r["response"]}
               for r in cold_start_records(args.batch * (args.warmup + args.steps), args.seed)]
    (work / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    model_dir, parameters = build_model_dir(args, work, [t for r in records for t in r.values()])
    from r1.models.load import load_tokenizer

    return {"model_dir": str(model_dir), "records": str(work / "records.jsonl"), "n_records": len(records),
            "parameters": parameters, "vocab": len(load_tokenizer(str(model_dir)))}


def r1_config(args: argparse.Namespace, world: dict, out: Path, sort: bool = False):
    """r1's SFTConfig; `sort`: sort_by_length with --sorted-accum micro-batches (the same records and
    gradient per step, less padding), else one micro-batch in the drawn order, as TRL."""
    from r1.sft.config import SFTConfig

    return SFTConfig(
        output_dir=str(out), model=world["model_dir"], data=world["records"], template="chat", suffix="",
        max_seq_len=args.max_seq_len, overlong="refuse", batch_size=args.batch,
        grad_accum=args.sorted_accum if sort else 1, max_steps=args.warmup + args.steps, sort_by_length=sort,
        lr=args.lr, lr_schedule="constant",
        warmup_steps=0, weight_decay=0.0, adam_betas=(0.9, 0.999), max_grad_norm=1.0, precision="fp32",
        save_every=0, eval_benchmarks=[], seed=args.seed)


def trl_config(args: argparse.Namespace, work: Path, variant: str = "plain"):
    """TRL's SFTConfig with the shape, loss and optimizer of `r1_config`; `variant` (see TRL_VARIANTS)
    switches on one of TRL's own ways to pad less."""
    from trl import SFTConfig as TRLConfig

    accum = args.sorted_accum if variant == "sorted" else 1
    return TRLConfig(
        output_dir=str(work / "trl"), per_device_train_batch_size=args.batch // accum,
        gradient_accumulation_steps=accum,
        max_steps=args.warmup + args.steps, learning_rate=args.lr, lr_scheduler_type="constant",
        warmup_steps=0, weight_decay=0.0, adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8,
        max_grad_norm=1.0, optim="adamw_torch", completion_only_loss=True, packing=False,
        padding_free=variant == "padding_free", pad_to_multiple_of=None,
        # TRL refuses max_length without packing when padding-free (r1 refuses overlong records: none is cut)
        max_length=None if variant == "padding_free" else args.max_seq_len,
        train_sampling_strategy="group_by_length" if variant == "grouped" else "sequential",
        use_cpu=True, bf16=False, fp16=False, gradient_checkpointing=False, torch_compile=False,
        logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none", disable_tqdm=True,
        dataloader_num_workers=0, seed=args.seed, data_seed=args.seed)


TRL_VARIANTS = {
    "plain": "one padded batch of the step's records in r1's order (like for like with r1)",
    "sorted": "r1 sorted's micro-batches: each step's records sorted by length, --sorted-accum micro-batches "
              "(gradient accumulation), read sequentially; the same records and micro-batches as r1 sorted",
    "grouped": "TRL's own train_sampling_strategy=group_by_length: batches of similar length drawn across the "
               "whole dataset, so a step trains other records than r1's",
    "padding_free": "TRL's padding_free: each batch flattened into one row with position ids (no padding); "
                    "off by default: without flash attention this runs attention over the whole flattened row",
}


# ---------------------------------------------------------------------------------------------------
# Workers: one fresh process each.


def step_records(cfg, n_examples: int, steps: int) -> list[int]:
    """Indices of the records r1 trains on, step by step, in its order."""
    from r1.train.data import RecordStream

    stream = RecordStream(n_examples, f"{cfg.seed}/sft")  # as r1.sft.trainer.setup draws them
    return stream.window(0, steps * cfg.batch_size)


def check_same_rows(trl_rows, examples, order: list[int]) -> None:
    """TRL's tokenized dataset must hold r1's rows, in r1's order: the same ids and labels."""
    assert len(trl_rows) == len(order), (len(trl_rows), len(order))
    for k, i in enumerate(order):
        e, row = examples[i], trl_rows[k]
        assert row["input_ids"] == e.prompt_ids + e.response_ids, f"row {k}: TRL's token ids differ from r1's"
        assert row["labels"] == e.labels(), f"row {k}: TRL's labels (loss positions) differ from r1's"


def step_order(cfg, examples, order: list[int], variant: str) -> list[int]:
    """The records in the order TRL reads them: r1's, or for "sorted" each step's sorted by length
    (a stable sort, as r1.sft.trainer.step_micro_batches sorts them)."""
    if variant != "sorted":
        return order
    n = cfg.batch_size
    return [i for k in range(0, len(order), n) for i in sorted(order[k : k + n], key=lambda i: len(examples[i]))]


def per_step(values: list, calls_per_step: int, steps: int) -> list:
    """Per-call numbers (one per micro-batch) summed per optimizer step."""
    return [sum(values[k * calls_per_step : (k + 1) * calls_per_step]) for k in range(steps)]


def worker_trl(args: argparse.Namespace, work: Path, variant: str = "plain") -> dict:
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    from r1.models.load import load_tokenizer
    from r1.prompts import build_prompt
    from r1.sft.data import load_examples, read_records

    set_threads(args.threads)
    world = json.loads((work / "world.json").read_text())
    cfg = r1_config(args, world, work / "r1")
    tokenizer = load_tokenizer(world["model_dir"])
    examples, records = load_examples(cfg, tokenizer), [r for _, r in read_records(cfg)]
    order = step_order(cfg, examples, step_records(cfg, len(examples), args.warmup + args.steps), variant)
    dataset = Dataset.from_list([{"prompt": build_prompt(tokenizer, records[i]["prompt"], "chat"),
                                  "completion": records[i]["response"]} for i in order])
    model = AutoModelForCausalLM.from_pretrained(world["model_dir"], dtype=torch.float32)
    peaks = Peaks()
    timer = trl_timer(peaks)
    trl_args = trl_config(args, work, variant)
    trainer = SFTTrainer(model=model, args=trl_args, train_dataset=dataset,
                         processing_class=tokenizer, callbacks=[timer])
    timer.trainer = trainer
    check_same_rows(trainer.train_dataset, examples, order)
    trained, everything, padded = [], [], []

    def count(batch):
        trained.append(int((batch["labels"] != -100).sum()))
        real = batch.get("attention_mask")  # padding-free batches have none: every token is real
        everything.append(int(real.sum()) if real is not None else batch["input_ids"].numel())
        padded.append(batch["input_ids"].numel())
        return batch

    # TRL collates a step's batch before its on_step_begin (one ahead, as accelerate's loader prefetches),
    # so collation is timed per call rather than by Peaks' step
    collate = Stopwatch(lambda rows, c=trainer.data_collator: count(c(rows)))
    trainer.data_collator = collate
    trainer.compute_loss = peaks.timed("forward", trainer.compute_loss)
    trainer.accelerator.backward = peaks.timed("backward", trainer.accelerator.backward)
    trainer.accelerator.clip_grad_norm_ = peaks.timed("clip", trainer.accelerator.clip_grad_norm_)
    trainer.train()
    total = args.warmup + args.steps
    assert len(timer.end) == total, f"TRL ran {len(timer.end)} steps, expected {total}"
    times = [timer.end[i] - (timer.end[i - 1] if i else timer.begin[0]) for i in range(total)]
    cpu = [timer.cpu_end[i] - (timer.cpu_end[i - 1] if i else timer.cpu_begin[0]) for i in range(total)]
    accum = trl_args.gradient_accumulation_steps  # collations per step
    label = f"trl {trl.__version__} SFTTrainer" + ("" if variant == "plain" else f", {variant}")
    return result(label, timer.threads[-1], args, times, cpu,
                  *(per_step(x, accum, total) for x in (trained, everything, padded)), peaks,
                  per_step(collate.seconds, accum, total), memory_report(timer.setup_mb, timer.step_peak_mb))


def worker_r1(args: argparse.Namespace, work: Path, sort: bool = False) -> dict:
    import torch

    import r1
    from r1.sft import trainer

    set_threads(args.threads)
    world = json.loads((work / "world.json").read_text())
    out = work / ("r1_sorted" if sort else "r1")
    shutil.rmtree(out, ignore_errors=True)  # an earlier round's config there would be refused
    cfg = r1_config(args, world, out, sort)
    run = trainer.setup(cfg)
    setup_mb = memory_mb()
    peaks = Peaks()
    padded = []

    def micro_batches(*a):
        parts, total = step_micro_batches(*a)
        padded.append(sum(p.input_ids.numel() for p in parts))
        return parts, total

    step_micro_batches = trainer.step_micro_batches
    collate = Stopwatch(micro_batches)
    trainer.step_micro_batches = collate
    trainer.response_nll = peaks.timed("forward", trainer.response_nll)
    run.accelerator.backward = peaks.timed("backward", run.accelerator.backward)
    run.accelerator.clip_grad_norm_ = peaks.timed("clip", run.accelerator.clip_grad_norm_)
    run.optimizer.step = peaks.timed("optimizer", run.optimizer.step)
    times, cpu, trained, everything, step_peaks = [], [], [], [], []
    for step in range(1, args.warmup + args.steps + 1):
        index = run.stream.window((step - 1) * cfg.batch_size, cfg.batch_size)
        trained.append(sum(run.examples[i].trained for i in index))
        peaks.start_step()
        tick, cpu_tick = time.perf_counter(), time.process_time()
        metrics = trainer.sft_step(cfg, run, step)
        times.append(time.perf_counter() - tick)
        cpu.append(time.process_time() - cpu_tick)
        step_peaks.append(peaks.end_step())
        everything.append(metrics["tokens"])
    label = f"r1 {getattr(r1, '__version__', '')}".strip() + (
        f", sort_by_length, grad_accum {cfg.grad_accum}" if sort else ", one micro-batch")
    return result(label, torch.get_num_threads(), args, times, cpu, trained, everything, padded, peaks,
                  collate.seconds,
                  memory_report(setup_mb, step_peaks))


class Stopwatch:
    """fn, with the wall seconds of each call kept in `seconds`."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, []

    def __call__(self, *a, **k):
        tick = time.perf_counter()
        try:
            return self.fn(*a, **k)
        finally:
            self.seconds.append(time.perf_counter() - tick)


def result(label: str, threads: int, args: argparse.Namespace, times: list[float], cpu: list[float],
           trained: list[int], everything: list[int], padded: list[int], peaks: Peaks, collate_s: list[float],
           memory: dict) -> dict:
    """A worker's numbers: its timed steps (after the warm-up), tokens per step and phase split."""
    w = args.warmup
    phases = {"collate": {"s": statistics.fmean(collate_s[w:])}, **peaks.summary(w)}
    return {"framework": label, "threads": threads, "warmup_s": times[:w], "trained_per_step": trained,
            "all_per_step": everything, "all_tokens_per_step": statistics.fmean(everything[w:]),
            "padded_tokens_per_step": statistics.fmean(padded[w:]),
            "phases": phases, "memory": memory, **summary(times[w:], trained[w:], cpu[w:])}


WORKERS = {"trl": worker_trl, "r1": worker_r1, "r1_sorted": functools.partial(worker_r1, sort=True),
           **{f"trl_{v}": functools.partial(worker_trl, variant=v) for v in TRL_VARIANTS if v != "plain"}}
DEFAULT = ["trl", "r1", "r1_sorted", "trl_sorted", "trl_grouped"]  # trl_padding_free only when asked


# ---------------------------------------------------------------------------------------------------
# Report.


def rates(r: dict) -> tuple[float, float]:
    """(trained tokens/s, all tokens/s) at the median step time."""
    return r["tokens_per_step"] / r["median_s"], r["all_tokens_per_step"] / r["median_s"]


def framework_line(label: str, r: dict) -> str:
    trained, everything = rates(r)
    steps = " ".join(f"{t:.3f}" for t in r["step_s"])
    phases = ", ".join(f"{k} {r['phases'][k]['s']:.3f}" for k in PHASES if k in r["phases"])
    other = r["mean_s"] - sum(r["phases"][k]["s"] for k in PHASES if k in r["phases"])
    peak = r["memory"].get("peak_mb")
    return (f"{label}: {r['median_s']:.3f} s/step median ({r['mean_s']:.3f} mean; steps {steps}; warm-up "
            f"{' '.join(f'{t:.2f}' for t in r['warmup_s']) or '-'} s); {r['tokens_per_step']:.0f} trained / "
            f"{r['all_tokens_per_step']:.0f} all / {r['padded_tokens_per_step']:.0f} padded tokens per step; "
            f"{trained:,.0f} trained tok/s, "
            f"{everything:,.0f} all tok/s; CPU {r['cpu_median_s']:.3f} s/step median; {r['threads']} threads"
            + (f"; peak rss {peak:,.0f} MiB" if peak else "")
            + f"\n  split (s/step, mean of timed steps): {phases}, other {other:.3f}")


LABELS = {"trl": "TRL SFTTrainer", "r1": "r1 sft_step", "r1_sorted": "r1 sft_step sorted",
          "trl_sorted": "TRL SFTTrainer sorted", "trl_grouped": "TRL SFTTrainer group_by_length",
          "trl_padding_free": "TRL SFTTrainer padding_free"}
SAME_RECORDS = ("trl", "r1", "r1_sorted", "trl_sorted", "trl_padding_free")  # not trl_grouped


def overall_rate(r: dict, clock: str = "step_s") -> float:
    """Trained tokens per second over all timed steps (wall: step_s, or CPU: cpu_s), the figure for
    runs whose steps differ in size; CPU seconds are the steadier one at one thread on a busy machine."""
    return r["tokens_per_step"] * len(r[clock]) / sum(r[clock])


def best_lines(res: dict) -> list[str]:
    """r1's fastest run against TRL's fastest, by trained tokens per second over all timed steps."""
    lines = []
    for clock, name in (("cpu_s", "CPU"), ("step_s", "wall")):
        def best(prefix):
            runs = {k: overall_rate(r, clock) for k, r in res.items() if k.split("_")[0] == prefix}
            return max(runs.items(), key=lambda kv: kv[1]) if runs else None
        r1, trl = best("r1"), best("trl")
        if not (r1 and trl):
            return []
        rates_ = ", ".join(f"{LABELS[k]} {overall_rate(r, clock):,.0f}" for k, r in res.items())
        lines += [f"trained tok/s over all timed steps by {name} seconds: {rates_}",
                  f"best against best by {name} seconds: {LABELS[r1[0]]} / {LABELS[trl[0]]}: {r1[1] / trl[1]:.2f}"]
    return lines


def report(args: argparse.Namespace, world: dict, res: dict) -> list[str]:
    v = versions()
    lines = [
        f"machine: {machine()}; torch {v['torch']}, transformers {v['transformers']}, trl {v['trl']}; "
        f"{args.threads} thread(s)",
        f"setup: {args.shape} model {world['parameters'] / 1e6:.2f}M params, vocab {world['vocab']}; "
        f"{args.batch} cold-start records/step (max_seq_len {args.max_seq_len}), loss on completions, "
        f"lr {args.lr:g} constant, AdamW, fp32, CPU; {args.steps} timed steps after {args.warmup} warm-up"
        + (f", x {args.rounds} alternating rounds" if args.rounds > 1 else ""),
    ]
    for name, label in LABELS.items():
        if name in res:
            lines += framework_line(f"{label} ({res[name]['framework']})", res[name]).split("\n")
    counts = {name: (r["trained_per_step"], r["all_per_step"]) for name, r in res.items() if name in SAME_RECORDS}
    if len(set(map(str, counts.values()))) > 1:
        raise SystemExit(f"sft_vs_trl: the runs trained different tokens per step (trained, all): {counts}")
    if counts:
        first = res[next(iter(counts))]
        lines.append(f"same tokens every step in {', '.join(counts)}: {first['trained_per_step'][args.warmup:]} "
                     "trained")
    if "trl_grouped" in res:
        lines.append(f"TRL group_by_length trained other records per step: "
                     f"{res['trl_grouped']['trained_per_step']} (warm-up steps first)")
    lines += best_lines(res)
    if "trl_sorted" in res and "r1_sorted" in res:
        lines.append(f"r1 sorted / TRL sorted tokens/s (the same micro-batches): "
                     f"{rates(res['r1_sorted'])[0] / rates(res['trl_sorted'])[0]:.2f}")
    if "trl" in res and "r1_sorted" in res:
        lines.append(f"r1 sorted / TRL tokens/s (the same records and gradient per step, less padding): "
                     f"{rates(res['r1_sorted'])[0] / rates(res['trl'])[0]:.2f}")
    if "trl" in res and "r1" in res:
        lines.append(f"ratio r1/TRL tokens/s: {rates(res['r1'])[0] / rates(res['trl'])[0]:.2f}")
    return lines


if __name__ == "__main__":
    run_bench(HERE, parse_args, WORKERS, build_world, report)
