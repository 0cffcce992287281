"""A policy's weights as one plain Hugging Face state dict, whatever holds them: parameters sharded over
processes (FSDP2 DTensors, DeepSpeed ZeRO-3) are gathered, and LoRA adapters are folded into their base
weights. Checkpoints and vLLM weight syncs both start from here.

Gathering is collective: under sharding every process must call `full_state_dict` at the same point,
in the same order (each tensor is all-gathered in turn, so peak extra memory is one full tensor
per process plus the dict being built).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from r1.errors import R1Error
from r1.models.lora import is_lora


def sharding(model) -> str | None:
    """"fsdp2" or "zero3" when the (unwrapped) model's parameters are sharded over processes, else None."""
    for param in model.parameters():
        if hasattr(param, "full_tensor"):
            return "fsdp2"
        if hasattr(param, "ds_id"):
            return "zero3"
    return None


def _is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def full_state_dict(model, everywhere: bool = False) -> dict[str, torch.Tensor]:
    """The unwrapped model's state dict with every sharded tensor gathered in full.

    Collective under sharding (every process calls it). With everywhere=False only the main process
    keeps the tensors (the others get {}), for a checkpoint; vLLM engines on every process need
    everywhere=True. Unsharded models return their own state dict (no copy)."""
    kind = sharding(model)
    if kind is None:
        return model.state_dict()
    keep = everywhere or _is_main()
    out: dict[str, torch.Tensor] = {}
    seen: dict[int, torch.Tensor | None] = {}  # tied weights (lm_head = embed_tokens) gathered once
    for name, tensor in model.state_dict(keep_vars=True).items():
        if id(tensor) not in seen:
            full = _gather(tensor, kind)  # collective: every process takes part, in the same order
            seen[id(tensor)] = full if keep else None
        if keep:
            out[name] = seen[id(tensor)]
    return out


def _gather(tensor: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "fsdp2" and hasattr(tensor, "full_tensor"):
        return tensor.full_tensor().detach()
    if kind == "zero3" and hasattr(tensor, "ds_id"):
        import deepspeed

        with deepspeed.zero.GatheredParameters([tensor]):
            return tensor.data.detach().clone()
    return tensor.detach()


def lora_merged_state_dict(model) -> dict[str, torch.Tensor]:
    """A peft LoRA model's weights as the base model's state dict with each adapter's update added
    (W + B A * alpha / r), computed aside: the model itself, whose base weights are also the reference
    model, is not touched (merging and unmerging in place would drift them by rounding)."""
    from peft.tuners.lora import LoraLayer

    base = model.get_base_model()
    with torch.no_grad():
        out = {name.replace(".base_layer.", "."): t.detach() for name, t in base.state_dict().items()
               if "lora_" not in name}
        for name, module in base.named_modules():
            if isinstance(module, LoraLayer) and not module.merged:
                weight = module.get_base_layer().weight
                delta = sum(module.get_delta_weight(a) for a in module.active_adapters
                            if a in module.lora_A)
                out[f"{name}.weight"] = (weight + delta).to(weight.dtype)
    return out


def check_sharding(model) -> bool:
    """Whether the (unwrapped, prepared) model is sharded; R1Error for what r1 does not gather: FSDP1's
    flat parameters, and LoRA adapters on sharded weights (their trainable state is small: DDP suits
    them). Trainers call it once, in setup."""
    if any(type(module).__name__ == "FullyShardedDataParallel" for module in model.modules()):
        raise R1Error("fsdp: FSDP1 is not supported; set fsdp_version: 2 in the accelerate config "
                      "(recipes/accelerate/fsdp.yaml)")
    sharded = sharding(model) is not None
    if sharded and is_lora(model):
        raise R1Error("lora: LoRA with sharded parameters (FSDP/ZeRO-3) is not supported; the adapters are "
                      "small: use DDP (recipes/accelerate/ddp.yaml)")
    return sharded


def policy_weights(model, everywhere: bool = False) -> dict[str, torch.Tensor]:
    """The policy as a plain HF state dict: gathered if sharded (collective, see full_state_dict), or
    with LoRA adapters folded in (LoRA is never sharded: check_sharding)."""
    return lora_merged_state_dict(model) if is_lora(model) else full_state_dict(model, everywhere)
