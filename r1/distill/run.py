"""`r1 distill`: a small student learns to reason from a big teacher's traces (DeepSeek-R1 section 4.1).

    r1 distill -c recipes/tiny/distill.yaml [teacher=DIR] [student=DIR] [k=N] [sft.epochs=2]

    tokenizers of teacher and student compared (the same ids, special tokens, eos, pad)
    -> the teacher samples k responses per prompt, the correct ones filtered     (r1 rejection-sample)
    -> the student is fine-tuned on them                                          (r1 sft)
    -> output_dir/final (the student), output_dir/distill.json (both sides' compute)

The paper distils DeepSeek-R1's 800k samples into Qwen and Llama models with SFT alone, no RL, and
finds that this beats RL on the small model at a fraction of the compute. Both halves are the
existing stages, called with their own configs: the teacher's samples, verdicts and traces live in
output_dir/traces/ exactly as `r1 rejection-sample` writes them, the student's run in output_dir/
exactly as `r1 sft` writes it (log.jsonl, checkpoint/, final/).

Resuming: finished traces (traces/data.jsonl written by settings equal to this run's) are reused
without loading the teacher; unfinished ones resume from traces/samples.jsonl; the student's SFT
resumes from output_dir/checkpoint. Changing the trace settings under a student that has started
training is refused.

Compute (r1.train.flops): output_dir/final/r1_final.json `flops` is the student's SFT (6N per
trained token), what `r1 grpo match_flops_of=...` gives RL on the same student; distill.json adds
the teacher's generation (2N_teacher per prompt and sampled token) beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from r1.config import first_change, save_config
from r1.distill.config import DistillConfig
from r1.errors import R1Error, named
from r1.models.load import check_model_dir, load_tokenizer
from r1.progress import console
from r1.rejection.config import RejectionConfig
from r1.train.checkpoint import final_info, has_checkpoint
from r1.train.flops import forward_flops, parameter_count_of

STAGE = "distill"
SUMMARY = "distill.json"


@named(STAGE)
def run(cfg: DistillConfig) -> Path:
    """Compare tokenizers, make (or reuse) the teacher's traces, fine-tune the student on them; returns
    output_dir/final, the student. Every bad input is one R1Error line starting with `distill:`."""
    from r1.sft.trainer import train

    cfg.check()
    traces_cfg, student_cfg = cfg.traces_config(), cfg.student_config()
    check_tokenizers(cfg.teacher, cfg.student)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "distill_config.yaml")
    make_traces(traces_cfg, out)
    final = train(student_cfg)
    summary = {**teacher_compute(traces_cfg), **student_compute(cfg.student, final),
               "traces": json.loads((Path(traces_cfg.output_dir) / "stats.json").read_text())}
    (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    console.print(f"{STAGE}: the student ({summary['student_parameters'] / 1e6:.2f}M parameters) trained on "
                  f"{summary['traces']['records']} traces with {summary['student_flops']:.3g} FLOPs; the teacher "
                  f"({summary['teacher_parameters'] / 1e6:.2f}M) sampled them with {summary['teacher_flops']:.3g} "
                  f"-> {out / SUMMARY}")
    return final


def check_tokenizers(teacher: str, student: str) -> None:
    """The student must be the teacher's kind of model: the same token -> id mapping, special tokens,
    eos and pad. The traces travel as text, so another tokenizer could read them, but a mismatch is
    almost always a student from another model family or another world, given by mistake."""
    difference = tokenizer_difference(load_tokenizer(teacher, "teacher"), load_tokenizer(student, "student"))
    if difference:
        raise R1Error(f"the teacher's tokenizer ({check_model_dir(teacher, 'teacher')}) and the student's "
                      f"({check_model_dir(student, 'student')}) differ: {difference}; distil between models "
                      "that share a tokenizer")


def tokenizer_difference(teacher, student) -> str | None:
    """What differs between two tokenizers (the first of vocabulary, ids, eos, pad, special tokens), or None."""
    a, b = teacher.get_vocab(), student.get_vocab()
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        return (f"vocabularies of {len(a)} and {len(b)} tokens, {len(only_a)} only in the teacher's "
                f"{only_a[:3]} and {len(only_b)} only in the student's {only_b[:3]}")
    moved = sorted(token for token in a if a[token] != b[token])
    if moved:
        return f"{len(moved)} tokens have other ids (e.g. {moved[0]!r}: {a[moved[0]]} vs {b[moved[0]]})"
    for name in ("eos_token", "pad_token"):
        if getattr(teacher, name) != getattr(student, name):
            return f"{name} {getattr(teacher, name)!r} vs {getattr(student, name)!r}"
    special_a, special_b = set(teacher.all_special_tokens), set(student.all_special_tokens)
    if special_a != special_b:
        return (f"special tokens only in the teacher's {sorted(special_a - special_b)[:3]}, only in the "
                f"student's {sorted(special_b - special_a)[:3]}")
    return None


def make_traces(cfg: RejectionConfig, out: Path) -> Path:
    """traces/data.jsonl: reused when a finished one was made with exactly these settings, else made
    (or resumed) by rejection-sample; refused when the student already trained on other traces."""
    from r1.rejection.run import run as rejection_sample

    traces = Path(cfg.output_dir)
    data, saved = traces / "data.jsonl", traces / "rejection_config.yaml"
    before = yaml.safe_load(saved.read_text()) if saved.is_file() else None
    now = yaml.safe_load(yaml.safe_dump(cfg.model_dump()))  # as save_config writes it
    if data.is_file() and before == now:
        console.print(f"{STAGE}: reusing the teacher's traces in {data}")
        return data
    if has_checkpoint(out / "checkpoint") and before != now:
        changed = first_change(before or {}, now, list(now))
        raise R1Error(f"the student in {out} has trained on traces made with {changed}="
                      f"{(before or {}).get(changed)!r}, not {now.get(changed)!r}; use another output_dir, or "
                      "restore the setting")
    return rejection_sample(cfg)


def teacher_compute(cfg: RejectionConfig) -> dict[str, Any]:
    """The teacher's generation FLOPs: 2 N_teacher per token of every sample, prompt and completion
    (r1.train.flops; a judge's calls, with task=judge, are not counted). Each sample row holds the
    prompt the teacher saw; a prompt is tokenized once for its k samples."""
    from r1.eval.data import done_samples

    tokenizer = load_tokenizer(cfg.model, "teacher")
    rows = list(done_samples(Path(cfg.output_dir) / "samples.jsonl").values())
    prompts = {str(row["id"]): row["prompt"] for row in rows}
    ids = tokenizer(list(prompts.values()), add_special_tokens=False)["input_ids"]  # as the engines encode
    prompt_tokens = dict(zip(prompts, map(len, ids)))
    tokens = sum(prompt_tokens[str(row["id"])] + row["tokens"] for row in rows)
    parameters = parameter_count_of(cfg.model, "teacher")
    return {"teacher": str(check_model_dir(cfg.model, "teacher")), "teacher_parameters": parameters,
            "teacher_samples": len(rows), "teacher_tokens": tokens, "teacher_flops": forward_flops(parameters, tokens)}


def student_compute(student: str, final: Path) -> dict[str, Any]:
    """The student's SFT as its final/r1_final.json records it."""
    done = final_info(final)
    return {"student": str(check_model_dir(student, "student")), "student_parameters": done["parameters"],
            "student_steps": done["steps"], "student_flops": done["flops"], "student_train_s": done["train_s"]}
