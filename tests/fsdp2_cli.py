"""`r1` CLI with the policy sharded by FSDP2 on a CPU mesh, for tests under torchrun with gloo.

accelerate enables FSDP on accelerators only; here `Accelerator.prepare` shards the model with torch's
`fully_shard` (each decoder layer, then the root, as recipes/accelerate/fsdp.yaml does) instead of
wrapping it in DDP, so r1's code sees the same DTensor parameters it gets on GPUs.

    python -m torch.distributed.run --nproc_per_node 2 tests/fsdp2_cli.py grpo -c RECIPE key=value ...
"""

import sys

import torch
from accelerate import Accelerator
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard


def shard(model, processes: int):
    """`model` sharded in place over `processes` CPU processes: each decoder layer, then the root."""
    mesh = init_device_mesh("cpu", (processes,))
    for layer in model.model.layers:
        fully_shard(layer, mesh=mesh)
    return fully_shard(model, mesh=mesh)


def prepare(self, model, optimizer):
    shard(model, self.num_processes)
    # fully_shard swapped the parameters for DTensor ones: point the optimizer at those
    optimizer.param_groups[0]["params"] = [p for p in model.parameters() if p.requires_grad]
    return model, optimizer


if __name__ == "__main__":
    Accelerator.prepare = prepare
    torch.set_num_threads(1)
    from r1.cli import app

    app(sys.argv[1:])
