"""`r1 reward-models`: R1's two reward models as one stage, each trained by `r1 train-rm`.

    r1 reward-models -c recipes/tiny/reward-models.yaml [model=DIR] [helpfulness.lr=3e-4]

    output_dir/helpfulness    Bradley-Terry on preference pairs, reading the summary only
    output_dir/harmlessness   pointwise on labelled responses, reading the whole response

Each is an `r1 train-rm` run in its own directory (log.jsonl, checkpoint/, eval.json, final/), so it
resumes as that command does; a recipe's RL stage names them `rm:<this stage>/helpfulness` and
`rm:<this stage>/harmlessness`. With `members: {helpfulness: 3}` the helpfulness directory holds three
such runs (member0..2, seeds seed..seed+2) and their ensemble's listing and eval.json
(r1.reward_models.ensemble), and the same `rm:` name scores the ensemble. `r1 train-rm` stays the
command for one model, or a third (another view).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from r1.config import StageConfig, build_config, refuse_owned
from r1.errors import R1Error, named
from r1.progress import console
from r1.train.config import PositiveInt

STAGE = "reward-models"
DEFAULTS = {
    "helpfulness": {"objective": "pairwise", "on": "summary", "pool": "sum"},
    "harmlessness": {"objective": "pointwise", "on": "whole", "pool": "last"},
}
"""Each model's train-rm settings unless its mapping says otherwise: the paper's helpfulness model
judges the summary, its harmlessness model the whole response, reasoning included."""


class RewardModelsConfig(StageConfig):
    model: str
    """The causal LM both reward models start from (e.g. the stage-3 SFT model): a local HF directory or
    a stage's output_dir (its final/)."""
    helpfulness: dict[str, Any] = Field(default_factory=dict)
    """Fields of the helpfulness model's `r1 train-rm` run (`r1 train-rm --help`): data and eval_data
    (pairs, e.g. an rm-data stage's pairs.jsonl and pairs_test.jsonl), epochs, lr, batch_size, ...;
    objective pairwise, on summary and pool sum unless given (model, seed, output_dir are this stage's)."""
    harmlessness: dict[str, Any] = Field(default_factory=dict)
    """Fields of the harmlessness model's `r1 train-rm` run: data and eval_data (labelled responses,
    e.g. pointwise.jsonl and pointwise_test.jsonl), ...; objective pointwise, on whole and pool last
    unless given."""

    members: dict[Literal["helpfulness", "harmlessness"], PositiveInt] = Field(default_factory=dict)
    """How many models to train for a reward (1 unless given). N > 1: N train-rm runs in
    output_dir/<name>/member0.. with seeds seed, seed+1, ..., whose ensemble (the mean of their centred
    scores) `rm:<this stage>/<name>` scores; its held-out metrics go to output_dir/<name>/eval.json.
    One helpfulness model's accuracy moves with its seed; several together are steadier and higher
    (docs/reward-models.md). Needs that model's eval_data, which every member is scored on."""

    def models(self) -> dict[str, list[Any]]:
        """name -> its RewardModelConfigs (output_dir/<name>, or its member<i> directories), validated."""
        from r1.reward_models.config import RewardModelConfig

        configs = {}
        for name, fields in (("helpfulness", self.helpfulness), ("harmlessness", self.harmlessness)):
            refuse_owned(name, fields, ("model", "seed", "output_dir"),
                         f"set by the reward-models stage (its own model, seed and output_dir/{name})")
            if "data" not in fields:
                raise R1Error(f"{name}.data: required (the {name} model's training records)")
            n = self.members.get(name, 1)
            if n > 1 and not fields.get("eval_data"):
                raise R1Error(f"{name}.eval_data: required with members.{name} > 1 (the ensemble is scored "
                              "on it; a held-out share of data would differ from member to member)")
            out = Path(self.output_dir) / name
            configs[name] = [build_config(RewardModelConfig, {
                **DEFAULTS[name], **fields, "model": self.model, "seed": self.seed + i,
                "output_dir": str(out / f"member{i}" if n > 1 else out)}, name) for i in range(n)]
        return configs

    def check(self) -> None:
        """Both runs' configs are built here, so a bad key fails before either trains."""
        self.models()


@named(STAGE)
def run(cfg: RewardModelsConfig) -> Path:
    """Train (or resume) each reward model in turn; returns output_dir. A finished one resumes at its
    last step, so it is only scored and saved again (and a changed setting is refused, as train-rm does)."""
    from r1.reward_models.ensemble import write_ensemble
    from r1.reward_models.trainer import train

    for name, configs in cfg.models().items():
        for config in configs:
            console.print(f"{STAGE}: the {name} model -> {config.output_dir}")
            try:
                train(config)
            except R1Error as err:
                raise R1Error(f"{name}: {err}") from None
        if len(configs) > 1:
            write_ensemble(Path(cfg.output_dir) / name, configs)
    return Path(cfg.output_dir)
