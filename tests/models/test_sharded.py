"""Sharded parameters (FSDP2) on 2 CPU processes (gloo): gathering, checkpoints, generation.

accelerate enables FSDP only on accelerators, so here the policy is sharded with torch's own
`fully_shard` on a CPU mesh; r1's code sees the same DTensor parameters as under
`accelerate launch --config_file recipes/accelerate/fsdp.yaml` on GPUs.
"""

import pytest
import torch

from r1.train.checkpoint import STATE_FILE, load_checkpoint
from r1.errors import R1Error
from tests.launch import launch

SCRIPT = r"""
import sys
from pathlib import Path
import torch, torch.distributed as dist
from accelerate import Accelerator
from r1.train.checkpoint import load_checkpoint, save_checkpoint, save_final
from r1.models.load import load_model, load_tokenizer
from r1.models.weights import full_state_dict, sharding
from r1.rollout import HFEngine, SamplingParams
from r1.runtime import leave_process_group
from tests.fsdp2_cli import shard

torch.set_num_threads(1)
model_dir, out = sys.argv[1], Path(sys.argv[2])
acc = Accelerator(cpu=True)
rank, world = acc.process_index, acc.num_processes
assert world == 2 and dist.is_initialized()
tok = load_tokenizer(model_dir)

def sharded_model(path):
    return shard(load_model(path), world)

plain = load_model(model_dir)
model = sharded_model(model_dir)
assert sharding(model) == "fsdp2" and sharding(plain) is None

# 1. gathering: the full weights on the main process only, or on every process
mine = full_state_dict(model)
everywhere = full_state_dict(model, everywhere=True)
expected = plain.state_dict()
assert (len(mine) > 0) == acc.is_main_process
assert sorted(everywhere) == sorted(expected)
for name, t in everywhere.items():
    assert type(t) is torch.Tensor and torch.equal(t, expected[name]), name

# 2. generation: each rank its own prompts (different counts and lengths); synced, so no rank hangs
prompts = [["Q:12+30=", "Q:7+5="], ["Q:1+1="]][rank]
params = SamplingParams(n=2, temperature=0.0, max_new_tokens=[12, 20][rank])
engine = HFEngine(model, tok, batch_size=1)
assert engine.synced and engine.lean is None
got = [[r.token_ids for r in g] for g in engine.generate(prompts, params)]
want = [[r.token_ids for r in g] for g in HFEngine(plain, tok, batch_size=1, lean=False).generate(prompts, params)]
assert got == want, (got, want)

# 3. one update, then a checkpoint: gathered weights, one optimizer shard per rank
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0)
ids = torch.tensor(tok(["Q:12+30=42"] * 2)["input_ids"])
model(input_ids=ids, labels=ids).loss.backward()
opt.step()
sched.step()
trained = full_state_dict(model, everywhere=True)
assert any(not torch.equal(trained[k], expected[k]) for k in expected)
save_checkpoint(acc, out / "checkpoint", model, tok, opt, sched, {"step": 1})
save_final(acc, model, tok, out / "final")
if acc.is_main_process:
    for where in ("checkpoint", "final"):
        reloaded = load_model(out / where).state_dict()
        for name, t in trained.items():
            assert torch.equal(reloaded[name], t), (where, name)
acc.wait_for_everyone()
assert (out / "checkpoint" / f"optimizer.rank{rank}.pt").is_file()

# 4. resume: the weights from the checkpoint, this rank's optimizer shard back in place
again = sharded_model(out / "checkpoint")
opt2 = torch.optim.AdamW(again.parameters(), lr=1e-2)
sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, lambda i: 1.0)
state = load_checkpoint(out / "checkpoint", opt2, sched2, rank, world)
assert state["step"] == 1
before, after = opt.state_dict()["state"], opt2.state_dict()["state"]
for key in before:
    for moment in ("exp_avg", "exp_avg_sq"):
        assert torch.equal(before[key][moment].to_local(), after[key][moment].to_local())
print(f"rank {rank}: sharded OK", flush=True)
leave_process_group()
"""


def test_fsdp2_gather_checkpoint_resume_and_generation_on_two_processes(tiny_model_dir, tmp_path):
    script = tmp_path / "sharded.py"
    script.write_text(SCRIPT)
    done = launch([script, tiny_model_dir, tmp_path / "run"], torchrun=True)
    assert done.stdout.count("sharded OK") == 2


def test_resume_with_another_process_count_is_refused(tmp_path):
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(model.parameters())
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0)
    torch.save({"step": 3, "optimizer": None, "optimizer_shards": 2, "scheduler": sched.state_dict(),
                "rng": {}}, tmp_path / STATE_FILE)
    with pytest.raises(R1Error, match="sharded over 2 processes, this run has 1"):
        load_checkpoint(tmp_path, opt, sched, rank=0, world=1)


def test_lora_weights_for_vllm_are_the_merged_model_and_leave_the_policy_untouched(tiny_model_dir):
    from r1.models.load import load_model
    from r1.models.lora import LoraSettings, apply_lora, merge_lora
    from r1.models.weights import policy_weights

    torch.manual_seed(0)
    model = apply_lora(load_model(tiny_model_dir), LoraSettings(enabled=True, r=4))
    with torch.no_grad():  # non-zero adapters, as after some training
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    weights = policy_weights(model, everywhere=True)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # nothing merged in place
    merged = merge_lora(model).state_dict()
    assert sorted(weights) == sorted(merged)
    base = load_model(tiny_model_dir).state_dict()
    for name, t in merged.items():
        torch.testing.assert_close(weights[name], t, rtol=1e-6, atol=1e-6, msg=name)
    moved = [name for name in merged if not torch.equal(weights[name], base[name])]
    assert len(moved) >= 4 and all("proj" in name for name in moved)  # the adapted projections only


def test_lora_on_sharded_parameters_is_refused_in_one_line(tiny_model_dir):
    from r1.models.load import load_model
    from r1.models.lora import LoraSettings, apply_lora
    from r1.models.weights import check_sharding, sharding

    model = apply_lora(load_model(tiny_model_dir), LoraSettings(enabled=True, r=4))
    assert check_sharding(model) is False
    next(model.parameters()).ds_id = 0  # what a DeepSpeed ZeRO-3 partitioned parameter carries
    assert sharding(model) == "zero3"
    with pytest.raises(R1Error, match="LoRA with sharded parameters"):
        check_sharding(model)
