"""The stage registry: every stage of the recipe as a config class, a run function and one line here.

The CLI's stage commands (`r1 pretrain`, `r1 sft`, `r1 grpo`, ...) and `r1 pipeline` are built from
this table, so a new stage is: a config class (fields documented where declared), a function
`run(cfg) -> Path` that returns what it produced, and one `register(Stage(...))` line below.
Classes and functions are named as "module:attribute" and imported only when used, so `r1 --help`
stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from r1.errors import R1Error


@dataclass(frozen=True)
class Stage:
    name: str
    """The command name, and a pipeline stage's `kind`."""
    config: str
    """module:Class of the stage's config (a StageConfig)."""
    run: str
    """module:function taking the config and returning what the stage produced (a path)."""
    help: str
    """One line for `r1 --help`."""
    produces: Literal["model", "reward_model", "reward_models", "data", "eval"]
    """A model directory (output_dir/final; a pipeline evaluates it on its benchmarks), a reward model
    (output_dir/final, not evaluated by generating), reward models (output_dir/<name>/final, named
    `<stage>/<name>`), a data file for a later stage, or an evaluation."""
    inputs: tuple[str, ...] = ()
    """Config fields that name an input model or data; in a pipeline they may name an earlier stage.
    "a.b": the field b of the mapping a; "a.b.*": a mapping whose `rm:` values may name one (a reward
    model stage, in the reward weights)."""
    command: bool = True
    """Whether the CLI builds `r1 <name>` from this entry (eval has a hand-written command)."""

    def config_class(self) -> type:
        return _load(self.config)

    def run_fn(self) -> Callable[[Any], Path]:
        return _load(self.run)


def _load(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


STAGES: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    if stage.name in STAGES:
        raise ValueError(f"stage {stage.name!r} is registered twice")
    STAGES[stage.name] = stage
    return stage


def get_stage(name: str) -> Stage:
    if name not in STAGES:
        raise R1Error(f"unknown stage kind {name!r} (known: {', '.join(STAGES)})")
    return STAGES[name]


register(Stage("pretrain", "r1.models.pretrain:PretrainConfig", "r1.models.pretrain:pretrain",
               "Pretrain the tiny base model (tokenizer + Llama decoder) on the task corpus; resumes if stopped.",
               produces="model"))
register(Stage("stand-in", "r1.models.stand_in:StandInConfig", "r1.models.stand_in:build",
               "A stand-in for a real checkpoint: Qwen2.5-0.5B's architecture (or shrunk) with random weights, a local "
               "BPE tokenizer, ChatML and Qwen's generation_config; rehearse a real-model recipe on a CPU.",
               produces="model"))
register(Stage("model", "r1.models.existing:ExistingModelConfig", "r1.models.existing:use_model",
               "An existing model as a stage (e.g. the base model), evaluated beside the trained ones.",
               produces="model", inputs=("model",), command=False))
register(Stage("sft", "r1.sft.config:SFTConfig", "r1.sft.trainer:train",
               "Supervised fine-tuning on prompt/response or chat records, loss on the responses; resumes if "
               "stopped.", produces="model", inputs=("model", "data")))
register(Stage("grpo", "r1.grpo.config:GRPOConfig", "r1.grpo.trainer:train",
               "GRPO (R1-Zero, reasoning RL, all-scenario RL): sample G completions per prompt, reward them, "
               "update the policy; resumes if stopped.", produces="model",
               inputs=("model", "data", "general_data", "general_eval_data", "reward.rewards.*", "match_flops_of")))
register(Stage("eval", "r1.eval.run:EvalConfig", "r1.eval.run:evaluate_stage",
               "Sample k completions per problem and report pass@1, pass@k and cons@k; resumes if stopped.",
               produces="eval", inputs=("model", "data"), command=False))
register(Stage("cold-start-data", "r1.tasks.stages:ColdStartDataConfig", "r1.tasks.stages:cold_start_data",
               "Write tiny-world cold-start SFT records (readable English reasoning, then a summary).",
               produces="data", command=False))
register(Stage("non-reasoning-data", "r1.tasks.stages:NonReasoningDataConfig",
               "r1.tasks.stages:non_reasoning_data",
               "Write tiny-world non-reasoning SFT records (empty reasoning, a reference reply).",
               produces="data", command=False))
register(Stage("general-data", "r1.tasks.stages:GeneralDataConfig", "r1.tasks.stages:general_data",
               "Write tiny-world general prompts (about a number, secrets) with written responses of mixed "
               "quality in the readable format.", produces="data", command=False))
register(Stage("rejection-sample", "r1.rejection.config:RejectionConfig", "r1.rejection.run:run",
               "Stage-3 data: k samples per prompt from a checkpoint, the correct ones, filtered, mixed with "
               "non-reasoning records, as JSONL for r1 sft.", produces="data",
               inputs=("model", "data", "non_reasoning")))
register(Stage("rm-data", "r1.rm_data.config:RMDataConfig", "r1.rm_data.run:run",
               "Reward-model data: general prompts, the model's samples and written responses, labelled by the "
               "hidden oracle, as helpfulness pairs and harmlessness examples (train and held out).",
               produces="data", inputs=("model", "prompts")))
register(Stage("train-rm", "r1.reward_models.config:RewardModelConfig", "r1.reward_models.trainer:train",
               "Train a reward model (a one-score head on a causal LM): Bradley-Terry on chosen/rejected "
               "pairs or pointwise on labelled responses; resumes if stopped.", produces="reward_model",
               inputs=("model", "data", "eval_data")))
register(Stage("reward-models", "r1.reward_models.both:RewardModelsConfig", "r1.reward_models.both:run",
               "R1's two reward models in one stage: helpfulness (Bradley-Terry, on the summary) and harmlessness "
               "(pointwise, on the whole response), each a train-rm run; resumes if stopped.",
               produces="reward_models", inputs=("model", "helpfulness.data", "helpfulness.eval_data",
                                                 "harmlessness.data", "harmlessness.eval_data")))
register(Stage("distill", "r1.distill.config:DistillConfig", "r1.distill.run:run",
               "Distillation: the teacher's correct, filtered samples (rejection-sample), then SFT of the student "
               "on them; resumes if stopped.", produces="model", inputs=("teacher", "student", "data")))
