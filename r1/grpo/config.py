"""GRPOConfig: every knob of an R1-Zero style GRPO run, each documented once where it is declared."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from r1.train.config import Count, Difficulty, PositiveInt, Share, Temperature, TopP, TrainConfig
from r1.errors import R1Error
from r1.eval.data import shipped_task
from r1.grpo.window import ContextSchedule, largest_window
from r1.models.lora import LoraSettings
from r1.prompts import Template
from r1.rewards.combine import RewardWeights


class GRPOConfig(TrainConfig):
    renamed = {"aggregation": "loss_type", "scale_by_std": "scale_rewards"}
    value_aliases = {
        "loss_type": {"seq-mean-token-mean": "grpo", "token-mean": "dapo", "constant": "dr_grpo"},
        "scale_rewards": {True: "group", False: "none"},  # TRL's bool spellings, and scale_by_std's
    }

    model: str
    """Local Hugging Face directory of the policy to start from (the base model for R1-Zero)."""
    families: list[str] = Field(default_factory=lambda: ["arithmetic"])
    """Tiny-world task families whose 'train' split gives the prompts (ignored when `data` is set)."""
    difficulty: Difficulty | None = None
    """Difficulty of the tiny-world prompts; None uses each family's default."""
    train_problems: PositiveInt = 5000
    """Distinct training problems drawn per family (the pool is reshuffled every pass)."""
    data: str | None = None
    """A JSONL file (or datasets dir, hf:NAME) of records with `problem` (or TRL's `prompt`, text or chat
    messages) and the fields the rewards need; or a shipped benchmark with a train split (gsm8k: its
    train split, scored by its scorer; evaluation keeps the test split)."""
    data_split: str = "train"
    """The split of `data` to train on, when it has splits (a DatasetDict directory, hf:NAME)."""
    task: Literal["math", "gsm8k", "code", "tiny"] | None = None
    """How the accuracy reward scores records of `data` that carry no `task` field: math (boxed answer
    or <answer> tag), gsm8k (the final number), code (the record's test_list); tiny: each record names
    its family. None: a shipped benchmark's scorer, else code for records with test_list, else math."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Columns of `data` under r1's names, e.g. {problem: question, answer: final_answer}: each record's
    `problem` is read from `question` and `answer` (what the accuracy reward checks) from `final_answer`."""
    general_data: str | None = None
    """Stage 4 (all-scenario RL): a JSONL file (or datasets dir) of general prompts (text in `problem` or
    `prompt`; `prompt_type` is set to "general"), mixed into the reasoning prompts and rewarded by the
    reward's `general` weights (e.g. reward models: docs/reward-models.md)."""
    general_share: Share = 0.25
    """Share of each step's prompts drawn from general_data, once they have joined."""
    general_from: Share = 0.0
    """General prompts join after this share of max_steps (0: from the first step; 0.5: the last half)."""
    general_eval_data: str | None = None
    """Held-out general prompts, sampled at every eval (eval_every) and scored by the general reward
    components (the reward models) and, for the tiny world's general prompts, by the hidden oracle,
    which training never sees (r1.tasks.oracle): both are logged, to show whether RL games the reward
    models."""
    general_eval_k: PositiveInt = 2
    """Samples per held-out general prompt."""
    prompts_per_step: PositiveInt = 16
    """Distinct prompts per step; each is sampled `group_size` times."""
    group_size: Annotated[int, Field(ge=2)] = 8
    """G: completions per prompt; advantages compare them with each other (>= 2)."""
    max_prompt_tokens: PositiveInt = 256
    """Longest prompt accepted, in tokens after the template; see overlong_prompts for a longer one."""
    overlong_prompts: Literal["refuse", "drop"] = "refuse"
    """A prompt longer than max_prompt_tokens stops the run before training (refuse) or is left out
    (drop; setup prints how many), as SFT's `overlong`; never truncated, which would cut the question."""
    max_new_tokens: PositiveInt = 64
    """Longest completion; a completion cut here is 'truncated'. With a context_schedule: the first
    window (adaptive: where it starts; staged: until the first stage)."""
    context_schedule: ContextSchedule = Field(default_factory=ContextSchedule)
    """How the window (max_new_tokens) changes during the run: fixed, staged or adaptive
    (r1.grpo.window, docs/context-window.md); the window of each step is logged as max_new_tokens."""
    temperature: Annotated[float, Field(gt=0)] = 1.0
    """Sampling temperature of the rollouts (the log-probs are taken at the same temperature); > 0, as a
    greedy group would have nothing to compare."""
    top_p: TopP = 1.0
    """Nucleus sampling threshold of the rollouts, in (0, 1] (1: off)."""
    stop: list[str] = Field(default_factory=lambda: ["</answer>"])
    """Generation ends after these strings (kept in the completion, followed by eos in training)."""
    template: Template = "chat"
    """chat (the tokenizer's template), r1_zero (the paper's plain-text template) or plain."""
    suffix: str = ""
    """Appended to each problem, e.g. the boxed-answer instruction; the tiny model knows none."""
    response_prefix: str = ""
    """Forced start of every response, e.g. "<think>" (then score format with a prefilled reward)."""
    reward: RewardWeights = Field(default_factory=RewardWeights)
    """Reward components and weights (default for reasoning: 0.7 accuracy + 0.3 format, the weights of
    the R1 summary this project follows; the paper states none)."""
    beta: Annotated[float, Field(ge=0)] = 0.0
    """KL coefficient to the reference model; 0 loads no reference model at all."""
    eps_low: Annotated[float, Field(ge=0)] = 0.2
    """The ratio is clipped below at 1 - eps_low."""
    eps_high: Annotated[float, Field(ge=0)] = 0.2
    """The ratio is clipped above at 1 + eps_high (DAPO's clip-higher raises it, e.g. 0.28)."""
    delta: Annotated[float, Field(gt=1)] | None = None
    """Two-sided clipping (INTELLECT-2): the unclipped ratio is also capped at delta (> 1; TRL
    recommends > 1 + eps_high), so tokens with A < 0 and a runaway ratio stop pushing; None: off."""
    loss_type: Literal["grpo", "bnpo", "dr_grpo", "dapo", "cispo"] = "grpo"
    """TRL's names: grpo (mean of per-sequence token means), dapo and bnpo (token mean over the whole
    batch), dr_grpo (sum / (rows * (the step's window + 1))), cispo (clipped, detached importance weights
    times logp, token mean; its cap is 1 + eps_high). See r1.grpo.loss; TRL's default is dapo. Old
    name: aggregation (seq-mean-token-mean = grpo, token-mean = dapo, constant = dr_grpo)."""
    importance_sampling_level: Literal["token", "sequence"] = "token"
    """token: one ratio per token (GRPO); sequence: one per completion, exp of the mean token
    log-ratio, clipped per sequence (GSPO, with loss_type=grpo as in the paper)."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Divide the group-centred rewards by the group's std (group), by the std of the whole batch
    (batch) or not at all (none: Dr. GRPO); TRL's true/false mean group/none. Old name: scale_by_std."""
    top_entropy_quantile: Share = 1.0
    """Train only on the tokens whose entropy is in this top share of the batch's tokens (0.2 in
    "Beyond the 80/20 rule"); 1.0: every token, at no cost. The quantile is taken over the whole
    step's batch under the sampling policy, once per batch (TRL: per micro-batch, every mu iteration)."""
    mu: PositiveInt = 1
    """Optimizer steps on each batch of rollouts (1: plain policy gradient, no old-policy forward)."""
    filter_equal_groups: bool = False
    """DAPO dynamic sampling: drop groups whose rewards are all equal and sample more prompts."""
    max_sample_rounds: PositiveInt = 4
    """With filter_equal_groups, at most this many generate rounds per step fill the batch."""
    mask_truncated: bool = False
    """Completions cut at the step's window (max_new_tokens) leave the loss (DAPO overlong filtering)."""
    grad_accum: PositiveInt = 1
    """Micro-batches per optimizer step (same gradient, less memory)."""
    engine: Literal["hf", "vllm"] = "hf"
    """Rollout engine: hf (the in-memory policy) or vllm (a colocated vLLM synced after every update)."""
    vllm_gpu_memory_utilization: Annotated[float, Field(gt=0, le=1)] = 0.3
    """With engine=vllm on a GPU: the share of GPU memory vLLM may take (weights + KV cache)."""
    tis_cap: Annotated[float, Field(ge=0)] = 2.0
    """With engine=vllm: truncated importance sampling, each token weighted by
    min(p_trainer / p_vllm, tis_cap) to correct the engines' numeric mismatch; 0 turns it off."""
    rollout_batch_size: PositiveInt = 128
    """Sequences per generate call."""
    compile: bool | Literal["auto"] = "auto"
    """torch.compile r1's lean forward (Llama-family models): the sampler's decode step (engine=hf)
    and the reference and policy forwards. On 2 CPU cores a step of the tiny model took about half the
    time; the price is a compile at the start of every process, seconds once inductor's on-disk cache
    holds the kernels and ~2 min before (needs a C++ compiler). auto: on for runs long enough to win
    that back (r1.models.fast.decide_compile; one line says which), off otherwise."""
    eval_every: Count = 0
    """Held-out pass@1 every this many steps, and at the end (0: never)."""
    eval_benchmarks: list[str] = Field(default_factory=list)
    """Benchmarks to evaluate (e.g. tiny:arithmetic, tiny:arithmetic@2, gsm8k); empty means each training
    family's held-out split at the training difficulty, or with data=<shipped benchmark> its test split."""
    eval_problems: PositiveInt = 100
    """Held-out problems per benchmark (eval_every = 0 turns the eval off)."""
    eval_k: PositiveInt = 4
    """Samples per held-out problem."""
    eval_temperature: Temperature | None = None
    """Eval sampling temperature (0: greedy); None uses `temperature`."""
    eval_max_new_tokens: PositiveInt | None = None
    """Eval completion budget; None: the largest window the context_schedule can reach (max_new_tokens
    when fixed), the same at every eval, so the curve shows the policy, not the window."""
    log_completions_every: Count = 10
    """At step 1 and every this many steps, a few prompts of the step with all G completions, each one's
    reward components, reward and advantage go to output_dir/completions.jsonl (main process; `r1 plot
    RUN_DIR --completions` shows them); 0: never."""
    log_completions_prompts: PositiveInt = 2
    """How many prompts (each with its G completions) such a step logs."""
    max_flops: Annotated[float, Field(gt=0)] | None = None
    """A compute budget: stop after the step at which the run's counted training FLOPs (r1.train.flops:
    6N per trained token, 2N per generated or reference token) reach this, even before max_steps (which
    stays the cap, and the length of the lr schedule). The last step overshoots by less than one step;
    output_dir/final/r1_final.json records the count reached. None: no budget."""
    match_flops_of: str | None = None
    """A finished model directory (or a stage's output_dir; in a pipeline, an earlier stage, e.g. the
    distilled student) whose r1_final.json `flops` becomes max_flops, read when the run starts: RL given
    the compute that stage spent. Not with max_flops."""
    max_bad_steps: PositiveInt = 3
    """Abort after this many steps in a row with a NaN/inf loss or gradient (each one is skipped)."""
    lora: LoraSettings = Field(default_factory=LoraSettings)
    """Train LoRA adapters instead of every weight; the reference is then the base with the adapters
    switched off (no second copy in memory), and output_dir/final the merged model."""

    @model_validator(mode="after")
    def _schedule_fits(self) -> "GRPOConfig":
        cap = self.context_schedule.cap
        if self.context_schedule.kind == "adaptive" and cap < self.max_new_tokens:
            raise ValueError(f"context_schedule.cap ({cap}) is below max_new_tokens ({self.max_new_tokens}), "
                             "where the adaptive window starts")
        return self

    @property
    def largest_window(self) -> int:
        """The longest completion any step may have (the schedule's cap or largest stage)."""
        return largest_window(self.context_schedule, self.max_new_tokens)

    def check(self) -> None:
        """Refuse settings that cannot train, with one clear line (an R1Error)."""
        problems = [
            (self.delta is not None and self.loss_type == "cispo",
             "delta caps PPO's clipped ratio; loss_type=cispo has none (its cap is 1 + eps_high)"),
            (not self.data and not self.families, "no prompts: give families or data"),
            (self.max_flops is not None and self.match_flops_of is not None,
             "give max_flops or match_flops_of, not both"),
            (self.eval_every > 0 and self.data is not None and not self.benchmarks,
             "eval_every with data needs eval_benchmarks (which held-out set to score)"),
        ]
        for bad, message in problems:
            if bad:
                raise R1Error(message)

    def flops_budget(self) -> float | None:
        """max_flops, or the FLOPs match_flops_of's r1_final.json records (read at the start of the run,
        not when the config is checked: in a pipeline that stage has not run yet)."""
        if self.match_flops_of:
            from r1.train.flops import flops_of

            return flops_of(self.match_flops_of, "match_flops_of")
        return self.max_flops

    @property
    def benchmarks(self) -> list[str]:
        """What the periodic evaluation scores."""
        if self.eval_benchmarks:
            return self.eval_benchmarks
        if self.data is not None:  # a shipped benchmark trains on its train split, so its test split is held out
            return [self.data] if shipped_task(self.data) else []
        level = f"@{self.difficulty}" if self.difficulty else ""
        return [f"tiny:{family}{level}" for family in self.families]
