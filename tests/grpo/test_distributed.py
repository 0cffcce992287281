"""GRPO under `accelerate launch` with 2 CPU processes (gloo).

1. One update on a fixed batch of 4 groups: 2 processes holding 2 groups each produce the same
   gradient and weights as 1 process holding all 4 (for every loss_type, the normaliser is
   counted over all ranks, and DDP averages; scale_rewards=batch's std and top_entropy_quantile's
   threshold are taken over both ranks' rewards and tokens).
2. `r1 grpo` end to end on 2 processes: each rank samples from its own shard, the log and the
   checkpoint are written once (with both ranks' data cursors), and a resumed run continues.

On a machine without GPUs `accelerate launch --multi_gpu --num_processes 2` starts 2 CPU processes
through torchrun.
"""

from pathlib import Path

import pytest
import torch

from r1.train.telemetry import read_log
from r1.models.load import load_model
from tests.launch import launch

ROOT = Path(__file__).resolve().parents[2]
ONE_UPDATE = """
import sys, torch
torch.set_num_threads(1)
from r1.grpo.config import GRPOConfig
from r1.grpo.sampling import Group
from r1.grpo.trainer import learn, setup
from r1.rollout import Rollout
from r1.runtime import leave_process_group

model, out = sys.argv[1:3]
CASES = CASES_LITERAL
for name, options in CASES.items():
    cfg = GRPOConfig(model=model, output_dir=f"{out}/{name}", families=["arithmetic"], train_problems=8,
                     group_size=4, beta=0.04, grad_accum=2, mask_truncated=True,
                     max_new_tokens=12, lr=1e-3, max_grad_norm=1e9, save_every=0, **options)
    run = setup(cfg)
    rank, world = run.accelerator.process_index, run.accelerator.num_processes
    g = torch.Generator().manual_seed(0)
    groups = []
    for i in range(4):  # global group i: record i, on rank i % world at shard index i // world
        lengths = torch.randint(1, 13, (4,), generator=g).tolist()
        rollouts = [Rollout(i, j, "", torch.randint(5, 100, (n,), generator=g).tolist(), n < 12 or j == 0,
                            eos_id=run.tokenizer.eos_token_id if n < 12 or j == 0 else None)
                    for j, n in enumerate(lengths)]
        rewards = torch.rand(4, generator=g)
        if i % world == rank:
            groups.append(Group(i // world, rollouts, rewards))
    seen = {}
    def record(step=run.optimizer.step, model=run.accelerator.unwrap_model(run.model)):
        seen["grads"] = [p.grad.detach().clone() for p in model.parameters()]
        return step()
    run.optimizer.step = record
    metrics = learn(cfg, run, groups, {})
    assert metrics["skipped"] is False, metrics
    if run.accelerator.is_main_process:
        torch.save({"grads": seen["grads"], "kl": metrics["kl"],
                    "weights": [p.detach() for p in run.accelerator.unwrap_model(run.model).parameters()]},
                   f"{out}/{name}.pt")
leave_process_group()
"""

UNEVEN = """
import sys, torch
torch.set_num_threads(1)
from r1.grpo.config import GRPOConfig
from r1.grpo.sampling import Group
from r1.grpo.trainer import learn, setup
from r1.rollout import Rollout
from r1.runtime import leave_process_group

model, out = sys.argv[1:3]
cfg = GRPOConfig(model=model, output_dir=out, families=["arithmetic"], train_problems=8, group_size=2,
                 grad_accum=6, max_new_tokens=12, lr=1e-3, max_grad_norm=1e9, save_every=0)
run = setup(cfg)
rank, world = run.accelerator.process_index, run.accelerator.num_processes
g = torch.Generator().manual_seed(0)
groups = []
for i in range(5):  # rank 0 keeps groups 0-3 (8 rows: 6 micro-batches), rank 1 group 4 (2 rows)
    rollouts = [Rollout(i, j, "", torch.randint(5, 100, (3 + i + j,), generator=g).tolist(), True,
                        eos_id=run.tokenizer.eos_token_id) for j in range(2)]
    rewards = torch.tensor([1.0, 0.0]) if i % 2 else torch.tensor([0.0, 1.0])
    record = 2 * i if i < 4 else 1  # rank 0's shard holds records 0, 2, 4, ..., rank 1's 1, 3, ...
    if world == 1:
        groups.append(Group(record, rollouts, rewards))
    elif (rank == 0) == (i < 4):
        groups.append(Group(record // 2, rollouts, rewards))
metrics = learn(cfg, run, groups, {})
assert metrics["skipped"] is False, metrics
if run.accelerator.is_main_process:
    torch.save([p.detach() for p in run.accelerator.unwrap_model(run.model).parameters()], f"{out}/w.pt")
leave_process_group()
"""


def test_ranks_short_of_rows_run_the_same_collectives(tiny_model_dir, tmp_path):
    """With filter_equal_groups a rank can hold fewer rows than grad_accum while another holds more:
    before, each ran min(grad_accum, rows) micro-batches, each with a collective, and the run hung."""
    script = tmp_path / "uneven.py"
    script.write_text(UNEVEN)
    for world in (1, 2):
        (tmp_path / f"world{world}").mkdir()
        launch([script, tiny_model_dir, tmp_path / f"world{world}"], world, timeout=120)
    one, two = (torch.load(tmp_path / f"world{w}" / "w.pt") for w in (1, 2))
    base = load_model(tiny_model_dir)
    assert any(not torch.equal(a, b) for a, b in zip(one, base.parameters()))  # the update moved it
    for a, b in zip(one, two):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-5)


ZERO_ADVANTAGES = """
import sys, torch
torch.set_num_threads(1)
from r1.grpo.config import GRPOConfig
from r1.grpo.sampling import Group
from r1.grpo.trainer import learn, setup
from r1.rollout import Rollout
from r1.runtime import leave_process_group

model, out = sys.argv[1:3]
cfg = GRPOConfig(model=model, output_dir=out, families=["arithmetic"], train_problems=8, group_size=2,
                 max_new_tokens=12, save_every=0)
run = setup(cfg)
rank = run.accelerator.process_index
rollouts = [Rollout(0, j, "", [5 + j, 6, 7], True, eos_id=run.tokenizer.eos_token_id) for j in range(2)]
seen = []
for rewards in ([[1.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]]):  # every rank equal; then rank 1 not
    metrics = learn(cfg, run, [Group(0, rollouts, torch.tensor(rewards[rank]))], {})
    seen.append((metrics["skipped"], run.zero_advantage_steps))
assert seen == [(True, 1), (False, 1)], seen
leave_process_group()
"""


def test_zero_advantages_skip_only_when_every_rank_has_them(tiny_model_dir, tmp_path):
    """A rank whose advantages are all zero still runs its forward and backward when another rank's
    are not (DDP's all-reduce needs both), and nobody hangs."""
    script = tmp_path / "zero.py"
    script.write_text(ZERO_ADVANTAGES)
    launch([script, tiny_model_dir, tmp_path / "run"], 2, timeout=120)


# every loss_type's normaliser; scale_rewards=batch and top_entropy_quantile gather across ranks
CASES = {"grpo": {}, "dapo": {}, "dr_grpo": {},
         "variants": {"loss_type": "cispo", "importance_sampling_level": "sequence", "scale_rewards": "batch",
                      "top_entropy_quantile": 0.5}}


def test_two_processes_with_half_the_batch_each_match_one_process(tiny_model_dir, tmp_path):
    script = tmp_path / "one_update.py"
    script.write_text(ONE_UPDATE.replace("CASES_LITERAL", repr(CASES)))
    for world in (1, 2):
        (tmp_path / f"world{world}").mkdir()
        launch([script, tiny_model_dir, tmp_path / f"world{world}"], world)
    for name in CASES:
        one, two = (torch.load(tmp_path / f"world{w}" / f"{name}.pt") for w in (1, 2))
        assert any(g.abs().max() > 0 for g in one["grads"])
        for a, b in zip(one["grads"], two["grads"]):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-7, msg=name)
        # Adam's first step moves each weight by ~lr * g / (|g| + eps): where |g| is near eps (1e-8)
        # the float noise of another summation order (1 process takes the lean forward, DDP the HF
        # one) decides the step, so weights are compared where the gradient is clear of that noise
        checked = 0
        for a, b, g in zip(one["weights"], two["weights"], one["grads"]):
            clear = g.abs() > 1e-6
            torch.testing.assert_close(b[clear], a[clear], rtol=0, atol=1e-5, msg=name)
            checked += int(clear.sum())
        assert checked > 0.5 * sum(g.numel() for g in one["grads"])  # most weights are compared
        assert one["kl"] == pytest.approx(0.0, abs=1e-6) and two["kl"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.slow
def test_r1_grpo_on_two_processes_writes_once_and_resumes(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    args = ["-m", "r1.cli", "grpo", "-c", str(ROOT / "recipes" / "tiny" / "zero.yaml"), f"model={tiny_model_dir}",
            f"output_dir={out}", "prompts_per_step=2", "group_size=4", "max_new_tokens=16", "eval_every=0",
            "save_every=1", "max_steps=2"]
    first = launch(args)
    assert (first.stdout + first.stderr).count("grpo: saved the model to") == 1
    rows = read_log(out / "log.jsonl")
    assert [r["step"] for r in rows] == [1, 2]
    state = torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 2 and state["cursors"] == [4, 4]  # 2 prompts a step on each rank
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint", "completions.jsonl", "final", "grpo_config.yaml",
                                                     "log.jsonl", "tb"]
    # step 1's completions, written once: the main process's 2 prompts with their 4 completions each
    assert [(r["step"], r["group"], r["sample"]) for r in read_log(out / "completions.jsonl")] == [
        (1, group, sample) for group in (0, 1) for sample in range(4)]
    launch(args[:-1] + ["max_steps=3"])
    assert [r["step"] for r in read_log(out / "log.jsonl")] == [1, 2, 3]
    assert torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)["cursors"] == [6, 6]


@pytest.mark.slow
def test_r1_grpo_with_an_fsdp2_sharded_policy_on_two_processes(tiny_model_dir, tmp_path):
    # Every forward of a sharded policy is collective: sampling rounds, generation, the in-training
    # eval and the checkpoint must keep both ranks in step, or this run hangs.
    out = tmp_path / "run"
    args = ["grpo", "-c", str(ROOT / "recipes" / "tiny" / "zero.yaml"), f"model={tiny_model_dir}",
            f"output_dir={out}", "prompts_per_step=2", "group_size=4", "max_new_tokens=16", "beta=0.04",
            "filter_equal_groups=true", "max_sample_rounds=3", "eval_every=2", "eval_problems=4",
            "save_every=1"]
    for max_steps in (2, 4):  # by step 4 a rank redraws after equal-reward groups
        launch([ROOT / "tests" / "fsdp2_cli.py", *args, f"max_steps={max_steps}"], timeout=400, torchrun=True)
    rows = read_log(out / "log.jsonl")
    assert [r["step"] for r in rows] == [0, 1, 2, 3, 4]
    assert any(r["equal_groups_frac"] for r in rows[1:])  # a second sampling round on some rank
    assert "eval/tiny:arithmetic/pass@1" in rows[2] and not any(r.get("nonfinite") for r in rows)
    ckpt = out / "checkpoint"
    assert (ckpt / "optimizer.rank0.pt").is_file() and (ckpt / "optimizer.rank1.pt").is_file()
    state = torch.load(ckpt / "trainer_state.pt", weights_only=False)
    assert state["step"] == 4 and state["optimizer_shards"] == 2 and state["optimizer"] is None
    from r1.models.load import load_model

    final = load_model(out / "final").state_dict()
    base = load_model(tiny_model_dir).state_dict()
    assert sorted(final) == sorted(base) and any(not torch.equal(final[k], base[k]) for k in base)
